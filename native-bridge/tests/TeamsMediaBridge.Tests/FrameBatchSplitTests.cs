using Google.Protobuf;
using TeamsMediaBridge.Bridge;
using TeamsMediaBridge.Platform.Fake;
using TeamsMediaBridge.Protocol;

namespace TeamsMediaBridge.Tests;

/// <summary>
/// Protocol rule: a FrameBatch message is at most 256 KiB. A tick that runs late holds several
/// ticks' frames of every session; the host splits them over several messages instead of one
/// that the worker (1 MiB limit) would refuse whole.
/// </summary>
public sealed class FrameBatchSplitTests
{
    /// <summary>A received frame as the host forwards it: 640 bytes, two speakers, a DateTime-era timestamp.</summary>
    private static AudioFrame Source(uint session, uint sequence) => new()
    {
        Session = session,
        Context = MediaContext.AudioSource,
        Sequence = sequence,
        TimestampTicks = 638_999_999_999_800_000 + sequence * 200_000L,
        Pcm = ByteString.CopyFrom(Frames.Pcm((int)(session + sequence))),
        ActiveSpeakers = { 1001, session },
    };

    [Fact]
    public void Limits_match_the_worker_defaults()
    {
        Assert.Equal(256 * 1024, ProtocolInfo.MaxFrameBatchBytes);
        Assert.Equal(1024 * 1024, ProtocolInfo.DefaultMaxMessageBytes);
        var options = new BridgeOptions { Secret = TestBridge.Secret };
        Assert.Equal(ProtocolInfo.DefaultMaxMessageBytes, options.MaxMessageBytes);
        Assert.Equal(ProtocolInfo.MaxFrameBatchBytes, options.MaxFrameBatchBytes);
        Assert.Throws<ArgumentException>(() => new BridgeOptions { Secret = TestBridge.Secret, MaxFrameBatchBytes = 512 * 1024 }.Validate());
    }

    [Fact]
    public void A_late_tick_of_1000_sessions_packs_into_messages_under_256_KiB_with_every_frame_in_order()
    {
        // Three ticks' worth (a tick 40 ms late) of 1000 sessions: about 2 MB.
        var frames = new List<AudioFrame>();
        for (uint tick = 0; tick < 3; tick++)
            for (uint session = 1; session <= 1000; session++) frames.Add(Source(session, 100 + tick));

        var messages = new List<Envelope>();
        int start = 0;
        while (start < frames.Count)
        {
            int run = FrameBatchPacker.NextRun(frames, start, ProtocolInfo.MaxFrameBatchBytes);
            Assert.True(run > 0);
            var batch = new FrameBatch { SentAtUs = long.MaxValue }; // the widest sent_at_us
            batch.Frames.AddRange(frames.Skip(start).Take(run));
            messages.Add(new Envelope { Frames = batch });
            start += run;
        }

        long total = messages.Sum(m => (long)m.CalculateSize());
        Assert.True(total > 2_000_000, $"{total} bytes");
        Assert.InRange(messages.Count, (int)Math.Ceiling(total / (double)ProtocolInfo.MaxFrameBatchBytes), 10);
        foreach (var message in messages) Assert.True(message.CalculateSize() <= ProtocolInfo.MaxFrameBatchBytes, $"{message.CalculateSize()} bytes");
        // Full messages are full: the packer leaves less than one frame of room.
        foreach (var message in messages.SkipLast(1))
            Assert.True(message.CalculateSize() > ProtocolInfo.MaxFrameBatchBytes - 800, $"{message.CalculateSize()} bytes");
        // What the worker reads back: every frame once, in order, exactly (the timestamps too).
        var decoded = messages.SelectMany(m => Envelope.Parser.ParseFrom(m.ToByteArray()).Frames.Frames).ToList();
        Assert.Equal(frames, decoded);
    }

    [Fact]
    public void A_single_frame_always_makes_a_message()
    {
        var frames = new List<AudioFrame> { Source(1, 1), Source(2, 1) };
        Assert.Equal(1, FrameBatchPacker.NextRun(frames, 0, 100));
        Assert.Equal(1, FrameBatchPacker.NextRun(frames, 1, 100));
        Assert.Equal(2, FrameBatchPacker.NextRun(frames, 0, 4096));
    }

    [Fact]
    public async Task A_tick_that_runs_late_with_100_sessions_goes_out_in_several_messages_under_the_limit_and_nothing_is_lost()
    {
        int stall = 0;
        await using var bridge = await TestBridge.StartAsync(new FakeMediaPlatformOptions
        {
            SendActiveDelay = TimeSpan.FromMilliseconds(40),
            // Runs on the bridge's clock thread: holding it makes that tick late, as a loaded host does.
            OnSent = (_, _, _, _) =>
            {
                if (Interlocked.Exchange(ref stall, 0) == 1) Thread.Sleep(200);
            },
        });
        await using var client = await bridge.ConnectAsync();
        const int sessions = 100;
        for (int i = 0; i < sessions; i++) await client.CreateSessionAsync($"late-{i}");

        client.Drain();
        Interlocked.Exchange(ref stall, 1);
        // A render frame played makes the tick late (once send is ACTIVE; until then it is discarded).
        var collecting = client.CollectAsync(TimeSpan.FromMilliseconds(1500));
        for (uint sequence = 1; Volatile.Read(ref stall) == 1 && sequence < 100; sequence++)
        {
            await client.SendAsync(Frames.Batch(Frames.Render(1, sequence, Frames.Pcm(1))));
            await Task.Delay(40);
        }
        Assert.Equal(0, Volatile.Read(ref stall));
        var received = await collecting;

        var batches = received.Where(r => r.Envelope.BodyCase == Envelope.BodyOneofCase.Frames).Select(r => r.Envelope).ToList();
        Assert.NotEmpty(batches);
        foreach (var batch in batches) Assert.True(batch.CalculateSize() <= ProtocolInfo.MaxFrameBatchBytes, $"{batch.CalculateSize()} bytes");
        // The late tick: about ten ticks of 100 sessions (~660 KB) in several messages with one send time.
        var lateTick = batches.GroupBy(b => b.Frames.SentAtUs).MaxBy(g => g.Sum(b => b.Frames.Frames.Count))!.ToList();
        int lateFrames = lateTick.Sum(b => b.Frames.Frames.Count);
        Assert.True(lateTick.Count >= 2, $"the largest tick took {lateTick.Count} message(s), {lateFrames} frames");
        Assert.True(lateFrames > 4 * sessions, $"{lateFrames} frames");
        Assert.True(bridge.Server.Metrics.TicksSplit.Value >= 1);
        // Its messages hold every session's frames of the stall, in order, none missing or repeated.
        var bySession = lateTick.SelectMany(b => b.Frames.Frames).GroupBy(f => f.Session).ToList();
        Assert.Equal(sessions, bySession.Count);
        foreach (var frames in bySession)
        {
            var sequences = frames.Select(f => f.Sequence).ToList();
            Assert.True(sequences.Count >= 4, $"session {frames.Key}: {sequences.Count} frames");
            for (int i = 1; i < sequences.Count; i++)
                Assert.True(sequences[i - 1] + 1 == sequences[i], $"session {frames.Key}: {sequences[i - 1]} then {sequences[i]}");
        }
    }
}
