namespace TeamsMediaBridge.Platform.Fake;

/// <summary>Percentiles of one latency, whole microseconds; <see cref="AboveExactUs"/> counts values past the exact range.</summary>
public readonly record struct LatencySummary(long Count, double MeanUs, long P50Us, long P90Us, long P99Us, long P999Us, long MaxUs, long AboveExactUs);

/// <summary>
/// Exact counts per whole microsecond up to <see cref="MaxExactUs"/> (0.5 s, 2 MB), as the
/// worker's latency probe keeps them (src/media/latency-probe.ts), so percentiles are exact to the
/// microsecond, not bucket bounds; longer values are counted above it, the largest kept exactly.
/// Recording is lock-free and allocates nothing; a sample recorded while <see cref="Reset"/> runs
/// may land in either window.
/// </summary>
public sealed class MicrosecondHistogram
{
    public const int MaxExactUs = 500_000;

    private readonly int[] _counts = new int[MaxExactUs + 1];
    private long _count;
    private long _sumUs;
    private long _maxUs;
    private long _above;

    /// <summary>One sample (negative values, from two clocks, count as 0).</summary>
    public void Record(long us)
    {
        long value = us > 0 ? us : 0;
        if (value > MaxExactUs) Interlocked.Increment(ref _above);
        else Interlocked.Increment(ref _counts[value]);
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _sumUs, value);
        long max = Volatile.Read(ref _maxUs);
        while (value > max)
        {
            long seen = Interlocked.CompareExchange(ref _maxUs, value, max);
            if (seen == max) break;
            max = seen;
        }
    }

    public void Reset()
    {
        Array.Clear(_counts);
        Interlocked.Exchange(ref _count, 0);
        Interlocked.Exchange(ref _sumUs, 0);
        Interlocked.Exchange(ref _maxUs, 0);
        Interlocked.Exchange(ref _above, 0);
    }

    public LatencySummary Summary()
    {
        long count = Interlocked.Read(ref _count);
        long max = Interlocked.Read(ref _maxUs);
        long At(double q)
        {
            if (count == 0) return 0;
            // The smallest value with at least q of the samples at or below it.
            long rank = Math.Max(1, (long)Math.Ceiling(q * count));
            long seen = 0;
            for (int us = 0; us <= MaxExactUs; us++)
            {
                seen += Volatile.Read(ref _counts[us]);
                if (seen >= rank) return us;
            }
            return max;
        }
        double mean = count == 0 ? 0 : Math.Round((double)Interlocked.Read(ref _sumUs) / count, 1);
        return new LatencySummary(count, mean, At(0.5), At(0.9), At(0.99), At(0.999), max, Interlocked.Read(ref _above));
    }
}
