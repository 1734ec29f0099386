using System.Diagnostics;

namespace TeamsMediaBridge.Bridge;

/// <summary>
/// Lets at most a few log lines through per interval and counts the rest. Lines about the
/// worker's protocol errors are written on the receive loop: a worker sending a stream of bad
/// messages must not turn the host's log into its bottleneck (or fill the disk). The next line
/// let through says how many were left out. Thread-safe.
/// </summary>
internal sealed class LogRateLimiter
{
    private readonly int _linesPerInterval;
    private readonly long _intervalTicks;
    private readonly object _lock = new();
    private long _windowStart;
    private int _linesInWindow;
    private long _suppressed;

    public LogRateLimiter(int linesPerInterval, TimeSpan interval)
    {
        _linesPerInterval = linesPerInterval;
        _intervalTicks = (long)(interval.TotalSeconds * Stopwatch.Frequency);
        _windowStart = Stopwatch.GetTimestamp();
    }

    /// <returns>true when this line may be written; <paramref name="suppressedBefore"/> is how
    /// many lines were left out since the last one written.</returns>
    public bool TryAcquire(out long suppressedBefore) => TryAcquire(Stopwatch.GetTimestamp(), out suppressedBefore);

    internal bool TryAcquire(long now, out long suppressedBefore)
    {
        lock (_lock)
        {
            if (now - _windowStart >= _intervalTicks)
            {
                _windowStart = now;
                _linesInWindow = 0;
            }
            if (_linesInWindow < _linesPerInterval)
            {
                _linesInWindow++;
                suppressedBefore = _suppressed;
                _suppressed = 0;
                return true;
            }
            _suppressed++;
            suppressedBefore = 0;
            return false;
        }
    }
}
