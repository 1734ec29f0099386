using System.Buffers.Binary;
using System.Diagnostics;
using TeamsMediaBridge.Bridge;
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
        Assert.True(loop.SkippedTicks >= 0);
    }
}
