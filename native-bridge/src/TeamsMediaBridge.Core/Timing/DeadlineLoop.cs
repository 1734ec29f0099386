using System.Diagnostics;

namespace TeamsMediaBridge.Timing;

/// <summary>
/// A media clock: one dedicated thread calling <c>onTick</c> at absolute deadlines
/// (start + n × period), so lateness never accumulates into drift. When the thread falls more
/// than <see cref="MaxCatchUpTicks"/> periods behind (the process was paused), it skips ahead
/// instead of bursting, and counts the skipped ticks.
/// </summary>
public sealed class DeadlineLoop : IDisposable
{
    /// <summary>How many overdue ticks are still run back to back before skipping ahead.</summary>
    public const int MaxCatchUpTicks = 3;

    // Sleeping is coarse (about 1 ms); the last stretch before a deadline is waited with yields.
    private static readonly long SpinWindowTicks = Stopwatch.Frequency / 1000;

    private readonly string _name;
    private readonly long _periodTicks;
    private readonly Action<long, TimeSpan> _onTick;
    private readonly Action<Exception>? _onError;
    private readonly ManualResetEventSlim _stop = new(false);
    private Thread? _thread;
    private long _skippedTicks;

    /// <param name="onTick">Called with the tick index and how late the tick started.</param>
    /// <param name="onError">Called when onTick throws; the loop goes on.</param>
    public DeadlineLoop(string name, TimeSpan period, Action<long, TimeSpan> onTick, Action<Exception>? onError = null)
    {
        if (period <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(period));
        _name = name;
        _periodTicks = (long)(period.TotalSeconds * Stopwatch.Frequency);
        _onTick = onTick;
        _onError = onError;
    }

    public long SkippedTicks => Interlocked.Read(ref _skippedTicks);

    public void Start()
    {
        if (_thread is not null) throw new InvalidOperationException($"{_name} already started");
        _thread = new Thread(Run) { IsBackground = true, Name = _name, Priority = ThreadPriority.AboveNormal };
        _thread.Start();
    }

    public void Stop()
    {
        _stop.Set();
        if (_thread is not null && _thread != Thread.CurrentThread) _thread.Join();
    }

    public void Dispose()
    {
        Stop();
        _stop.Dispose();
    }

    private void Run()
    {
        long start = Stopwatch.GetTimestamp();
        long index = 0;
        while (!_stop.IsSet)
        {
            long deadline = start + (index * _periodTicks);
            if (!WaitUntil(deadline)) return;
            long now = Stopwatch.GetTimestamp();
            long lateTicks = now - deadline;
            if (lateTicks > MaxCatchUpTicks * _periodTicks)
            {
                long skip = lateTicks / _periodTicks;
                Interlocked.Add(ref _skippedTicks, skip);
                index += skip;
                lateTicks -= skip * _periodTicks;
            }
            try
            {
                _onTick(index, TimeSpan.FromSeconds((double)lateTicks / Stopwatch.Frequency));
            }
            catch (Exception error)
            {
                _onError?.Invoke(error);
            }
            index++;
        }
    }

    /// <returns>false when stopped while waiting.</returns>
    private bool WaitUntil(long deadline)
    {
        while (true)
        {
            long remaining = deadline - Stopwatch.GetTimestamp();
            if (remaining <= 0) return !_stop.IsSet;
            if (remaining > SpinWindowTicks)
            {
                int sleepMs = (int)((remaining - SpinWindowTicks) * 1000 / Stopwatch.Frequency);
                if (_stop.Wait(Math.Max(sleepMs, 1))) return false;
            }
            else
            {
                if (_stop.IsSet) return false;
                Thread.Yield();
            }
        }
    }
}
