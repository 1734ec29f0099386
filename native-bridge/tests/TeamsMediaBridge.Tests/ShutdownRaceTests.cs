using TeamsMediaBridge.Protocol;

namespace TeamsMediaBridge.Tests;

/// <summary>A connection shut down while a request of its own is still being handled.</summary>
public sealed class ShutdownRaceTests
{
    [Fact]
    public async Task A_session_still_being_created_when_its_connection_is_replaced_is_kept_and_resumable()
    {
        GatedPlatform gate = null!;
        await using var bridge = await TestBridge.StartAsync(
            tweak: o => new() { Url = o.Url, Secret = o.Secret, ReconnectGrace = TimeSpan.FromSeconds(30) },
            wrap: fake => gate = new GatedPlatform(fake));
        await using var first = await bridge.ConnectAsync();
        var mediaSessionId = Guid.NewGuid().ToString();
        await first.SendAsync(new Envelope
        {
            RequestId = 5,
            CreateSession = new CreateSession { CallId = "slow", MediaSessionId = mediaSessionId, Direction = AudioDirection.SendRecv },
        });
        await gate.CreateEntered.WaitAsync(TimeSpan.FromSeconds(5));

        // The worker reconnects while the platform is still creating: the old connection's
        // shutdown waits for the create, whose session must then be kept like the others.
        await using var second = await TestClient.ConnectAsync(bridge.Url, TestBridge.Secret);
        await Task.Delay(200); // let the shutdown start (if it has not, the create simply finishes first)
        gate.Open();
        await second.HandshakeAsync(); // answered once the old connection's sessions are parked
        var platformSession = Assert.Single(bridge.Platform.Sessions);
        Assert.False(platformSession.IsEnded);
        Assert.Equal(1, bridge.Server.ParkedSessions);

        var id = second.NextRequestId();
        await second.SendAsync(new Envelope
        {
            RequestId = id,
            CreateSession = new CreateSession { CallId = "slow", MediaSessionId = mediaSessionId, Direction = AudioDirection.SendRecv },
        });
        var resumed = (await second.ExpectAsync(e => e.RequestId == id)).SessionCreated;
        Assert.NotNull(resumed);
        Assert.Equal(mediaSessionId, resumed.MediaSessionId);
        Assert.Same(platformSession, Assert.Single(bridge.Platform.Sessions));
        Assert.Equal(1, bridge.Server.Metrics.SessionsResumed.Value);
    }

    [Fact]
    public async Task A_session_still_being_created_when_its_connection_is_lost_is_kept_and_resumed_by_the_retried_CreateSession()
    {
        // The proto's resume path for creations in flight: the worker proposed the media session
        // id, its connection dropped (no close frame) before SessionCreated, and it sends the same
        // CreateSession again on its next connection. The host must hand it the session the
        // platform was creating, not create a second one under the same id.
        GatedPlatform gate = null!;
        await using var bridge = await TestBridge.StartAsync(
            tweak: o => new() { Url = o.Url, Secret = o.Secret, ReconnectGrace = TimeSpan.FromSeconds(30) },
            wrap: fake => gate = new GatedPlatform(fake));
        var first = await bridge.ConnectAsync();
        var mediaSessionId = Guid.NewGuid().ToString();
        var request = new CreateSession { CallId = "in-flight", MediaSessionId = mediaSessionId, Direction = AudioDirection.SendRecv };
        await first.SendAsync(new Envelope { RequestId = 3, CreateSession = request });
        await gate.CreateEntered.WaitAsync(TimeSpan.FromSeconds(5));
        first.Abort();
        await using var second = await TestClient.ConnectAsync(bridge.Url, TestBridge.Secret);
        await Task.Delay(200); // the host notices the lost socket while the platform still creates
        gate.Open();
        await second.HandshakeAsync();
        var id = second.NextRequestId();
        await second.SendAsync(new Envelope { RequestId = id, CreateSession = request });
        var resumed = (await second.ExpectAsync(e => e.RequestId == id)).SessionCreated;
        Assert.NotNull(resumed);
        Assert.Equal(mediaSessionId, resumed.MediaSessionId);
        Assert.Single(bridge.Platform.Sessions);
        Assert.Equal(1, bridge.Server.Metrics.SessionsResumed.Value);
        await first.DisposeAsync();
    }

    [Fact]
    public async Task A_handshake_overtaken_by_a_shutdown_leaves_no_clock_running()
    {
        // The first connection's handshake is held on its log line, just before the clock would
        // start, while the host stops; then it goes on. Before, it started a clock that nothing
        // stopped: a thread ticking every 20 ms for the rest of the process.
        var atHandshake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var release = new ManualResetEventSlim();
        var logs = new WatchedLogs(line =>
        {
            if (!line.StartsWith("bridge connection c1: worker", StringComparison.Ordinal)) return;
            atHandshake.TrySetResult();
            release.Wait(TimeSpan.FromSeconds(10));
        });
        await using var bridge = await TestBridge.StartAsync(logs: logs);
        await using var client = await TestClient.ConnectAsync(bridge.Url, TestBridge.Secret);
        await client.SendAsync(new Envelope { RequestId = 1, Hello = new Hello { ProtocolVersion = 1 } });
        await atHandshake.Task.WaitAsync(TimeSpan.FromSeconds(5));

        // StopAsync marks the connection as closing before it returns its task (nothing before that awaits).
        var stop = bridge.Server.StopAsync(CancellationToken.None);
        release.Set();
        await stop.WaitAsync(TimeSpan.FromSeconds(10));

        var ticks = bridge.Server.Metrics.TickLateness.Count;
        await Task.Delay(300);
        Assert.Equal(ticks, bridge.Server.Metrics.TickLateness.Count);
        Assert.Equal(0, ticks);
    }
}
