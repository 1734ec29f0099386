using Microsoft.AspNetCore.Http;

namespace TeamsMediaBridge.Bridge;

/// <summary>How the bridge server listens and the limits it enforces.</summary>
public sealed class BridgeOptions
{
    /// <summary>ws://127.0.0.1:9442/bridge: the host listens on its loopback address, port and path. Port 0 = ephemeral.</summary>
    public Uri Url { get; init; } = new("ws://127.0.0.1:9442/bridge");

    /// <summary>The shared secret the worker presents as "Authorization: Bearer &lt;secret&gt;".</summary>
    public required string Secret { get; init; }

    /// <summary>Sessions accepted at most (announced in HelloAck); 0 = no limit.</summary>
    public int MaxSessions { get; init; } = 500;

    /// <summary>Render frames queued per session at most (20 ms each); newer ones are dropped beyond it.</summary>
    public int RenderQueueFrames { get; init; } = 50;

    /// <summary>
    /// Standing playout backlog allowed, in frames. When the queue never got shorter than this
    /// during a whole <see cref="RenderTrimWindowTicks"/> window (a burst from a worker that
    /// stalled, say), the excess is dropped one frame per tick, so one hiccup does not add its
    /// length to the rest of the call's latency. 0 = never trim.
    /// </summary>
    public int RenderTargetFrames { get; init; } = 1;

    /// <summary>Ticks over which the backlog's minimum is taken (50 = 1 s).</summary>
    public int RenderTrimWindowTicks { get; init; } = 50;

    /// <summary>
    /// Ticks of received frames waiting for the socket at most (a tick may take several FrameBatch
    /// messages); a newer tick's frames are dropped beyond it (slow worker).
    /// </summary>
    public int MaxPendingFrameBatches { get; init; } = 10;

    /// <summary>
    /// Control messages (everything but FrameBatch) waiting for the socket at most, in bytes
    /// (each message counts its size plus <see cref="OutboundQueue.PerMessageOverhead"/>). A worker
    /// that stops reading while it keeps sending requests would otherwise grow the host's memory
    /// without end; past this the connection is closed with 1008 and its sessions are kept, as for
    /// a lost connection. 4 MiB is thousands of times a normal backlog (500 SessionCreated blobs
    /// are under 1 MiB).
    /// </summary>
    public int MaxPendingControlBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>
    /// Playout marks waiting per session at most. While sending is not ACTIVE no queued frame
    /// leaves, so no mark is reached: without a cap a worker could make the host hold any number.
    /// A mark beyond it is answered at once with MarkPlayed{played:false}.
    /// </summary>
    public int MaxPendingMarks { get; init; } = 256;

    /// <summary>Largest WebSocket message accepted from the worker (1 MiB, as the worker's own limit).</summary>
    public int MaxMessageBytes { get; init; } = ProtocolInfo.DefaultMaxMessageBytes;

    /// <summary>
    /// Largest FrameBatch message sent to the worker: a tick's frames are split over as many
    /// messages as they need. The protocol's 256 KiB; tests lower it.
    /// </summary>
    public int MaxFrameBatchBytes { get; init; } = ProtocolInfo.MaxFrameBatchBytes;

    /// <summary>
    /// How long sessions outlive a lost worker connection, waiting for the worker to resume them
    /// (the bot's BOT_BRIDGE_RECONNECT_GRACE_MS). Zero ends them at once.
    /// </summary>
    public TimeSpan ReconnectGrace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a closing connection waits for the worker to take what is queued for it (then the
    /// close frame), and again for the worker's close frame; past either the socket is aborted. A
    /// worker closed for not reading (full control queue) sees 1008 only if it reads again within it.
    /// </summary>
    public TimeSpan CloseTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Refuse CreateSession while the platform reports HEAVILY_LOADED or worse.</summary>
    public bool RefuseWhenHeavilyLoaded { get; init; } = true;

    /// <summary>Free text for HelloAck.peer.</summary>
    public string PeerName { get; init; } = "teams-media-bridge dotnet " + typeof(BridgeOptions).Assembly.GetName().Version;

    /// <summary>Maps GET /metrics (Prometheus text) on the bridge's listener.</summary>
    public bool ExposeMetrics { get; init; } = true;

    /// <summary>
    /// Extra routes on the bridge's listener (exact path -> handler, any method) for a platform's
    /// own diagnostics: the fake platform's echo latency for benchmarks. None by default (and
    /// none with the real platform).
    /// </summary>
    public IReadOnlyDictionary<string, RequestDelegate>? DiagnosticRoutes { get; init; }

    internal void Validate()
    {
        foreach (var path in DiagnosticRoutes?.Keys ?? [])
        {
            if (!path.StartsWith('/') || path == "/metrics" || path == Url.AbsolutePath)
                throw new ArgumentException($"diagnostic route {path} must be an absolute path other than /metrics and the bridge's");
        }
        if (Url.Scheme != "ws") throw new ArgumentException($"bridge URL must be ws:// on loopback, got {Url.Scheme}://");
        if (!Url.IsLoopback) throw new ArgumentException($"bridge URL must name a loopback address, got {Url.Host}");
        if (Secret.Length < 16) throw new ArgumentException("bridge secret must be at least 16 characters");
        if (MaxSessions < 0) throw new ArgumentException("MaxSessions must be >= 0");
        if (RenderQueueFrames < 1) throw new ArgumentException("RenderQueueFrames must be >= 1");
        if (RenderTargetFrames < 0) throw new ArgumentException("RenderTargetFrames must be >= 0");
        if (RenderTrimWindowTicks < 1) throw new ArgumentException("RenderTrimWindowTicks must be >= 1");
        if (MaxPendingFrameBatches < 1) throw new ArgumentException("MaxPendingFrameBatches must be >= 1");
        if (MaxPendingControlBytes < 64 * 1024) throw new ArgumentException("MaxPendingControlBytes must be >= 65536");
        if (MaxPendingMarks < 1) throw new ArgumentException("MaxPendingMarks must be >= 1");
        if (MaxMessageBytes < 1024) throw new ArgumentException("MaxMessageBytes must be >= 1024");
        if (MaxFrameBatchBytes is < 2048 or > ProtocolInfo.MaxFrameBatchBytes)
            throw new ArgumentException($"MaxFrameBatchBytes must be between 2048 and {ProtocolInfo.MaxFrameBatchBytes}");
        if (ReconnectGrace < TimeSpan.Zero) throw new ArgumentException("ReconnectGrace must be >= 0");
        if (CloseTimeout <= TimeSpan.Zero) throw new ArgumentException("CloseTimeout must be > 0");
    }
}
