using Prometheus;

namespace TeamsMediaBridge.Bridge;

/// <summary>
/// The bridge's Prometheus metrics, in their own registry (one per server, so tests don't share).
/// Labelled children used on per-frame paths are resolved once here.
/// </summary>
public sealed class BridgeMetrics
{
    public CollectorRegistry Registry { get; } = Metrics.NewCustomRegistry();

    public BridgeMetrics()
    {
        var f = Metrics.WithCustomRegistry(Registry);
        var connections = f.CreateCounter("bridge_connections_total",
            "Worker connections by outcome: upgrades, and connections closed by the host for a reason of their own.", "outcome");
        ConnectionsAccepted = connections.WithLabels("accepted");
        ConnectionsUnauthorized = connections.WithLabels("unauthorized");
        ConnectionsNotWebSocket = connections.WithLabels("not_websocket");
        ConnectionsSuperseded = connections.WithLabels("superseded");
        ConnectionsVersionMismatch = connections.WithLabels("version_mismatch");
        ConnectionsControlQueueFull = connections.WithLabels("closed_control_queue_full");

        MessagesReceived = f.CreateCounter("bridge_messages_received_total", "Envelopes received from the worker, by body.", "body");
        ProtocolErrors = f.CreateCounter("bridge_protocol_errors_total", "Error messages sent to the worker, by code.", "code");
        UnknownMessages = f.CreateCounter("bridge_unknown_messages_total", "Envelopes with a body this host does not know (ignored, rule 5).");
        var controlDropped = f.CreateCounter("bridge_control_messages_dropped_total",
            "Control messages (not FrameBatch) not sent to the worker, by reason.", "reason");
        ControlDroppedQueueFull = controlDropped.WithLabels("queue_full");
        ControlDroppedClosed = controlDropped.WithLabels("connection_closed");
        LogLinesSuppressed = f.CreateCounter("bridge_log_lines_suppressed_total", "Warning lines about protocol errors left out by the rate limit.");

        SessionsActive = f.CreateGauge("bridge_sessions_active", "Sessions open on the platform.");
        SessionsCreated = f.CreateCounter("bridge_sessions_created_total", "Sessions created.");
        SessionsClosed = f.CreateCounter("bridge_sessions_closed_total", "Sessions ended, by reason.", "reason");
        SessionsParked = f.CreateGauge("bridge_sessions_parked", "Sessions kept on the platform while their worker reconnects.");
        SessionsResumed = f.CreateCounter("bridge_sessions_resumed_total", "Kept sessions resumed by a reconnected worker.");

        var received = f.CreateCounter("bridge_received_frames_total", "Received (source) frames, by outcome.", "outcome");
        ReceivedFramesForwarded = received.WithLabels("forwarded");
        ReceivedFramesBadSize = received.WithLabels("bad_size");
        ReceivedFramesBeforeAnnounce = received.WithLabels("before_session_created");
        ReceivedFramesDroppedBackedUp = received.WithLabels("dropped_worker_backed_up");
        ReceivedUnmixedDropped = f.CreateCounter("bridge_received_unmixed_dropped_total", "Unmixed buffers dropped (not 640 bytes, or more than four).");
        BatchesSent = f.CreateCounter("bridge_frame_batches_sent_total", "FrameBatch messages queued to the worker.");
        BatchesDropped = f.CreateCounter("bridge_frame_batches_dropped_total",
            "Ticks of received frames (one FrameBatch, or several when split) dropped because the socket was backed up.");
        TicksSplit = f.CreateCounter("bridge_frame_batch_split_ticks_total",
            "Ticks whose received frames took more than one FrameBatch message (over the 256 KiB limit).");

        var render = f.CreateCounter("bridge_render_frames_total", "Render frames from the worker, by outcome.", "outcome");
        RenderAccepted = render.WithLabels("queued");
        RenderPlayed = render.WithLabels("sent_to_platform");
        RenderRefused = render.WithLabels("refused_by_platform");
        RenderDroppedOverflow = render.WithLabels("dropped_queue_full");
        RenderDroppedNotActive = render.WithLabels("dropped_send_not_active");
        RenderTrimmed = render.WithLabels("dropped_latency_trim");
        RenderCleared = render.WithLabels("cleared");
        RenderRejectedBadFrame = render.WithLabels("rejected_bad_frame");
        RenderRejectedUnknownSession = render.WithLabels("rejected_unknown_session");
        RenderUnderruns = f.CreateCounter("bridge_render_underruns_total", "Ticks where a playing session had no frame queued.");
        RenderSequenceGaps = f.CreateCounter("bridge_render_sequence_gaps_total", "Render frames whose sequence was not the previous + 1.");

        MarksPlayed = f.CreateCounter("bridge_marks_total", "Playout marks answered, by result.", "result");
        MarksRefused = MarksPlayed.WithLabels("refused_limit");
        TickLateness = f.CreateHistogram("bridge_tick_lateness_seconds", "How late each 20 ms tick of the bridge clock started.",
            new HistogramConfiguration { Buckets = [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05] });
        TickDuration = f.CreateHistogram("bridge_tick_duration_seconds", "Time spent in one 20 ms tick of the bridge clock.",
            new HistogramConfiguration { Buckets = [0.00005, 0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02] });
        PlatformHealth = f.CreateGauge("bridge_platform_health", "Platform health (1 normal, 2 heavily loaded, 3 overloaded).");
    }

    public Counter.Child ConnectionsAccepted { get; }
    public Counter.Child ConnectionsUnauthorized { get; }
    public Counter.Child ConnectionsNotWebSocket { get; }
    public Counter.Child ConnectionsSuperseded { get; }
    public Counter.Child ConnectionsVersionMismatch { get; }
    public Counter.Child ConnectionsControlQueueFull { get; }
    public Counter MessagesReceived { get; }
    public Counter ProtocolErrors { get; }
    public Counter UnknownMessages { get; }
    public Counter.Child ControlDroppedQueueFull { get; }
    public Counter.Child ControlDroppedClosed { get; }
    public Counter LogLinesSuppressed { get; }
    public Gauge SessionsActive { get; }
    public Counter SessionsCreated { get; }
    public Counter SessionsClosed { get; }
    public Gauge SessionsParked { get; }
    public Counter SessionsResumed { get; }
    public Counter.Child ReceivedFramesForwarded { get; }
    public Counter.Child ReceivedFramesBadSize { get; }
    public Counter.Child ReceivedFramesBeforeAnnounce { get; }
    public Counter.Child ReceivedFramesDroppedBackedUp { get; }
    public Counter ReceivedUnmixedDropped { get; }
    public Counter BatchesSent { get; }
    public Counter BatchesDropped { get; }
    public Counter TicksSplit { get; }
    public Counter.Child RenderAccepted { get; }
    public Counter.Child RenderPlayed { get; }
    public Counter.Child RenderRefused { get; }
    public Counter.Child RenderDroppedOverflow { get; }
    public Counter.Child RenderDroppedNotActive { get; }
    public Counter.Child RenderTrimmed { get; }
    public Counter.Child RenderCleared { get; }
    public Counter.Child RenderRejectedBadFrame { get; }
    public Counter.Child RenderRejectedUnknownSession { get; }
    public Counter RenderUnderruns { get; }
    public Counter RenderSequenceGaps { get; }
    public Counter MarksPlayed { get; }
    public Counter.Child MarksRefused { get; }
    public Histogram TickLateness { get; }
    public Histogram TickDuration { get; }
    public Gauge PlatformHealth { get; }
}
