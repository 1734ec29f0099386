using Microsoft.Extensions.Logging;
using TeamsMediaBridge.Platform;
using TeamsMediaBridge.Protocol;

namespace TeamsMediaBridge.Bridge;

/// <summary>A platform session whose worker connection went away, waiting to be resumed.</summary>
internal sealed record ParkedSession(
    IPlatformSession Platform,
    SessionEventRelay Relay,
    string CallId,
    string MediaSessionId,
    AudioDirection Direction,
    bool UnmixedAudio);

/// <summary>
/// Sessions kept alive on the platform for a grace period after their worker connection was lost,
/// because the call (bound by Graph to this media session's contexts) is still up. A worker that
/// reconnects sends CreateSession with the same call id and media session id and gets the same
/// session back (a new session number, the same contexts and blob). Past the grace period the
/// platform session ends.
/// </summary>
internal sealed class ParkedSessions
{
    private readonly TimeSpan _grace;
    private readonly BridgeMetrics _metrics;
    private readonly ILogger _logger;
    private readonly object _lock = new();
    private readonly Dictionary<string, (ParkedSession Session, CancellationTokenSource Expiry)> _byMediaSession = new(StringComparer.OrdinalIgnoreCase);

    public ParkedSessions(TimeSpan grace, BridgeMetrics metrics, ILogger logger)
    {
        _grace = grace;
        _metrics = metrics;
        _logger = logger;
    }

    public bool Enabled => _grace > TimeSpan.Zero;

    public int Count
    {
        get { lock (_lock) return _byMediaSession.Count; }
    }

    public void Park(ParkedSession session)
    {
        session.Relay.Attach(null);
        var expiry = new CancellationTokenSource();
        lock (_lock) _byMediaSession[session.MediaSessionId] = (session, expiry);
        _metrics.SessionsParked.Inc();
        _logger.LogWarning("session of call {CallId} kept for {GraceMs} ms for its worker to resume it", session.CallId, _grace.TotalMilliseconds);
        _ = ExpireAsync(session, expiry.Token);
    }

    /// <summary>
    /// The parked session a CreateSession resumes, if any. <paramref name="conflict"/> is set
    /// when a parked session holds the call or media session id but does not match the request.
    /// </summary>
    public ParkedSession? TakeFor(CreateSession request, out string? conflict)
    {
        conflict = null;
        lock (_lock)
        {
            if (request.MediaSessionId.Length > 0 && _byMediaSession.TryGetValue(request.MediaSessionId, out var entry))
            {
                var parked = entry.Session;
                if (parked.CallId != request.CallId || parked.Direction != request.Direction || parked.UnmixedAudio != request.UnmixedAudio)
                {
                    conflict = $"media session {parked.MediaSessionId} is kept for call {parked.CallId} ({parked.Direction}, unmixed {parked.UnmixedAudio}); the request does not match it";
                    return null;
                }
                _byMediaSession.Remove(request.MediaSessionId);
                entry.Expiry.Cancel();
                _metrics.SessionsParked.Dec();
                return parked; // counted as resumed by the caller once it resumed it
            }
            foreach (var (_, other) in _byMediaSession)
            {
                if (other.Session.CallId == request.CallId)
                {
                    conflict = $"call {request.CallId} has a session kept for its worker; resume it with media_session_id {other.Session.MediaSessionId}";
                    return null;
                }
            }
        }
        return null;
    }

    /// <summary>Ends every parked session now (host shutdown).</summary>
    public async Task EndAllAsync()
    {
        List<(ParkedSession Session, CancellationTokenSource Expiry)> all;
        lock (_lock)
        {
            all = _byMediaSession.Values.ToList();
            _byMediaSession.Clear();
        }
        foreach (var (session, expiry) in all)
        {
            expiry.Cancel();
            _metrics.SessionsParked.Dec();
            await EndAsync(session, "host shutting down", "host").ConfigureAwait(false);
        }
    }

    private async Task ExpireAsync(ParkedSession session, CancellationToken cancelled)
    {
        try
        {
            await Task.Delay(_grace, cancelled).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        lock (_lock)
        {
            if (!_byMediaSession.TryGetValue(session.MediaSessionId, out var entry) || entry.Session != session) return;
            _byMediaSession.Remove(session.MediaSessionId);
        }
        _metrics.SessionsParked.Dec();
        await EndAsync(session, "no worker resumed it within the grace period", "grace_expired").ConfigureAwait(false);
    }

    private async Task EndAsync(ParkedSession session, string reason, string metricReason)
    {
        try
        {
            await session.Platform.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception error)
        {
            _logger.LogWarning(error, "ending the platform session of call {CallId} failed", session.CallId);
        }
        _metrics.SessionsActive.Dec();
        _metrics.SessionsClosed.WithLabels(metricReason).Inc();
        _logger.LogInformation("kept session of call {CallId} ended: {Reason}", session.CallId, reason);
    }
}
