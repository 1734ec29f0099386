using Microsoft.Extensions.Logging;
using TeamsMediaBridge.Platform;
using TeamsMediaBridge.Protocol;

namespace TeamsMediaBridge.Bridge;

/// <summary>
/// One call's audio on one connection: receives the platform's events (on platform threads),
/// queues the worker's render frames, and plays one of them per tick once sending is ACTIVE.
/// </summary>
internal sealed class BridgeSession : IPlatformSessionEvents
{
    private readonly BridgeConnection _connection;
    private readonly BridgeMetrics _metrics;
    private readonly ILogger _logger;
    private readonly object _lock = new();
    private readonly RenderQueue _render;
    private readonly byte[] _playScratch = new byte[AudioFrameFormat.BytesPerFrame];
    private readonly byte[] _trimScratch = new byte[AudioFrameFormat.BytesPerFrame];
    private readonly List<string> _marksScratch = new(4);

    private IPlatformSession? _platform;
    // Set only for a platform session that asks to see render arrivals (the fake platform's echo
    // measurement); null for the real platform.
    private IRenderArrivalObserver? _arrivals;
    private SessionEventRelay? _relay;
    private volatile bool _announced;
    private volatile bool _closed;
    private volatile int _sendStatus; // SendStatus as int
    private uint _dominantSpeaker = AudioFrameFormat.NoSpeaker;
    private bool _dominantKnown;
    private uint _sourceSequence;
    private bool _renderSequenceKnown;
    private uint _lastRenderSequence;
    private bool _playedLastTick;
    private readonly int _targetFrames;
    private readonly int _trimWindowTicks;
    private int _windowTicks;
    private int _windowMinDepth = int.MaxValue;
    private int _trimBudget;

    public BridgeSession(uint number, CreateSession request, BridgeConnection connection, BridgeOptions options, BridgeMetrics metrics, ILogger logger)
    {
        int renderQueueFrames = options.RenderQueueFrames;
        _targetFrames = options.RenderTargetFrames;
        _trimWindowTicks = options.RenderTrimWindowTicks;
        Number = number;
        CallId = request.CallId;
        Direction = request.Direction;
        UnmixedAudio = request.UnmixedAudio;
        _connection = connection;
        _metrics = metrics;
        _logger = logger;
        _render = new RenderQueue(renderQueueFrames, options.MaxPendingMarks);
    }

    public uint Number { get; }
    public string CallId { get; }
    public AudioDirection Direction { get; }
    public bool UnmixedAudio { get; }
    public bool IsClosed => _closed;
    public SendStatus SendStatus => (SendStatus)_sendStatus;
    public bool CanRender => Direction is AudioDirection.SendRecv or AudioDirection.SendOnly;

    public void Attach(IPlatformSession platform, SessionEventRelay relay)
    {
        _platform = platform;
        _arrivals = platform as IRenderArrivalObserver;
        _relay = relay;
    }

    public IPlatformSession? Platform => _platform;
    public SessionEventRelay? Relay => _relay;

    /// <summary>A resumed session starts from the platform's current state, unless newer events already came.</summary>
    public void Seed(SendStatus status, uint? dominantSpeaker)
    {
        lock (_lock)
        {
            if (_sendStatus == (int)SendStatus.Unspecified) _sendStatus = (int)status;
            if (!_dominantKnown && dominantSpeaker is { } speaker)
            {
                _dominantSpeaker = speaker;
                _dominantKnown = true;
            }
        }
    }

    /// <summary>SessionCreated has been queued: from now on events are forwarded (the latest held ones first).</summary>
    public void Announce()
    {
        lock (_lock)
        {
            _announced = true;
            if (_sendStatus != (int)SendStatus.Unspecified) SendStatusMessage((SendStatus)_sendStatus);
            if (_dominantKnown) DominantMessage(_dominantSpeaker);
        }
    }

    // ---- platform events (platform threads) ----

    public void OnAudioReceived(in ReceivedAudio audio)
    {
        if (_closed) return;
        if (!_announced)
        {
            _metrics.ReceivedFramesBeforeAnnounce.Inc();
            return;
        }
        if (audio.Pcm.Length != AudioFrameFormat.BytesPerFrame)
        {
            _metrics.ReceivedFramesBadSize.Inc();
            return;
        }
        var frame = _connection.RentReceivedFrame();
        int droppedUnmixed = frame.Fill(this, _sourceSequence++, audio, UnmixedAudio);
        if (droppedUnmixed > 0) _metrics.ReceivedUnmixedDropped.Inc(droppedUnmixed);
        _connection.QueueReceivedFrame(frame);
    }

    public void OnSendStatusChanged(SendStatus status)
    {
        if (_closed) return;
        lock (_lock)
        {
            _sendStatus = (int)status;
            if (_announced) SendStatusMessage(status);
        }
        _logger.LogInformation("send status {SendStatus} for call {CallId} session {Session}", status, CallId, Number);
    }

    public void OnDominantSpeakerChanged(uint speakerId)
    {
        if (_closed) return;
        lock (_lock)
        {
            _dominantSpeaker = speakerId;
            _dominantKnown = true;
            if (_announced) DominantMessage(speakerId);
        }
    }

    public void OnToneReceived(Tone tone, long timestampTicks)
    {
        if (_closed || !_announced) return;
        _connection.Send(new Envelope { Tone = new ToneReceived { Session = Number, Tone = tone, TimestampTicks = timestampTicks } });
    }

    public void OnMediaStreamFailure(string reason)
    {
        if (_closed) return;
        _logger.LogWarning("media stream failure for call {CallId} session {Session}: {Reason}", CallId, Number, reason);
        _connection.SendError(0, ErrorCode.PlatformError, $"media stream failure: {reason}", Number);
    }

    // ---- worker requests (the connection's receive loop) ----

    /// <param name="batchSentAtUs">The FrameBatch's sent_at_us (told to an <see cref="IRenderArrivalObserver"/>).</param>
    /// <returns>null when queued, else why the frame was refused.</returns>
    public string? AcceptRenderFrame(AudioFrame frame, long batchSentAtUs)
    {
        if (frame.Context != MediaContext.AudioRender)
            return $"frame context must be MEDIA_CONTEXT_AUDIO_RENDER, got {frame.Context}";
        if (frame.Pcm.Length != AudioFrameFormat.BytesPerFrame)
            return $"frame pcm must be {AudioFrameFormat.BytesPerFrame} bytes of PCM16K, got {frame.Pcm.Length}";
        if (!CanRender) return $"session {Number} was created {Direction}: it does not send audio";
        lock (_lock)
        {
            if (_closed) return $"session {Number} is closed";
            if (_sendStatus != (int)SendStatus.Active)
            {
                // As the platform itself does: audio sent before ACTIVE is discarded. Holding it
                // instead would leave a standing backlog, i.e. added latency, for the whole call.
                _metrics.RenderDroppedNotActive.Inc();
                return null;
            }
            if (_renderSequenceKnown && frame.Sequence != unchecked(_lastRenderSequence + 1)) _metrics.RenderSequenceGaps.Inc();
            _renderSequenceKnown = true;
            _lastRenderSequence = frame.Sequence;
            if (!_render.Enqueue(frame.Pcm.Span))
            {
                _metrics.RenderDroppedOverflow.Inc();
                return null; // counted, not an error: the worker learns of it from the metric and its own pacing
            }
            // Under the lock: the tick cannot play the frame before its arrival is seen.
            _arrivals?.OnRenderFrameQueued(frame.Pcm.Span, batchSentAtUs);
        }
        _metrics.RenderAccepted.Inc();
        return null;
    }

    public void AddMark(string name)
    {
        bool placed;
        lock (_lock) placed = _render.AddMark(name);
        if (placed) return;
        // Too many marks pending (sending is not ACTIVE, or the worker floods them): answered at
        // once as not played, so the worker is never left waiting and the host holds a bounded number.
        _metrics.MarksRefused.Inc();
        _connection.Send(new Envelope { MarkPlayed = new MarkPlayed { Session = Number, Name = name, Played = false } });
    }

    public void ClearPlayout()
    {
        List<string> unplayed = new();
        int cleared;
        lock (_lock) cleared = _render.Clear(unplayed);
        if (cleared > 0) _metrics.RenderCleared.Inc(cleared);
        foreach (var name in unplayed) MarkMessage(name, played: false);
    }

    // ---- the bridge clock (tick thread) ----

    /// <summary>Plays at most one queued frame into the platform, then answers reached marks.</summary>
    public void Tick(long platformTimestampTicks)
    {
        if (_closed) return;
        bool active = _sendStatus == (int)SendStatus.Active;
        bool have;
        bool trimmed = false;
        lock (_lock)
        {
            have = active && _render.TryDequeue(_playScratch);
            if (active && _targetFrames > 0) trimmed = TrimStandingBacklog();
            while (_render.TryTakeReachedMark(out var name)) _marksScratch.Add(name);
        }
        if (trimmed) _metrics.RenderTrimmed.Inc();
        if (have)
        {
            if (_platform is { } platform && platform.Send(_playScratch, platformTimestampTicks)) _metrics.RenderPlayed.Inc();
            else _metrics.RenderRefused.Inc();
        }
        else if (_playedLastTick)
        {
            _metrics.RenderUnderruns.Inc();
        }
        _playedLastTick = have;
        if (_marksScratch.Count > 0)
        {
            foreach (var name in _marksScratch) MarkMessage(name, played: true);
            _marksScratch.Clear();
        }
    }

    /// <summary>
    /// The worker connection is gone but the platform session stays (parked): stop forwarding and
    /// drop the queued audio. Pending marks go unanswered: nobody is there to hear them.
    /// </summary>
    public void Detach()
    {
        lock (_lock)
        {
            if (_closed) return;
            _closed = true;
            int cleared = _render.Clear(new List<string>());
            if (cleared > 0) _metrics.RenderCleared.Inc(cleared);
        }
    }

    // Under _lock. Tracks the queue's minimum depth per window; a minimum above the target is a
    // standing backlog (not jitter), drained by dropping one frame per tick.
    private bool TrimStandingBacklog()
    {
        int depth = _render.Count;
        if (depth < _windowMinDepth) _windowMinDepth = depth;
        if (++_windowTicks >= _trimWindowTicks)
        {
            if (_windowMinDepth > _targetFrames) _trimBudget = _windowMinDepth - _targetFrames;
            _windowTicks = 0;
            _windowMinDepth = int.MaxValue;
        }
        if (_trimBudget == 0 || depth <= _targetFrames) return false;
        _trimBudget--;
        return _render.TryDequeue(_trimScratch);
    }

    /// <summary>Stops forwarding, answers pending marks as not played, and ends the platform session.</summary>
    public async Task CloseAsync()
    {
        List<string> unplayed = new();
        lock (_lock)
        {
            if (_closed) return;
            _closed = true;
            _render.Clear(unplayed);
        }
        foreach (var name in unplayed) MarkMessage(name, played: false);
        if (_platform is { } platform)
        {
            try
            {
                await platform.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception error)
            {
                _logger.LogWarning(error, "ending the platform session of call {CallId} session {Session} failed", CallId, Number);
            }
        }
    }

    private void SendStatusMessage(SendStatus status) =>
        _connection.Send(new Envelope { SendStatus = new SendStatusChanged { Session = Number, Status = status } });

    private void DominantMessage(uint speaker) =>
        _connection.Send(new Envelope { DominantSpeaker = new DominantSpeakerChanged { Session = Number, SpeakerId = speaker } });

    private void MarkMessage(string name, bool played)
    {
        _metrics.MarksPlayed.WithLabels(played ? "played" : "cleared").Inc();
        _connection.Send(new Envelope { MarkPlayed = new MarkPlayed { Session = Number, Name = name, Played = played } });
    }
}
