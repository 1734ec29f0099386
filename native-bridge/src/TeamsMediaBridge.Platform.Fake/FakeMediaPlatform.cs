using System.Diagnostics;
using TeamsMediaBridge.Protocol;
using TeamsMediaBridge.Timing;

namespace TeamsMediaBridge.Platform.Fake;

/// <summary>
/// A media platform for Linux, tests and benchmarks with the real one's timing: one shared clock
/// thread on absolute 20 ms deadlines delivers one received buffer per session per tick (stamped
/// with the platform clock), send status turns ACTIVE shortly after creation, audio sent before
/// that is discarded, and everything sent is recorded.
/// </summary>
public sealed class FakeMediaPlatform : IMediaPlatform, ISourceForwardObserver
{
    public const string SkypeMediaBotsVersion = "1.33.0.258-fake";
    public const string MediaStackVersion = "fake-media-stack";
    public const string MpVersion = "fake-mp";

    private readonly FakeMediaPlatformOptions _options;
    private readonly long _clockStart = Stopwatch.GetTimestamp();
    private readonly object _lock = new();
    private FakePlatformSession[] _sessions = [];
    private DeadlineLoop? _clock;
    private volatile PlatformHealth _health = PlatformHealth.Normal;
    private volatile bool _failNextCreate;
    private readonly TickTimestamps _tickTimestamps = new();
    private bool _delivering; // the clock thread's: a tick has had sessions

    public FakeMediaPlatform(FakeMediaPlatformOptions? options = null)
    {
        _options = options ?? new FakeMediaPlatformOptions();
        EchoStats = _options.MeasureEcho ? new EchoLatencyStats() : null;
    }

    /// <summary>The echo round trip over the current window; null unless <see cref="FakeMediaPlatformOptions.MeasureEcho"/>.</summary>
    public EchoLatencyStats? EchoStats { get; }

    public PlatformHealth Health => _health;

    public event Action<PlatformHealth, PlatformHealth>? HealthChanged;

    public IReadOnlyList<FakePlatformSession> Sessions => Volatile.Read(ref _sessions);

    /// <summary>Ticks the shared clock skipped because it was paused (a sign of an overloaded machine).</summary>
    public long SkippedTicks => _clock?.SkippedTicks ?? 0;

    public Task InitializeAsync(CancellationToken cancellationToken)
    {
        if (_clock is not null) throw new InvalidOperationException("fake media platform already initialized");
        _clock = new DeadlineLoop("fake-platform-clock", TimeSpan.FromMilliseconds(AudioFrameFormat.FrameMilliseconds), OnTick);
        _clock.Start();
        return Task.CompletedTask;
    }

    /// <summary>100-ns ticks since the platform started (monotonic, like the real platform's clock).</summary>
    public long GetTimestampTicks() => Stopwatch.GetElapsedTime(_clockStart).Ticks;

    public Task<IPlatformSession> CreateSessionAsync(PlatformSessionRequest request, IPlatformSessionEvents events, CancellationToken cancellationToken)
    {
        if (_clock is null) throw new InvalidOperationException("fake media platform not initialized");
        if (_failNextCreate)
        {
            _failNextCreate = false;
            throw new InvalidOperationException("fake platform told to fail this session");
        }
        var echo = EchoStats is null ? null : new EchoTracker(EchoStats);
        var session = new FakePlatformSession(this, request, events, _options, _options.SourceFactory(request.CallId), GetTimestampTicks(), echo);
        lock (_lock) _sessions = [.. _sessions, session];
        return Task.FromResult<IPlatformSession>(session);
    }

    /// <summary>The bridge forwarded a received buffer: its wait for the bridge's tick (only measured when measuring echoes).</summary>
    public void OnSourceFrameForwarded(long bufferTimestampTicks, long forwardedAtTicks) =>
        EchoStats?.HostSend.Record((forwardedAtTicks - bufferTimestampTicks) / 10);

    /// <summary>Makes the next CreateSessionAsync throw, as the real platform does when it cannot allocate a socket.</summary>
    public void FailNextCreate() => _failNextCreate = true;

    public void SetHealth(PlatformHealth health)
    {
        var previous = _health;
        if (previous == health) return;
        _health = health;
        HealthChanged?.Invoke(previous, health);
    }

    public ValueTask DisposeAsync()
    {
        _clock?.Dispose();
        foreach (var session in Sessions) session.End();
        lock (_lock) _sessions = [];
        return ValueTask.CompletedTask;
    }

    internal void Remove(FakePlatformSession session)
    {
        lock (_lock) _sessions = _sessions.Where(s => s != session).ToArray();
    }

    private void OnTick(long index, TimeSpan lateness)
    {
        // Every buffer of this tick carries the tick's own deadline on the platform clock: 20 ms apart exactly.
        var sessions = Volatile.Read(ref _sessions);
        _delivering |= sessions.Length > 0;
        long timestamp = _tickTimestamps.OnTick(index, GetTimestampTicks(), lateness.Ticks, settling: !_delivering);
        foreach (var session in sessions) session.OnPlatformTick(timestamp);
    }
}
