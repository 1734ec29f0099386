namespace TeamsMediaBridge.Platform.Fake;

/// <summary>
/// One session's side of the echo measurement: marks each source frame it produces with its
/// frame number (<see cref="EchoWatermark"/>) and remembers when, then matches the marks of the
/// render frames the bridge hands back. Each method runs on one thread: source frames on the
/// platform clock, arrivals on the bridge's receive loop, plays on the bridge's tick (which
/// dequeues a frame only after its arrival was seen, under the bridge session's lock).
/// </summary>
internal sealed class EchoTracker
{
    /// <summary>Source frames remembered (5 s; as the TypeScript emulator's ECHO_WINDOW). Divides 65536.</summary>
    private const int Window = 256;

    private readonly EchoLatencyStats _stats;
    // (sequence + 1) << 48 | produced at (µs on the platform clock): one word, so a reader on
    // another thread never pairs one frame's sequence with another's time. 0 = none.
    private readonly long[] _sent = new long[Window];
    private readonly long[] _arrived = new long[Window];
    private readonly long[] _arrivedAtUs = new long[Window];
    private readonly long[] _played = new long[Window];
    private int _frames;

    public EchoTracker(EchoLatencyStats stats) => _stats = stats;

    /// <summary>A non-silent source frame about to go to the bridge: marked and remembered.</summary>
    public void OnSourceFrame(Span<byte> pcm, long nowUs)
    {
        int sequence = _frames++ & 0xFFFF;
        EchoWatermark.Write(pcm, sequence);
        Volatile.Write(ref _sent[sequence % Window], ((long)(sequence + 1) << 48) | (nowUs & 0xFFFF_FFFF_FFFF));
    }

    /// <summary>The bridge queued a render frame (<paramref name="transitUs"/>: its batch's sent_at_us -> now).</summary>
    public void OnArrival(ReadOnlySpan<byte> pcm, long nowUs, long transitUs)
    {
        _stats.BotToHost.Record(transitUs);
        if (!TryMatch(pcm, out int slot, out long entry))
        {
            _stats.CountUnmatched();
            return;
        }
        if (_arrived[slot] == entry)
        {
            _stats.CountRepeated();
            return;
        }
        _arrivedAtUs[slot] = nowUs;
        Volatile.Write(ref _arrived[slot], entry);
        _stats.RoundTripArrival.Record(nowUs - ProducedAtUs(entry));
    }

    /// <summary>The bridge's render tick handed a frame to the platform.</summary>
    public void OnPlayed(ReadOnlySpan<byte> pcm, long nowUs)
    {
        if (!TryMatch(pcm, out int slot, out long entry) || _played[slot] == entry) return;
        _played[slot] = entry;
        _stats.RoundTripPlayed.Record(nowUs - ProducedAtUs(entry));
        if (Volatile.Read(ref _arrived[slot]) == entry) _stats.RenderQueueWait.Record(nowUs - _arrivedAtUs[slot]);
    }

    private bool TryMatch(ReadOnlySpan<byte> pcm, out int slot, out long entry)
    {
        int mark = EchoWatermark.Read(pcm);
        slot = mark < 0 ? 0 : mark % Window;
        entry = mark < 0 ? 0 : Volatile.Read(ref _sent[slot]);
        return mark >= 0 && entry != 0 && (entry >> 48) - 1 == mark;
    }

    private static long ProducedAtUs(long entry) => entry & 0xFFFF_FFFF_FFFF;
}
