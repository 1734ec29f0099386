using System.Net.WebSockets;
using TeamsMediaBridge.Protocol;

namespace TeamsMediaBridge.Tests;

/// <summary>A worker that floods, stops reading or breaks the rules cannot grow the host's memory or its answers without bound.</summary>
public sealed class MisbehavingWorkerTests
{
    [Fact]
    public async Task A_batch_of_refused_frames_gets_one_Error_per_code_with_the_count()
    {
        await using var bridge = await TestBridge.StartAsync();
        await using var client = await bridge.ConnectAsync();
        var created = await client.CreateSessionAsync("one");
        var batch = Frames.Batch();
        for (int i = 0; i < 20_000; i++) batch.Frames.Frames.Add(new AudioFrame { Session = 999 });
        for (uint i = 0; i < 5; i++) batch.Frames.Frames.Add(Frames.Render(created.Session, i, new byte[10]));
        await client.SendAsync(batch);
        await client.SendAsync(new Envelope { Ping = new Ping { Id = 7 } });

        // Whatever the batch caused comes before the Pong.
        var errors = new List<Error>();
        while (true)
        {
            var next = await client.ExpectAsync(e => e.BodyCase is Envelope.BodyOneofCase.Error or Envelope.BodyOneofCase.Pong);
            if (next.BodyCase == Envelope.BodyOneofCase.Pong) break;
            errors.Add(next.Error);
        }
        Assert.Equal(2, errors.Count);
        var unknown = Assert.Single(errors, e => e.Code == ErrorCode.UnknownSession);
        Assert.Equal(999u, unknown.Session);
        Assert.Contains("20000 frames", unknown.Message);
        Assert.Contains("unknown session 999", unknown.Message);
        var bad = Assert.Single(errors, e => e.Code == ErrorCode.BadFrame);
        Assert.Equal(created.Session, bad.Session);
        Assert.Contains("5 frames", bad.Message);
        Assert.Contains("640 bytes", bad.Message);
        // Every refused frame is still counted.
        Assert.Equal(20_000, bridge.Server.Metrics.RenderRejectedUnknownSession.Value);
        Assert.Equal(5, bridge.Server.Metrics.RenderRejectedBadFrame.Value);
    }

    [Fact]
    public async Task A_worker_that_stops_reading_is_closed_with_1008_and_its_sessions_are_kept()
    {
        await using var bridge = await TestBridge.StartAsync(tweak: o => new()
        {
            Url = o.Url, Secret = o.Secret, MaxPendingControlBytes = 64 * 1024, ReconnectGrace = TimeSpan.FromSeconds(30),
            // The worker below reads again only after the test's own steps: on a busy machine those
            // took longer than the default 2 s, and the host rightly aborted instead (close status null).
            CloseTimeout = TimeSpan.FromSeconds(30),
        });
        await using var client = await TestClient.ConnectAsync(bridge.Url, TestBridge.Secret, receiveBufferBytes: 4096);
        await client.HandshakeAsync();
        var created = await client.CreateSessionAsync("stuck");
        var platformSession = Assert.Single(bridge.Platform.Sessions);
        var metrics = bridge.Server.Metrics;

        // Each mark is answered with a MarkPlayed as long as its name; unread, they pile up.
        client.PauseReading();
        var mark = new Envelope { Mark = new PlayoutMark { Session = created.Session, Name = new string('m', 256) } };
        try
        {
            for (int i = 0; i < 100_000 && metrics.ConnectionsControlQueueFull.Value == 0; i++) await client.SendAsync(mark);
        }
        catch (WebSocketException)
        {
            // The host closed the connection under our feet: what the test waits for below.
        }
        await SessionTests.WaitUntil(() => bridge.Server.ParkedSessions == 1, TimeSpan.FromSeconds(5));
        Assert.Equal(1, metrics.ConnectionsControlQueueFull.Value);
        Assert.True(metrics.ControlDroppedQueueFull.Value >= 1);
        Assert.False(platformSession.IsEnded);

        // A worker that reads again gets what was queued, then the close frame, even when it comes
        // back seconds later (a busy machine, a long pause): the host waits up to CloseTimeout.
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        client.ResumeReading();
        await client.Closed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, client.CloseStatus);

        // The session was kept, not ended: the worker resumes it.
        await using var again = await bridge.ConnectAsync();
        var resumed = await again.CreateSessionAsync("stuck", mediaSessionId: created.MediaSessionId);
        Assert.Equal(created.AudioRenderContextId, resumed.AudioRenderContextId);
        Assert.Same(platformSession, Assert.Single(bridge.Platform.Sessions));
        Assert.Equal(1, metrics.SessionsResumed.Value);
    }

    [Fact]
    public async Task Marks_past_the_per_session_limit_are_answered_at_once_as_not_played()
    {
        await using var bridge = await TestBridge.StartAsync(tweak: o => new()
        {
            Url = o.Url, Secret = o.Secret, MaxPendingMarks = 4, RenderQueueFrames = 500, RenderTargetFrames = 0,
        });
        await using var client = await bridge.ConnectAsync();
        var created = await client.CreateSessionAsync("on-hold");
        await client.ExpectAsync(e => e.BodyCase == Envelope.BodyOneofCase.SendStatus);
        var platformSession = Assert.Single(bridge.Platform.Sessions);

        // 10 s of audio queued, then sending stops (a hold): no queued frame leaves, no mark is reached.
        var batch = Frames.Batch();
        for (uint i = 0; i < 500; i++) batch.Frames.Frames.Add(Frames.Render(created.Session, i, Frames.Pcm((int)i)));
        await client.SendAsync(batch);
        await SessionTests.WaitUntil(() => bridge.Server.Metrics.RenderAccepted.Value == 500, TimeSpan.FromSeconds(3));
        platformSession.RaiseSendStatus(SendStatus.Inactive);
        await client.ExpectAsync(e => e.BodyCase == Envelope.BodyOneofCase.SendStatus && e.SendStatus.Status == SendStatus.Inactive);

        for (int i = 0; i < 10; i++) await client.SendAsync(new Envelope { Mark = new PlayoutMark { Session = created.Session, Name = $"m{i}" } });
        var refused = new List<string>();
        for (int i = 0; i < 6; i++)
        {
            var answer = await client.ExpectAsync(e => e.BodyCase == Envelope.BodyOneofCase.MarkPlayed);
            Assert.False(answer.MarkPlayed.Played);
            refused.Add(answer.MarkPlayed.Name);
        }
        Assert.Equal(["m4", "m5", "m6", "m7", "m8", "m9"], refused);
        Assert.Equal(6, bridge.Server.Metrics.MarksRefused.Value);

        // The four held ones are still pending: a clear answers them.
        await client.SendAsync(new Envelope { Clear = new ClearPlayout { Session = created.Session } });
        var cleared = new List<string>();
        for (int i = 0; i < 4; i++) cleared.Add((await client.ExpectAsync(e => e.BodyCase == Envelope.BodyOneofCase.MarkPlayed)).MarkPlayed.Name);
        Assert.Equal(["m0", "m1", "m2", "m3"], cleared);
    }
}
