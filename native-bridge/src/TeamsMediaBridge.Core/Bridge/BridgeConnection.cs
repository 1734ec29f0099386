using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using TeamsMediaBridge.Platform;
using TeamsMediaBridge.Protocol;
using TeamsMediaBridge.Timing;

namespace TeamsMediaBridge.Bridge;

/// <summary>
/// The one worker connection: handshake, requests, all sessions multiplexed, and the bridge clock
/// that sends each 20 ms tick's received audio (one FrameBatch, several above 256 KiB) and plays one render frame per
/// session per tick. A bad message gets an Error and is otherwise ignored; it never ends the
/// connection or disturbs another session.
/// </summary>
internal sealed class BridgeConnection
{
    private readonly WebSocket _socket;
    private readonly IMediaPlatform _platform;
    // Only a platform that asks to see forwarding (the fake one's echo measurement); null for the real one.
    private readonly ISourceForwardObserver? _forwardObserver;
    private readonly BridgeOptions _options;
    private readonly BridgeMetrics _metrics;
    private readonly ILogger _logger;
    private readonly ParkedSessions _parked;
    private readonly OutboundQueue _outbound;
    private readonly CancellationTokenSource _closing = new();

    private readonly object _sessionsLock = new();
    private readonly Dictionary<uint, BridgeSession> _sessions = new();
    private readonly HashSet<string> _callIds = new(StringComparer.Ordinal);
    private readonly HashSet<string> _mediaSessionIds = new(StringComparer.OrdinalIgnoreCase);
    private BridgeSession[] _sessionSnapshot = [];
    private readonly List<Task> _pendingCreates = new();
    private uint _nextSession = 1;
    private bool _accepting = true;
    // How the shutdown that cleared _accepting treats sessions: set with it, under _sessionsLock,
    // so a create still in flight then knows whether to hand its session to the parking.
    private bool _parkOnShutdown;

    private readonly ConcurrentQueue<ReceivedFrame> _inbox = new();
    private readonly ConcurrentQueue<ReceivedFrame> _framePool = new();
    private readonly List<ReceivedFrame> _tickFrames = new(64);
    private readonly List<AudioFrame> _tickMessages = new(64);
    private readonly FrameBatch _batch = new();
    private readonly Envelope _batchEnvelope;
    private readonly FrameRefusals _unknownSessionFrames = new();
    private readonly FrameRefusals _badFrames = new();
    private const int WarningsPerSecond = 10;
    private readonly LogRateLimiter _warningLog = new(WarningsPerSecond, TimeSpan.FromSeconds(1));
    private int _backedUp;
    // Started by the handshake and read by the shutdown, both under _sessionsLock: a clock started
    // once the shutdown has run would tick forever on a dead connection.
    private DeadlineLoop? _clock;

    private volatile bool _handshakeDone;
    private int _shutdownStarted;
    private readonly TaskCompletionSource _shutdownDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _sessionsStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _writer = Task.CompletedTask;
    private readonly TaskCompletionSource _receiveEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public BridgeConnection(string id, WebSocket socket, IMediaPlatform platform, BridgeOptions options, BridgeMetrics metrics,
        ParkedSessions parked, ILogger logger)
    {
        _parked = parked;
        Id = id;
        _socket = socket;
        _platform = platform;
        _forwardObserver = platform as ISourceForwardObserver;
        _options = options;
        _metrics = metrics;
        _logger = logger;
        _outbound = new OutboundQueue(options.MaxPendingFrameBatches, options.MaxPendingControlBytes);
        _batchEnvelope = new Envelope { Frames = _batch };
    }

    public string Id { get; }

    public int SessionCount
    {
        get { lock (_sessionsLock) return _sessions.Count; }
    }

    /// <summary>Runs until the worker leaves, the socket fails, or <see cref="ShutdownAsync"/>.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        using var link = CancellationTokenSource.CreateLinkedTokenSource(stopping, _closing.Token);
        _writer = _outbound.RunAsync(_socket, _closing.Token);
        try
        {
            await ReceiveLoopAsync(link.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (link.IsCancellationRequested)
        {
        }
        catch (WebSocketException error)
        {
            _logger.LogInformation("bridge connection {Connection} lost: {Reason}", Id, error.Message);
        }
        finally
        {
            _receiveEnded.TrySetResult();
            // The calls are still up: their sessions wait (parked) for the worker to come back.
            await ShutdownAsync("worker disconnected", WebSocketCloseStatus.NormalClosure, parkSessions: true).ConfigureAwait(false);
            try
            {
                await _writer.ConfigureAwait(false);
            }
            catch (Exception error) when (error is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
                _logger.LogDebug("bridge connection {Connection} writer ended: {Reason}", Id, error.Message);
            }
        }
    }

    /// <summary>
    /// Ends every session (each answered with SessionClosed), flushes what is queued, sends the
    /// close frame and waits briefly for the worker's: aborting at once would reset the TCP
    /// connection and could destroy the last messages unread. Safe to call more than once.
    /// </summary>
    /// <param name="parkSessions">keep the platform sessions for the worker to resume (lost or
    /// replaced connection) instead of ending them (host shutdown).</param>
    public Task ShutdownAsync(string reason, WebSocketCloseStatus closeStatus, bool parkSessions) =>
        ShutdownAsync(reason, closeStatus, waitForPeer: true, parkSessions);

    /// <summary>Completes once every session is ended or parked (the socket may still be closing).</summary>
    public Task SessionsStopped => _sessionsStopped.Task;

    // From inside the receive loop the peer's close cannot be awaited (the loop itself reads it).
    private async Task ShutdownAsync(string reason, WebSocketCloseStatus closeStatus, bool waitForPeer, bool parkSessions = false)
    {
        if (Interlocked.Exchange(ref _shutdownStarted, 1) == 1)
        {
            await _shutdownDone.Task.ConfigureAwait(false);
            return;
        }
        DeadlineLoop? clock;
        try
        {
            Task[] pending;
            lock (_sessionsLock)
            {
                _parkOnShutdown = parkSessions;
                _accepting = false;
                pending = _pendingCreates.ToArray();
                clock = _clock;
            }
            await Task.WhenAll(pending).ConfigureAwait(false);
            clock?.Stop();
            BridgeSession[] sessions;
            lock (_sessionsLock) sessions = _sessions.Values.ToArray();
            foreach (var session in sessions)
            {
                if (parkSessions && _parked.Enabled) Park(session);
                else await EndSessionAsync(session, reason, requestId: 0).ConfigureAwait(false);
            }
        }
        finally
        {
            _sessionsStopped.TrySetResult();
        }
        _outbound.Complete();
        clock?.Dispose();
        try
        {
            // The writer flushes what is queued (SessionClosed among it) before the close frame.
            using var flush = new CancellationTokenSource(_options.CloseTimeout);
            await _writer.WaitAsync(flush.Token).ConfigureAwait(false);
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(closeStatus, reason, flush.Token).ConfigureAwait(false);
            }
        }
        catch (Exception error) when (error is WebSocketException or OperationCanceledException or ObjectDisposedException or TimeoutException or InvalidOperationException)
        {
            _logger.LogDebug("closing bridge connection {Connection}: {Reason}", Id, error.Message);
        }
        // The receive loop reads the worker's close frame and ends; if it does not come, abort.
        _closing.CancelAfter(_options.CloseTimeout);
        if (waitForPeer)
        {
            try
            {
                await _receiveEnded.Task.WaitAsync(_options.CloseTimeout + TimeSpan.FromSeconds(0.5)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                _closing.Cancel();
            }
        }
        _shutdownDone.TrySetResult();
        _logger.LogInformation("bridge connection {Connection} closed: {Reason}", Id, reason);
    }

    public void OnHealthChanged(PlatformHealth previous, PlatformHealth current)
    {
        if (_handshakeDone) Send(new Envelope { Health = new HealthChanged { Previous = previous, Current = current } });
    }

    // ---- used by sessions ----

    internal void Send(Envelope envelope)
    {
        switch (_outbound.Enqueue(envelope))
        {
            case EnqueueResult.Queued:
                return;
            case EnqueueResult.Closed:
                _metrics.ControlDroppedClosed.Inc();
                return;
            case EnqueueResult.Full:
                _metrics.ControlDroppedQueueFull.Inc();
                OnControlQueueFull();
                return;
        }
    }

    /// <summary>
    /// The worker has left control messages unread up to the bound: it is stuck or gone. Its
    /// connection is closed with 1008 and its sessions kept (parked) for the grace period, as for a
    /// lost connection: the calls are still up and a recovered worker resumes them.
    /// </summary>
    private void OnControlQueueFull()
    {
        if (Interlocked.Exchange(ref _backedUp, 1) == 1) return;
        _metrics.ConnectionsControlQueueFull.Inc();
        _logger.LogWarning("bridge connection {Connection}: the worker left {Bytes} bytes of control messages unread; closing it, its sessions are kept",
            Id, _options.MaxPendingControlBytes);
        // Off the caller's thread: this may be the clock thread, a platform thread or the receive loop.
        _ = Task.Run(() => ShutdownAsync("worker is not reading: control queue full", WebSocketCloseStatus.PolicyViolation, waitForPeer: true, parkSessions: true));
    }

    internal void SendError(ulong requestId, ErrorCode code, string message, uint session = 0)
    {
        _metrics.ProtocolErrors.WithLabels(code.ToString()).Inc();
        if (MayWarn()) _logger.LogWarning("bridge error {Code} to worker (session {Session}): {Message}", code, session, message);
        Send(new Envelope { RequestId = requestId, Error = new Error { Code = code, Message = message, Session = session } });
    }

    /// <summary>
    /// Whether a warning about the worker's messages may be written now. They are written on the
    /// receive loop: a worker sending a stream of bad messages must not make the log its bottleneck.
    /// </summary>
    private bool MayWarn()
    {
        if (!_warningLog.TryAcquire(out long suppressed))
        {
            _metrics.LogLinesSuppressed.Inc();
            return false;
        }
        if (suppressed > 0)
        {
            _logger.LogWarning("bridge connection {Connection}: {Suppressed} warnings about the worker's messages were left out (at most {PerSecond} a second)",
                Id, suppressed, WarningsPerSecond);
        }
        return true;
    }

    internal ReceivedFrame RentReceivedFrame() => _framePool.TryDequeue(out var frame) ? frame : new ReceivedFrame();

    internal void QueueReceivedFrame(ReceivedFrame frame) => _inbox.Enqueue(frame);

    // ---- receive side ----

    private async Task ReceiveLoopAsync(CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        int length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length && _shutdownStarted == 1)
                {
                    length = 0; // closing: the rest of an oversized message is read and thrown away
                }
                else if (length == buffer.Length)
                {
                    if (buffer.Length >= _options.MaxMessageBytes)
                    {
                        SendError(0, ErrorCode.BadMessage, $"message larger than {_options.MaxMessageBytes} bytes");
                        // A connection-level violation: the calls are still up, so their sessions
                        // are kept for the worker to resume, as when a connection is lost.
                        await ShutdownAsync("message too big", WebSocketCloseStatus.MessageTooBig, waitForPeer: false, parkSessions: true).ConfigureAwait(false);
                        length = 0;
                        continue;
                    }
                    byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, _options.MaxMessageBytes));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }
                var result = await _socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close) return;
                length += result.Count;
                if (length > _options.MaxMessageBytes && _shutdownStarted == 0)
                {
                    SendError(0, ErrorCode.BadMessage, $"message larger than {_options.MaxMessageBytes} bytes");
                    await ShutdownAsync("message too big", WebSocketCloseStatus.MessageTooBig, waitForPeer: false, parkSessions: true).ConfigureAwait(false);
                    length = 0;
                    continue;
                }
                if (!result.EndOfMessage) continue;
                if (_shutdownStarted == 1)
                {
                    // Closing: what still arrives before the worker's close frame is ignored.
                }
                else if (result.MessageType == WebSocketMessageType.Text)
                {
                    _metrics.MessagesReceived.WithLabels("text").Inc();
                    SendError(0, ErrorCode.BadMessage, "text message: the bridge carries binary protobuf Envelopes only");
                }
                else
                {
                    await HandleMessageAsync(buffer.AsMemory(0, length)).ConfigureAwait(false);
                }
                length = 0;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task HandleMessageAsync(ReadOnlyMemory<byte> message)
    {
        Envelope envelope;
        try
        {
            envelope = Envelope.Parser.ParseFrom(message.Span);
        }
        catch (InvalidProtocolBufferException error)
        {
            _metrics.MessagesReceived.WithLabels("unparsable").Inc();
            SendError(0, ErrorCode.BadMessage, $"not a protobuf Envelope: {error.Message}");
            return;
        }
        _metrics.MessagesReceived.WithLabels(envelope.BodyCase.ToString()).Inc();
        try
        {
            if (!_handshakeDone)
            {
                await HandleHandshakeAsync(envelope).ConfigureAwait(false);
                return;
            }
            switch (envelope.BodyCase)
            {
                case Envelope.BodyOneofCase.Frames: HandleRenderFrames(envelope.Frames); break;
                case Envelope.BodyOneofCase.CreateSession: StartCreateSession(envelope.RequestId, envelope.CreateSession); break;
                case Envelope.BodyOneofCase.CloseSession: await HandleCloseSessionAsync(envelope.RequestId, envelope.CloseSession).ConfigureAwait(false); break;
                case Envelope.BodyOneofCase.Mark: HandleMark(envelope.RequestId, envelope.Mark); break;
                case Envelope.BodyOneofCase.Clear: HandleClear(envelope.RequestId, envelope.Clear); break;
                case Envelope.BodyOneofCase.Ping:
                    Send(new Envelope { Pong = new Pong { Id = envelope.Ping.Id, PingSentAtUs = envelope.Ping.SentAtUs, RepliedAtUs = NowMicroseconds() } });
                    break;
                case Envelope.BodyOneofCase.Pong: break; // answers to keepalives the host does not send; harmless
                case Envelope.BodyOneofCase.Error:
                    if (MayWarn())
                    {
                        _logger.LogWarning("worker reported error {Code} (session {Session}): {Message}",
                            envelope.Error.Code, envelope.Error.Session, envelope.Error.Message);
                    }
                    break;
                case Envelope.BodyOneofCase.None:
                    // A body this version does not know (versioning rule 5): count and ignore.
                    _metrics.UnknownMessages.Inc();
                    break;
                case Envelope.BodyOneofCase.Hello:
                    SendError(envelope.RequestId, ErrorCode.BadMessage, "Hello after the handshake");
                    break;
                default:
                    SendError(envelope.RequestId, ErrorCode.BadMessage, $"{envelope.BodyCase} is sent by the host, not the worker");
                    break;
            }
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            _logger.LogError(error, "handling {Body} failed", envelope.BodyCase);
            SendError(envelope.RequestId, ErrorCode.BadMessage, $"could not handle {envelope.BodyCase}: {error.Message}");
        }
    }

    private async Task HandleHandshakeAsync(Envelope envelope)
    {
        if (envelope.BodyCase != Envelope.BodyOneofCase.Hello)
        {
            SendError(envelope.RequestId, ErrorCode.BadMessage, $"Hello expected first, got {envelope.BodyCase}");
            return;
        }
        var hello = envelope.Hello;
        if (hello.ProtocolVersion != ProtocolInfo.Version)
        {
            _metrics.ConnectionsVersionMismatch.Inc();
            SendError(envelope.RequestId, ErrorCode.VersionMismatch,
                $"protocol version {hello.ProtocolVersion} is not supported; this host speaks {ProtocolInfo.Version}");
            await ShutdownAsync("protocol version mismatch", WebSocketCloseStatus.PolicyViolation, waitForPeer: false).ConfigureAwait(false);
            return;
        }
        var ack = new HelloAck
        {
            ProtocolVersion = ProtocolInfo.Version,
            Peer = _options.PeerName,
            Health = _platform.Health,
            MaxSessions = (uint)_options.MaxSessions,
        };
        ack.Capabilities.AddRange(ProtocolInfo.Capabilities);
        Send(new Envelope { RequestId = envelope.RequestId, HelloAck = ack });
        _handshakeDone = true;
        _logger.LogInformation("bridge connection {Connection}: worker {Peer} protocol {Version} capabilities [{Capabilities}]",
            Id, hello.Peer, hello.ProtocolVersion, string.Join(",", hello.Capabilities));
        lock (_sessionsLock)
        {
            // A newer connection may have replaced this one (or the host stopped) while this Hello
            // was handled: that shutdown has run and will not stop a clock started now.
            if (!_accepting) return;
            _clock = new DeadlineLoop("bridge-clock", TimeSpan.FromMilliseconds(AudioFrameFormat.FrameMilliseconds), OnTick,
                error => _logger.LogError(error, "bridge clock tick failed"));
            _clock.Start();
        }
    }

    /// <summary>Queues each frame on its session; refused frames are counted one by one but answered with at most one Error per code.</summary>
    private void HandleRenderFrames(FrameBatch batch)
    {
        foreach (var frame in batch.Frames)
        {
            BridgeSession? session;
            lock (_sessionsLock) _sessions.TryGetValue(frame.Session, out session);
            if (session is null)
            {
                _metrics.RenderRejectedUnknownSession.Inc();
                _unknownSessionFrames.Add(frame.Session, _unknownSessionFrames.Count == 0 ? $"frame for unknown session {frame.Session}" : null);
                continue;
            }
            string? refusal = session.AcceptRenderFrame(frame, batch.SentAtUs);
            if (refusal is not null)
            {
                _metrics.RenderRejectedBadFrame.Inc();
                _badFrames.Add(frame.Session, refusal);
            }
        }
        ReportRefusals(ErrorCode.UnknownSession, _unknownSessionFrames);
        ReportRefusals(ErrorCode.BadFrame, _badFrames);
    }

    private void ReportRefusals(ErrorCode code, FrameRefusals refusals)
    {
        if (refusals.Count == 0) return;
        SendError(0, code, refusals.Describe(), refusals.Session);
        refusals.Clear();
    }

    private void StartCreateSession(ulong requestId, CreateSession request)
    {
        string? invalid = Validate(request, out Guid mediaSessionId);
        if (invalid is not null)
        {
            SendError(requestId, ErrorCode.BadMessage, invalid);
            return;
        }
        // A reconnected worker resuming a call whose session was kept: no new platform session.
        var parked = _parked.TakeFor(request, out string? conflict);
        if (conflict is not null)
        {
            SendError(requestId, ErrorCode.DuplicateSession, conflict);
            return;
        }
        if (parked is not null)
        {
            Resume(requestId, request, parked);
            return;
        }
        if (_options.RefuseWhenHeavilyLoaded && _platform.Health is PlatformHealth.HeavilyLoaded or PlatformHealth.Overloaded)
        {
            SendError(requestId, ErrorCode.Overloaded, $"media platform is {_platform.Health}: no new sessions");
            return;
        }
        BridgeSession session;
        lock (_sessionsLock)
        {
            if (!_accepting)
            {
                SendError(requestId, ErrorCode.PlatformError, "host is shutting down");
                return;
            }
            if (_options.MaxSessions > 0 && _sessions.Count + _pendingCreates.Count + _parked.Count >= _options.MaxSessions)
            {
                SendError(requestId, ErrorCode.SessionLimit, $"session limit {_options.MaxSessions} reached");
                return;
            }
            if (_callIds.Contains(request.CallId))
            {
                SendError(requestId, ErrorCode.DuplicateSession, $"call {request.CallId} already has a session");
                return;
            }
            if (!_mediaSessionIds.Add(mediaSessionId.ToString("D")))
            {
                SendError(requestId, ErrorCode.DuplicateSession, $"media session {mediaSessionId} already exists");
                return;
            }
            _callIds.Add(request.CallId);
            uint number = _nextSession++;
            if (_nextSession == 0) _nextSession = 1; // 0 names the connection
            session = new BridgeSession(number, request, this, _options, _metrics, _logger);
            var task = CreateSessionAsync(requestId, session, mediaSessionId);
            _pendingCreates.Add(task);
            _ = task.ContinueWith(t => { lock (_sessionsLock) _pendingCreates.Remove(t); }, TaskScheduler.Default);
        }
    }

    // Runs off the receive loop so a slow platform call never holds up other sessions' frames.
    private async Task CreateSessionAsync(ulong requestId, BridgeSession session, Guid mediaSessionId)
    {
        await Task.Yield();
        using var scope = _logger.BeginScope(new Dictionary<string, object> { ["CallId"] = session.CallId, ["Session"] = session.Number });
        IPlatformSession platformSession;
        var relay = new SessionEventRelay();
        relay.Attach(session);
        try
        {
            platformSession = await _platform.CreateSessionAsync(
                new PlatformSessionRequest(session.CallId, mediaSessionId, session.Direction, session.UnmixedAudio),
                relay, _closing.Token).ConfigureAwait(false);
        }
        catch (Exception error)
        {
            lock (_sessionsLock)
            {
                _callIds.Remove(session.CallId);
                _mediaSessionIds.Remove(mediaSessionId.ToString("D"));
            }
            _logger.LogError(error, "platform could not create a session for call {CallId}", session.CallId);
            SendError(requestId, ErrorCode.PlatformError, $"platform could not create the session: {error.Message}");
            return;
        }
        session.Attach(platformSession, relay);
        lock (_sessionsLock)
        {
            _sessions.Add(session.Number, session);
            _sessionSnapshot = _sessions.Values.ToArray();
            // The platform may have chosen another id; keep the one it reports.
            _mediaSessionIds.Remove(mediaSessionId.ToString("D"));
            _mediaSessionIds.Add(platformSession.Info.MediaSessionId);
        }
        _metrics.SessionsCreated.Inc();
        _metrics.SessionsActive.Inc();
        Announce(requestId, session);
        _logger.LogInformation("session {Session} created for call {CallId} ({Direction}, unmixed {Unmixed})",
            session.Number, session.CallId, session.Direction, session.UnmixedAudio);
        bool stillAccepting;
        bool parking;
        lock (_sessionsLock)
        {
            stillAccepting = _accepting;
            parking = _parkOnShutdown;
        }
        if (stillAccepting) return;
        // The connection closed while the platform was creating this session. Lost or replaced
        // (parking): the call may already be bound to it and the worker may resume it, so it is
        // kept like the connection's other sessions. Host shutdown: it ends.
        if (parking && _parked.Enabled) Park(session);
        else await EndSessionAsync(session, "host shutting down", 0).ConfigureAwait(false);
    }

    private void Resume(ulong requestId, CreateSession request, ParkedSession parked)
    {
        BridgeSession session;
        lock (_sessionsLock)
        {
            if (!_accepting)
            {
                _parked.Park(parked);
                SendError(requestId, ErrorCode.PlatformError, "connection is closing");
                return;
            }
            uint number = _nextSession++;
            if (_nextSession == 0) _nextSession = 1;
            session = new BridgeSession(number, request, this, _options, _metrics, _logger);
            session.Attach(parked.Platform, parked.Relay);
            _sessions.Add(number, session);
            _callIds.Add(session.CallId);
            _mediaSessionIds.Add(parked.MediaSessionId);
            _sessionSnapshot = _sessions.Values.ToArray();
        }
        // Counted here, not when taken from the parking: a resume refused above is no resume.
        _metrics.SessionsResumed.Inc();
        parked.Relay.Attach(session);
        session.Seed(parked.Relay.LastSendStatus, parked.Relay.LastDominantSpeaker);
        Announce(requestId, session);
        _logger.LogInformation("session {Session} resumed for call {CallId} (media session {MediaSessionId})",
            session.Number, session.CallId, parked.MediaSessionId);
    }

    /// <summary>SessionCreated, then the session's held events (send status first).</summary>
    private void Announce(ulong requestId, BridgeSession session)
    {
        var info = session.Platform!.Info;
        Send(new Envelope
        {
            RequestId = requestId,
            SessionCreated = new SessionCreated
            {
                Session = session.Number,
                CallId = session.CallId,
                MediaSessionId = info.MediaSessionId,
                MpUri = info.MpUri,
                AudioRenderContextId = info.AudioRenderContextId,
                AudioSourceContextId = info.AudioSourceContextId,
                SkypeMediaBotsVersion = info.SkypeMediaBotsVersion,
                MediaStackVersion = info.MediaStackVersion,
                MpVersion = info.MpVersion,
                MediaConfigurationJson = info.MediaConfigurationJson,
            },
        });
        session.Announce();
    }

    private void Park(BridgeSession session)
    {
        lock (_sessionsLock)
        {
            if (!_sessions.Remove(session.Number)) return;
            _callIds.Remove(session.CallId);
            if (session.Platform is { } p) _mediaSessionIds.Remove(p.Info.MediaSessionId);
            _sessionSnapshot = _sessions.Values.ToArray();
        }
        session.Detach();
        if (session.Platform is { } platform && session.Relay is { } relay)
        {
            _parked.Park(new ParkedSession(platform, relay, session.CallId, platform.Info.MediaSessionId, session.Direction, session.UnmixedAudio));
        }
    }

    private static string? Validate(CreateSession request, out Guid mediaSessionId)
    {
        mediaSessionId = Guid.Empty;
        if (string.IsNullOrWhiteSpace(request.CallId)) return "CreateSession.call_id is required";
        if (request.CallId.Length > 256) return "CreateSession.call_id is longer than 256 characters";
        if (request.Direction is not (AudioDirection.SendRecv or AudioDirection.RecvOnly or AudioDirection.SendOnly))
            return $"CreateSession.direction must be SEND_RECV, RECV_ONLY or SEND_ONLY, got {request.Direction}";
        // UNSPECIFIED predates the field's meaning (rule 3): PCM16K is the only format there is.
        if (request.Format is not (AudioFormat.Pcm16K or AudioFormat.Unspecified))
            return $"CreateSession.format {request.Format} is not supported (PCM16K only)";
        if (request.MediaSessionId.Length == 0)
        {
            mediaSessionId = Guid.NewGuid();
        }
        else if (!Guid.TryParseExact(request.MediaSessionId, "D", out mediaSessionId))
        {
            return $"CreateSession.media_session_id must be a GUID, got \"{Truncate(request.MediaSessionId)}\"";
        }
        return null;
    }

    private async Task HandleCloseSessionAsync(ulong requestId, CloseSession request)
    {
        BridgeSession? session;
        lock (_sessionsLock) _sessions.TryGetValue(request.Session, out session);
        if (session is null)
        {
            SendError(requestId, ErrorCode.UnknownSession, $"no session {request.Session} to close", request.Session);
            return;
        }
        await EndSessionAsync(session, string.IsNullOrEmpty(request.Reason) ? "closed by worker" : request.Reason, requestId).ConfigureAwait(false);
    }

    private async Task EndSessionAsync(BridgeSession session, string reason, ulong requestId)
    {
        lock (_sessionsLock)
        {
            if (!_sessions.Remove(session.Number)) return;
            _callIds.Remove(session.CallId);
            if (session.Platform is { } p) _mediaSessionIds.Remove(p.Info.MediaSessionId);
            _sessionSnapshot = _sessions.Values.ToArray();
        }
        session.Relay?.Attach(null);
        await session.CloseAsync().ConfigureAwait(false);
        _metrics.SessionsActive.Dec();
        _metrics.SessionsClosed.WithLabels(requestId != 0 ? "worker" : "host").Inc();
        Send(new Envelope { RequestId = requestId, SessionClosed = new SessionClosed { Session = session.Number, CallId = session.CallId, Reason = reason } });
        _logger.LogInformation("session {Session} of call {CallId} closed: {Reason}", session.Number, session.CallId, reason);
    }

    private void HandleMark(ulong requestId, PlayoutMark mark)
    {
        if (Lookup(requestId, mark.Session) is { } session)
        {
            if (mark.Name.Length > 256) SendError(requestId, ErrorCode.BadMessage, "PlayoutMark.name is longer than 256 characters", mark.Session);
            else session.AddMark(mark.Name);
        }
    }

    private void HandleClear(ulong requestId, ClearPlayout clear)
    {
        if (Lookup(requestId, clear.Session) is { } session) session.ClearPlayout();
    }

    private BridgeSession? Lookup(ulong requestId, uint number)
    {
        BridgeSession? session;
        lock (_sessionsLock) _sessions.TryGetValue(number, out session);
        if (session is null) SendError(requestId, ErrorCode.UnknownSession, $"no session {number}", number);
        return session;
    }

    // ---- the bridge clock ----

    private void OnTick(long index, TimeSpan lateness)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        _metrics.TickLateness.Observe(lateness.TotalSeconds);

        // Everything received since the last tick, across sessions, goes to the worker: in one
        // FrameBatch, or several when a late tick's frames would pass the protocol's size limit.
        while (_inbox.TryDequeue(out var frame))
        {
            if (frame.Owner is { IsClosed: false }) _tickFrames.Add(frame);
            else ReturnFrame(frame);
        }
        if (_tickFrames.Count > 0)
        {
            SendTickFrames();
            foreach (var frame in _tickFrames) ReturnFrame(frame);
            _tickFrames.Clear();
        }

        // One render frame per session into the platform, stamped with the platform's clock.
        long platformTicks = _platform.GetTimestampTicks();
        foreach (var session in Volatile.Read(ref _sessionSnapshot)) session.Tick(platformTicks);

        _metrics.TickDuration.Observe(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    /// <summary>The tick's frames in consecutive FrameBatch messages of at most MaxFrameBatchBytes, all stamped alike.</summary>
    private void SendTickFrames()
    {
        int count = _tickFrames.Count;
        if (!_outbound.TryReserveTick())
        {
            _metrics.BatchesDropped.Inc();
            _metrics.ReceivedFramesDroppedBackedUp.Inc(count);
            return;
        }
        for (int i = 0; i < count; i++) _tickMessages.Add(_tickFrames[i].Message);
        _batch.SentAtUs = NowMicroseconds();
        if (_forwardObserver is { } observer)
        {
            long forwardedAt = _platform.GetTimestampTicks();
            for (int i = 0; i < count; i++) observer.OnSourceFrameForwarded(_tickFrames[i].Message.TimestampTicks, forwardedAt);
        }
        int start = 0;
        int messages = 0;
        while (start < count)
        {
            int run = FrameBatchPacker.NextRun(_tickMessages, start, _options.MaxFrameBatchBytes);
            _batch.Frames.Clear();
            for (int i = start; i < start + run; i++) _batch.Frames.Add(_tickMessages[i]);
            bool last = start + run == count;
            if (!_outbound.EnqueueTickBatch(_batchEnvelope, last))
            {
                // Closed: nothing more goes out on this connection.
                if (!last) _outbound.ReleaseTick();
                break;
            }
            _metrics.BatchesSent.Inc();
            _metrics.ReceivedFramesForwarded.Inc(run);
            messages++;
            start += run;
        }
        if (messages > 1) _metrics.TicksSplit.Inc();
        _batch.Frames.Clear();
        _tickMessages.Clear();
    }

    private void ReturnFrame(ReceivedFrame frame)
    {
        frame.Release();
        _framePool.Enqueue(frame);
    }

    internal static long NowMicroseconds() => (DateTimeOffset.UtcNow.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    private static string Truncate(string value) => value.Length <= 64 ? value : value[..64] + "…";
}
