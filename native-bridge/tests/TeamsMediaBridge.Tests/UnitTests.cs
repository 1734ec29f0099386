using System.Buffers.Binary;
using System.Diagnostics;
using TeamsMediaBridge.Bridge;
using TeamsMediaBridge.Platform;
using TeamsMediaBridge.Platform.Fake;
using TeamsMediaBridge.Timing;

namespace TeamsMediaBridge.Tests;

public sealed class RenderQueueTests
{
    [Fact]
    public void Frames_come_out_in_order_and_a_full_queue_refuses_the_newest()
    {
        var queue = new RenderQueue(3);
        for (int i = 0; i < 3; i++) Assert.True(queue.Enqueue(Frames.Pcm(i)));
        Assert.False(queue.Enqueue(Frames.Pcm(9)));
        var into = new byte[640];
        for (int i = 0; i < 3; i++)
        {
            Assert.True(queue.TryDequeue(into));
            Assert.Equal(Frames.Pcm(i), into);
        }
        Assert.False(queue.TryDequeue(into));
    }

    [Fact]
    public void A_mark_is_reached_when_every_frame_before_it_left_and_clear_returns_pending_marks()
    {
        var queue = new RenderQueue(10);
        var into = new byte[640];
        queue.AddMark("empty"); // nothing before it: reached at once
        Assert.True(queue.TryTakeReachedMark(out var name));
        Assert.Equal("empty", name);

        queue.Enqueue(Frames.Pcm(1));
        queue.Enqueue(Frames.Pcm(2));
        queue.AddMark("after-2");
        queue.Enqueue(Frames.Pcm(3));
        queue.AddMark("after-3");
        queue.TryDequeue(into);
        Assert.False(queue.TryTakeReachedMark(out _));
        queue.TryDequeue(into);
        Assert.True(queue.TryTakeReachedMark(out name));
        Assert.Equal("after-2", name);
        Assert.False(queue.TryTakeReachedMark(out _));

        var unplayed = new List<string>();
        Assert.Equal(1, queue.Clear(unplayed));
        Assert.Equal(["after-3"], unplayed);
        Assert.Equal(0, queue.Count);
        Assert.Equal(0, queue.PendingMarks);

        // After a clear, positions still line up for new frames and marks.
        queue.Enqueue(Frames.Pcm(4));
        queue.AddMark("after-4");
        Assert.False(queue.TryTakeReachedMark(out _));
        queue.TryDequeue(into);
        Assert.True(queue.TryTakeReachedMark(out name));
        Assert.Equal("after-4", name);
    }

    [Fact]
    public void Pending_marks_are_bounded_and_room_comes_back_as_marks_are_reached_or_cleared()
    {
        var queue = new RenderQueue(10, maxMarks: 2);
        var into = new byte[640];
        queue.Enqueue(Frames.Pcm(1));
        Assert.True(queue.AddMark("a"));
        Assert.True(queue.AddMark("b"));
        Assert.False(queue.AddMark("c"));
        Assert.Equal(2, queue.PendingMarks);
        queue.TryDequeue(into);
        Assert.True(queue.TryTakeReachedMark(out _));
        Assert.True(queue.AddMark("d"));
        Assert.False(queue.AddMark("e"));
        var unplayed = new List<string>();
        queue.Clear(unplayed);
        Assert.Equal(["b", "d"], unplayed);
        Assert.True(queue.AddMark("f"));
    }
}

public sealed class OutboundQueueTests
{
    [Fact]
    public void Control_messages_past_the_byte_bound_turn_the_queue_full_for_good()
    {
        var queue = new OutboundQueue(maxPendingTicks: 10, maxControlBytes: 64 * 1024);
        var mark = new Protocol.Envelope { MarkPlayed = new Protocol.MarkPlayed { Session = 1, Name = new string('m', 1000) } };
        int queued = 0;
        while (queued < 1000 && queue.Enqueue(mark) == EnqueueResult.Queued) queued++;
        // 1000-odd bytes plus the per-message overhead each: about 60 fit in 64 KiB.
        Assert.InRange(queued, 50, 64);
        Assert.True(queue.IsFull);
        Assert.True(queue.PendingControlBytes <= 64 * 1024);
        // Once full, nothing more goes in, however small: a hole in the worker's answers is worse than a closed connection.
        Assert.Equal(EnqueueResult.Full, queue.Enqueue(new Protocol.Envelope { Ping = new Protocol.Ping { Id = 1 } }));
        Assert.True(queue.TryReserveTick());
        Assert.False(queue.EnqueueTickBatch(new Protocol.Envelope { Frames = new Protocol.FrameBatch() }, endsTick: true));
        Assert.Equal(0, queue.PendingTicks);
    }

    [Fact]
    public void A_completed_queue_refuses_control_messages_as_closed()
    {
        var queue = new OutboundQueue(maxPendingTicks: 10, maxControlBytes: 64 * 1024);
        queue.Complete();
        Assert.Equal(EnqueueResult.Closed, queue.Enqueue(new Protocol.Envelope { Ping = new Protocol.Ping { Id = 1 } }));
        Assert.Equal(0, queue.PendingControlBytes);
    }
}

public sealed class FrameRefusalsTests
{
    [Fact]
    public void One_description_per_batch_with_the_first_reason_the_count_and_the_session_when_there_is_one()
    {
        var refusals = new FrameRefusals();
        refusals.Add(3, "frame for unknown session 3");
        Assert.Equal("frame for unknown session 3", refusals.Describe());
        Assert.Equal(3u, refusals.Session);
        refusals.Add(3, null);
        Assert.Equal("2 frames of this FrameBatch refused; the first: frame for unknown session 3", refusals.Describe());
        refusals.Add(4, null);
        Assert.Equal(0u, refusals.Session);
        Assert.Contains("3 frames", refusals.Describe());
        Assert.Contains("several sessions", refusals.Describe());
        refusals.Clear();
        Assert.Equal(0, refusals.Count);
    }
}

public sealed class LogRateLimiterTests
{
    [Fact]
    public void A_few_lines_per_interval_pass_and_the_next_one_says_how_many_were_left_out()
    {
        var interval = TimeSpan.FromSeconds(1);
        var limiter = new LogRateLimiter(3, interval);
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < 3; i++)
        {
            Assert.True(limiter.TryAcquire(start, out long none));
            Assert.Equal(0, none);
        }
        for (int i = 0; i < 100; i++) Assert.False(limiter.TryAcquire(start, out _));
        long later = start + (long)(1.5 * Stopwatch.Frequency);
        Assert.True(limiter.TryAcquire(later, out long suppressed));
        Assert.Equal(100, suppressed);
        Assert.True(limiter.TryAcquire(later, out suppressed));
        Assert.Equal(0, suppressed);
    }
}

public sealed class ParkedSessionsTests
{
    [Fact]
    public async Task Taking_a_kept_session_is_not_yet_a_resume()
    {
        // The connection may still refuse the resume (it is closing) and keep the session again:
        // only the connection, once it resumed it, counts bridge_sessions_resumed_total.
        var metrics = new BridgeMetrics();
        var parked = new ParkedSessions(TimeSpan.FromMinutes(1), metrics, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        await using var platform = new FakeMediaPlatform();
        await platform.InitializeAsync(CancellationToken.None);
        var relay = new SessionEventRelay();
        var mediaSessionId = Guid.NewGuid();
        var session = await platform.CreateSessionAsync(
            new Platform.PlatformSessionRequest("call", mediaSessionId, Protocol.AudioDirection.SendRecv, false), relay, CancellationToken.None);
        parked.Park(new ParkedSession(session, relay, "call", session.Info.MediaSessionId, Protocol.AudioDirection.SendRecv, false));
        Assert.Equal(1, metrics.SessionsParked.Value);

        var request = new Protocol.CreateSession { CallId = "call", MediaSessionId = session.Info.MediaSessionId, Direction = Protocol.AudioDirection.SendRecv };
        var taken = parked.TakeFor(request, out var conflict);
        Assert.Null(conflict);
        Assert.NotNull(taken);
        Assert.Equal(0, metrics.SessionsParked.Value);
        Assert.Equal(0, metrics.SessionsResumed.Value);
        await parked.EndAllAsync();
        await session.DisposeAsync();
    }
}

public sealed class SharedSecretTests
{
    [Theory]
    [InlineData("Bearer s3cret-s3cret-s3cret", true)]
    [InlineData("bearer s3cret-s3cret-s3cret", true)]
    [InlineData("Bearer s3cret-s3cret-s3cre", false)]
    [InlineData("Bearer s3cret-s3cret-s3cret!", false)]
    [InlineData("Bearer ", false)]
    [InlineData("s3cret-s3cret-s3cret", false)]
    [InlineData(null, false)]
    public void Only_the_exact_bearer_secret_passes(string? header, bool expected) =>
        Assert.Equal(expected, new SharedSecret("s3cret-s3cret-s3cret").IsAuthorized(header));
}

public sealed class FakeSourceTests
{
    [Fact]
    public void The_tone_is_continuous_across_frames()
    {
        var tone = new ToneSource(440, 0.5);
        var a = new byte[640];
        var b = new byte[640];
        Assert.False(tone.Read(a));
        tone.Read(b);
        short last = BinaryPrimitives.ReadInt16LittleEndian(a.AsSpan(638));
        short first = BinaryPrimitives.ReadInt16LittleEndian(b);
        // One sample at 440 Hz moves the sine by at most 2π·440/16000 of the amplitude.
        Assert.InRange(Math.Abs(first - last), 0, (int)(0.5 * short.MaxValue * 2 * Math.PI * 440 / 16000) + 2);
    }

    [Fact]
    public void A_WAV_source_plays_PCM16K_mono_in_a_loop_and_refuses_other_formats()
    {
        var pcm = new byte[1000];
        for (int i = 0; i < pcm.Length; i++) pcm[i] = (byte)(i % 251);
        var source = new WavSource(WavSource.ReadPcm16KMono(Wav(pcm, 16000, 1, 16)));
        var frame = new byte[640];
        source.Read(frame);
        Assert.Equal(pcm.AsSpan(0, 640).ToArray(), frame);
        source.Read(frame);
        Assert.Equal(pcm.AsSpan(640, 360).ToArray(), frame.AsSpan(0, 360).ToArray());
        Assert.Equal(pcm.AsSpan(0, 280).ToArray(), frame.AsSpan(360).ToArray());

        var stereo = Assert.Throws<InvalidDataException>(() => WavSource.ReadPcm16KMono(Wav(pcm, 16000, 2, 16)));
        Assert.Contains("2 channel", stereo.Message);
        Assert.Throws<InvalidDataException>(() => WavSource.ReadPcm16KMono(Wav(pcm, 48000, 1, 16)));
        Assert.Throws<InvalidDataException>(() => WavSource.ReadPcm16KMono("RIFF...."u8.ToArray()));
    }

    private static byte[] Wav(byte[] pcm, int rate, int channels, int bits)
    {
        using var stream = new MemoryStream();
        using var w = new BinaryWriter(stream);
        w.Write("RIFF"u8); w.Write(36 + pcm.Length); w.Write("WAVE"u8);
        w.Write("fmt "u8); w.Write(16); w.Write((short)1); w.Write((short)channels); w.Write(rate);
        w.Write(rate * channels * bits / 8); w.Write((short)(channels * bits / 8)); w.Write((short)bits);
        w.Write("data"u8); w.Write(pcm.Length); w.Write(pcm);
        w.Flush();
        return stream.ToArray();
    }
}

public sealed class DeadlineLoopTests
{
    [Fact]
    public async Task Ticks_follow_absolute_deadlines_without_drift()
    {
        // The least-late of 15 ticks at each end: on a machine busy with other work most ticks may
        // wake a few ms late (once, the least-late of 10 was 4.9 ms), but not 15 in a row.
        const int Ticks = 60;
        const int Window = 15;
        var ticks = new List<(long Index, long At)>();
        var done = new TaskCompletionSource();
        using var loop = new DeadlineLoop("test-clock", TimeSpan.FromMilliseconds(20), (index, _) =>
        {
            lock (ticks)
            {
                ticks.Add((index, Stopwatch.GetTimestamp()));
                if (ticks.Count == Ticks) done.TrySetResult();
            }
        });
        loop.Start();
        await done.Task.WaitAsync(TimeSpan.FromSeconds(10));
        loop.Stop();
        List<double> offsets;
        lock (ticks)
        {
            // How far each tick is from where tick 0 + n x 20 ms puts it: that tick's lateness
            // minus tick 0's. A loop that sleeps 20 ms per tick adds its lateness up (drift); on
            // absolute deadlines the least-late ticks stay at the same offset however long it runs.
            var (firstIndex, firstAt) = ticks[0];
            offsets = ticks.Take(Ticks)
                .Select(t => Stopwatch.GetElapsedTime(firstAt, t.At).TotalMilliseconds - ((t.Index - firstIndex) * 20.0))
                .ToList();
        }
        double early = offsets.Take(Window).Min();
        double late = offsets.Skip(Ticks - Window).Min();
        Assert.InRange(late - early, -4, 4);
    }

    [Fact]
    public async Task A_stalled_tick_makes_the_loop_skip_ahead_instead_of_bursting()
    {
        // The first tick stalls 200 ms (10 periods, past MaxCatchUpTicks): the next tick is not
        // the following index run late, followed by a burst of the others, but the current one,
        // with the gap counted.
        var ticks = new List<(long Index, long SkippedSoFar)>();
        var done = new TaskCompletionSource();
        DeadlineLoop? loop = null;
        using var clock = loop = new DeadlineLoop("test-clock", TimeSpan.FromMilliseconds(20), (index, _) =>
        {
            long skipped = loop!.SkippedTicks;
            bool first;
            lock (ticks)
            {
                first = ticks.Count == 0;
                ticks.Add((index, skipped));
                if (ticks.Count == 3) done.TrySetResult();
            }
            if (first) Thread.Sleep(200);
        });
        clock.Start();
        await done.Task.WaitAsync(TimeSpan.FromSeconds(10));
        clock.Stop();
        lock (ticks)
        {
            long skipped = ticks[1].SkippedSoFar - ticks[0].SkippedSoFar;
            // At least (200 - 20) / 20 periods were overdue whatever the machine's load; the tick
            // after the stall carries the index it would have had.
            Assert.True(skipped >= 8, $"skipped {skipped}");
            Assert.Equal(ticks[0].Index + 1 + skipped, ticks[1].Index);
        }
    }
}
