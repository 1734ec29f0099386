using TeamsMediaBridge.Platform;
using TeamsMediaBridge.Platform.Fake;
using TeamsMediaBridge.Protocol;

namespace TeamsMediaBridge.Tests;

/// <summary>The fake platform's echo round trip (FakeMediaPlatformOptions.MeasureEcho): marks, matching, exact readings.</summary>
public sealed class FakeEchoLatencyTests
{
    private sealed class FirstFrame : IPlatformSessionEvents
    {
        private readonly TaskCompletionSource<byte[]> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public Task<byte[]> First => _first.Task;
        public void OnAudioReceived(in ReceivedAudio audio) => _first.TrySetResult(audio.Pcm.ToArray());
        public void OnSendStatusChanged(SendStatus status) { }
        public void OnDominantSpeakerChanged(uint speakerId) { }
        public void OnToneReceived(Tone tone, long timestampTicks) { }
        public void OnMediaStreamFailure(string reason) { }
    }

    private static long UnixMicroseconds() => (DateTimeOffset.UtcNow.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    [Fact]
    public void A_mark_reads_back_and_an_unmarked_frame_reads_none()
    {
        var pcm = Frames.Pcm(7);
        EchoWatermark.Write(pcm, 0xBEEF);
        Assert.Equal(0xBEEF, EchoWatermark.Read(pcm));
        EchoWatermark.Write(pcm, 70_000); // 16 bits kept
        Assert.Equal(70_000 & 0xFFFF, EchoWatermark.Read(pcm));
        Assert.Equal(-1, EchoWatermark.Read(new byte[AudioFrameFormat.BytesPerFrame])); // silence: bits equal their check
        Assert.Equal(-1, EchoWatermark.Read(new byte[10]));
    }

    [Fact]
    public void Percentiles_are_exact_microseconds_and_the_max_is_exact_past_the_exact_range()
    {
        var histogram = new MicrosecondHistogram();
        for (int us = 1; us <= 100; us++) histogram.Record(us);
        histogram.Record(-5); // two clocks: counted as 0
        histogram.Record(MicrosecondHistogram.MaxExactUs + 1234);
        var s = histogram.Summary();
        Assert.Equal(102, s.Count);
        Assert.Equal(50, s.P50Us); // the 51st of 0, 1..100, 501234 (ranks ceil(q n), as the worker's probe)
        Assert.Equal(50.5 * 100 / 102 + (MicrosecondHistogram.MaxExactUs + 1234) / 102.0, s.MeanUs, 0.1);
        Assert.Equal(100, s.P99Us);
        Assert.Equal(MicrosecondHistogram.MaxExactUs + 1234, s.MaxUs);
        Assert.Equal(1, s.AboveExactUs);
        histogram.Reset();
        Assert.Equal(0, histogram.Summary().Count);
    }

    [Fact]
    public async Task A_source_frame_echoed_back_is_matched_at_arrival_and_when_played_once()
    {
        await using var platform = new FakeMediaPlatform(new FakeMediaPlatformOptions { SendActiveDelay = TimeSpan.Zero, MeasureEcho = true, RecordFrames = 0 });
        await platform.InitializeAsync(CancellationToken.None);
        var events = new FirstFrame();
        var session = (FakePlatformSession)await platform.CreateSessionAsync(
            new PlatformSessionRequest("echo", Guid.NewGuid(), AudioDirection.SendRecv, false), events, CancellationToken.None);
        byte[] heard = await events.First.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0, EchoWatermark.Read(heard)); // the session's first frame
        await SessionTests.WaitUntil(() => session.IsSendActive, TimeSpan.FromSeconds(5));
        var stats = platform.EchoStats!;

        session.OnRenderFrameQueued(heard, UnixMicroseconds());
        session.OnRenderFrameQueued(heard, UnixMicroseconds()); // the same audio again: not a second echo
        Assert.True(session.Send(heard, platform.GetTimestampTicks()));
        Assert.True(session.Send(heard, platform.GetTimestampTicks()));

        var arrival = stats.RoundTripArrival.Summary();
        var played = stats.RoundTripPlayed.Summary();
        Assert.Equal(1, arrival.Count);
        Assert.Equal(1, played.Count);
        Assert.Equal(1, stats.RenderQueueWait.Summary().Count);
        Assert.Equal(2, stats.BotToHost.Summary().Count); // per frame queued, matched or not
        Assert.Equal(1, stats.ArrivalsRepeated);
        Assert.Equal(0, stats.ArrivalsUnmatched);
        Assert.True(played.MaxUs >= arrival.MaxUs, $"played {played.MaxUs} us before it arrived {arrival.MaxUs} us");

        stats.Reset();
        Assert.Equal(0, stats.RoundTripArrival.Summary().Count);
        Assert.Equal(0, stats.ArrivalsRepeated);
    }

    [Fact]
    public async Task Render_frames_without_a_mark_of_this_session_are_counted_and_not_timed()
    {
        await using var platform = new FakeMediaPlatform(new FakeMediaPlatformOptions { MeasureEcho = true, RecordFrames = 0 });
        await platform.InitializeAsync(CancellationToken.None);
        var session = (FakePlatformSession)await platform.CreateSessionAsync(
            new PlatformSessionRequest("unknown", Guid.NewGuid(), AudioDirection.SendRecv, false), new FirstFrame(), CancellationToken.None);
        session.RaiseSendStatus(SendStatus.Active);
        var stats = platform.EchoStats!;

        var unknown = Frames.Pcm(3);
        EchoWatermark.Write(unknown, 60_000); // a frame number this session reaches after 20 minutes
        var unmarked = new byte[AudioFrameFormat.BytesPerFrame];
        foreach (var frame in new[] { unknown, unmarked })
        {
            session.OnRenderFrameQueued(frame, UnixMicroseconds());
            Assert.True(session.Send(frame, platform.GetTimestampTicks()));
        }

        Assert.Equal(2, stats.ArrivalsUnmatched);
        Assert.Equal(0, stats.RoundTripArrival.Summary().Count);
        Assert.Equal(0, stats.RoundTripPlayed.Summary().Count);
        Assert.Equal(0, stats.RenderQueueWait.Summary().Count);
    }

    [Fact]
    public async Task Without_MeasureEcho_the_source_audio_is_unmarked_and_nothing_is_measured()
    {
        await using var platform = new FakeMediaPlatform(new FakeMediaPlatformOptions { SendActiveDelay = TimeSpan.Zero, RecordFrames = 0 });
        await platform.InitializeAsync(CancellationToken.None);
        var events = new FirstFrame();
        var session = (FakePlatformSession)await platform.CreateSessionAsync(
            new PlatformSessionRequest("plain", Guid.NewGuid(), AudioDirection.SendRecv, false), events, CancellationToken.None);
        byte[] heard = await events.First.WaitAsync(TimeSpan.FromSeconds(5));
        var expected = new byte[AudioFrameFormat.BytesPerFrame];
        new ToneSource().Read(expected);
        Assert.Equal(expected, heard);
        Assert.Null(platform.EchoStats);
        session.OnRenderFrameQueued(heard, UnixMicroseconds()); // a no-op
    }

    [Fact]
    public async Task Through_the_bridge_every_echoed_frame_is_matched_at_arrival_and_played()
    {
        await using var bridge = await TestBridge.StartAsync(new FakeMediaPlatformOptions { SendActiveDelay = TimeSpan.FromMilliseconds(40), MeasureEcho = true });
        await using var client = await bridge.ConnectAsync();
        var created = await client.CreateSessionAsync("echo");
        await client.ExpectAsync(e => e.BodyCase == Envelope.BodyOneofCase.SendStatus && e.SendStatus.Status == SendStatus.Active);
        var stats = bridge.Platform.EchoStats!;

        int echoed = 0;
        uint sequence = 0;
        var until = DateTime.UtcNow.AddMilliseconds(400);
        while (DateTime.UtcNow < until)
        {
            var batch = await client.ExpectAsync(e => e.BodyCase == Envelope.BodyOneofCase.Frames);
            foreach (var frame in batch.Frames.Frames.Where(f => f.Session == created.Session))
            {
                echoed++;
                await client.SendAsync(Frames.Batch(Frames.Render(created.Session, sequence++, frame.Pcm.ToByteArray())));
            }
        }
        Assert.True(echoed > 0);
        // No trims (the echo keeps the queue short) nor overflow: every echo is played.
        await SessionTests.WaitUntil(() => stats.RoundTripPlayed.Summary().Count >= echoed, TimeSpan.FromSeconds(5));
        Assert.Equal(echoed, stats.RoundTripArrival.Summary().Count);
        Assert.Equal(echoed, stats.RoundTripPlayed.Summary().Count);
        Assert.Equal(echoed, stats.RenderQueueWait.Summary().Count);
        Assert.Equal(echoed, stats.BotToHost.Summary().Count);
        Assert.True(stats.HostSend.Summary().Count >= echoed); // every source frame forwarded, echoed or not
        Assert.Equal(0, stats.ArrivalsUnmatched);
        // Each frame is played after it arrived, so every percentile of the played round trip is at least the arrival's.
        var arrival = stats.RoundTripArrival.Summary();
        var played = stats.RoundTripPlayed.Summary();
        Assert.True(played.P50Us >= arrival.P50Us && played.MaxUs >= arrival.MaxUs, $"arrival {arrival}, played {played}");
    }

    [Fact]
    public void Buffer_timestamps_follow_the_earliest_reading_of_the_clock_origin_until_buffers_go_out()
    {
        const long T = AudioFrameFormat.TicksPerFrame;
        var stamps = new TickTimestamps();
        // The first tick's clock was read 5 ms late (the thread was preempted): origin 1_000_000 + 50_000.
        Assert.Equal(1_050_000, stamps.OnTick(0, 1_050_000, 0, settling: true));
        // The next tick reads it on time: its buffers carry the true deadline, not one 5 ms ahead.
        Assert.Equal(1_000_000 + T, stamps.OnTick(1, 1_000_000 + T + 30, 30, settling: true));
        // A later, late reading does not move it back up.
        Assert.Equal(1_000_000 + (2 * T), stamps.OnTick(2, 1_000_000 + (2 * T) + 90_000, 0, settling: true));
        // Once buffers go out the origin stays: their timestamps are whole frames apart.
        Assert.Equal(1_000_000 + (3 * T), stamps.OnTick(3, (3 * T) + 100, 100, settling: false));
    }
}
