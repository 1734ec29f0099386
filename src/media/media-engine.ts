import { randomUUID } from "node:crypto";
import type { BridgeClient } from "../bridge/bridge-client.js";
import {
  BridgeRequestError,
  type CreateSessionRequest,
  type SessionCreatedInfo,
} from "../bridge/bridge-client-types.js";
import type { BridgeProtocolError } from "../bridge/bridge-protocol-error.js";
import type { ConnectFailure } from "../bridge/connect-failure.js";
import type { FrameBatchReader, InvalidFrame } from "../bridge/frame-batch-reader.js";
import { FrameBatchWriter, restampSentAt } from "../bridge/frame-batch-writer.js";
import { MAX_FRAME_BATCH_BYTES, NO_SESSION, toneFromGraphName, v1 } from "../bridge/protocol.js";
import { SendBufferPool } from "../bridge/send-buffer-pool.js";
import { LogRateLimiter } from "../log/log-rate-limiter.js";
import type { Logger } from "../log/logger.js";
import type { MediaMetrics } from "../metrics/media-metrics.js";
import { FRAME_DURATION_MS, NO_SPEAKER } from "./audio-format.js";
import type { CallEvent, RosterParticipant } from "./bot-api.js";
import type { CallControlResult } from "./call-control-request.js";
import { CallSession } from "./call-session.js";
import { EarlySessionEvents } from "./early-session-events.js";
import { SessionMemory } from "./frame-arena.js";
import { createCallHandlers, type LoadedHandler } from "./handler-loader.js";
import type { LatencyProbe } from "./latency-probe.js";
import { type MediaTimers, realTimers } from "./media-timers.js";
import { Pacer, type PacerClock, realClock } from "./pacer.js";
import { PlayoutQueue } from "./playout-queue.js";
import { ReaderFrameView } from "./reader-frame-view.js";
import { sessionChanges } from "./session-identity.js";
import { SessionsByNumber } from "./sessions-by-number.js";
import type { CreatedSession, CreateSessionParams, MediaHostHealth, WorkerEvent } from "./worker-messages.js";

/** The part of BridgeClient the engine uses. */
export type MediaBridge = Pick<
  BridgeClient,
  | "isOpen"
  | "health"
  | "connect"
  | "createSession"
  | "closeSession"
  | "sendFrameBatch"
  | "sendClear"
  | "close"
  | "on"
>;

export interface MediaEngineOptions {
  bridge: MediaBridge;
  metrics: MediaMetrics;
  log: Logger;
  handlers: readonly LoadedHandler[];
  recordingsDir: string;
  playoutQueueFrames: number;
  /** Depth live audio (the echo, `sendLive`) is trimmed back to, in frames (default 2). */
  livePlayoutTargetFrames?: number;
  /** That depth adapts per call between 0 and livePlayoutTargetFrames (see PlayoutQueueOptions). */
  adaptiveLiveTarget?: boolean;
  jitterDepthFrames: number;
  maxConcealFrames: number;
  reconnectGraceMs: number;
  /**
   * How long a createSession may take in all, retries after a dropped connection included
   * (default 5000: the bridge's request timeout). The signaling side waits about as long.
   */
  createTimeoutMs?: number;
  /** Events for the signaling thread. */
  emit: (event: WorkerEvent) => void;
  clock?: PacerClock;
  /**
   * Time and timeouts of everything but the pacer (default: performance.now and setTimeout).
   * The test kit passes its virtual clock as both `clock` and `timers`.
   */
  timers?: MediaTimers;
  /** The pacer's timer lead (see PacerOptions.leadMs; tests set it with a clock of their own). */
  pacerLeadMs?: number;
  /**
   * Keep the clock's deadlines half a period after the host's batches arrive (see
   * followHostPhase). Default: on with the real clock, off with an injected one.
   */
  followHostPhase?: boolean;
  /** Reads each stage of the worker's share of an echo exactly (benchmarks, diagnosis). */
  probe?: LatencyProbe;
}

const SOURCE = v1.MediaContext.MEDIA_CONTEXT_AUDIO_SOURCE as number;
const RENDER = v1.MediaContext.MEDIA_CONTEXT_AUDIO_RENDER as number;

/** At most one "media host error" line per error code per this period. */
const HOST_ERROR_LOG_INTERVAL_MS = 10_000;

/** How long a recording-status request waits for signaling's answer. */
const RECORDING_STATUS_TIMEOUT_MS = 15_000;

/**
 * Batches of one tick kept for its deadline: 15 × 256 KiB holds about 5,800 sessions; beyond
 * that, further pieces go out as soon as they are full (early rather than late).
 */
const STAGED_BATCHES = 15;

/**
 * The clock's grid moves this fraction of its phase error per received batch, at most
 * MAX_PHASE_STEP_MS: about a second to settle from the worst phase, and a late batch moves it
 * a quarter of a millisecond at most.
 */
const PHASE_GAIN = 0.05;
const MAX_PHASE_STEP_MS = 0.25;

/** Received frames routed between checks whether the media clock's next tick is due. */
const FRAMES_PER_CLOCK_CHECK = 32;

/**
 * The media worker's core: owns the sessions, routes received frames to them, runs the one
 * media clock that renders every session's next frame into one FrameBatch per tick, and rides
 * out media host disconnects for up to the grace period.
 */
export class MediaEngine {
  private readonly byCall = new Map<string, CallSession>();
  /** Looked up for every received frame (see SessionsByNumber). */
  private readonly byNumber = new SessionsByNumber<CallSession>();
  /** The sessions as an array, iterated per tick without allocating an iterator. */
  private sessions: CallSession[] = [];
  /**
   * One tick's render frames; split into several messages above the protocol's batch limit.
   * Each message is written into a pooled buffer that the bridge's socket writes as it is
   * and gives back once written (a copy of every batch at the deadline cost ~0.16 ms per
   * 227 KB message at 1000 calls: most of the time from the deadline to sent).
   */
  private readonly writer = new FrameBatchWriter({
    sendBuffers: new SendBufferPool(MAX_FRAME_BATCH_BYTES),
    onFull: (bytes, frames, release) => this.stage(bytes, frames, release),
  });
  /** The tick's finished batches (pooled buffers it owns until sent), sent at its deadline. */
  private readonly staged: Uint8Array[] = [];
  private readonly stagedRelease: ((() => void) | null)[] = [];
  private readonly stagedFrames = new Int32Array(STAGED_BATCHES);
  private stagedCount = 0;
  /** sent_at_us the writer put in the batches being written (the tick's deadline or later). */
  private writtenAtUs = 0;
  /**
   * The clock reading the batches of one tick carry, taken when the first of them is handed to
   * the bridge (split batches of a tick share one sent_at_us, per the .proto); 0 = none sent yet.
   */
  private sentAtUs = 0;
  private readonly pacer: Pacer;
  private readonly view = new ReaderFrameView();
  /** Shared with the sessions: updated per batch and per tick (see CallSessionContext.time). */
  private readonly time = { nowMs: 0 };
  /** The sessions' frame memory, in the order they are created (and iterated per tick). */
  private readonly memory: SessionMemory;
  private readonly log: Logger;
  private readonly metrics: MediaMetrics;
  private readonly recordingRequests = new Map<
    string,
    { status: string; resolve: (ok: boolean) => void; timer: unknown }
  >();
  /** Events for session numbers not registered yet (see EarlySessionEvents). */
  private readonly early = new EarlySessionEvents();
  /**
   * Calls whose CreateSession is in flight, with the reason they were closed meanwhile (if
   * they were): the answer then closes the host's new session instead of adding the call.
   */
  private readonly creating = new Map<string, { closedFor?: string }>();
  /**
   * What the host answered for each call's session: a resume must answer the same (see
   * session-identity.ts). Weak: it goes with its CallSession.
   */
  private readonly created = new WeakMap<CallSession, SessionCreatedInfo>();
  /** Sessions of placed calls still under their provisional id, without handlers (see bindCallId). */
  private readonly unbound = new Set<CallSession>();
  /** Creations waiting for the host to come back (true) or for their time to run out (false). */
  private readonly hostWaiters = new Set<(open: boolean) => void>();
  private readonly hostErrorLog = new LogRateLimiter(HOST_ERROR_LOG_INTERVAL_MS);
  private maxSessions = 0;
  /** Why the bridge is not open, as the client last reported it (null while open). */
  private lastFailure: ConnectFailure | null = null;
  private graceTimer: unknown;
  private lostAt = 0;
  private closing = false;
  /** The clock skipped ticks before the tick now running (see CallSession.clockSkipped). */
  private clockSkipped = false;

  /** Render ticks run so far: the number of the next one (see CallSession.renderedThrough). */
  private renders = 0;
  /**
   * Calls that queued live audio since the last sendLiveNow (each once: liveWaiting), kept in
   * an array that only grows to the session count: nothing is allocated per frame.
   */
  private readonly liveCalls: (CallSession | undefined)[] = [];
  private liveCount = 0;
  /** sendLiveNow is writing: finished pieces go out at once instead of waiting for a deadline. */
  private sendingLive = false;
  private readonly followPhase: boolean;
  private readonly probe: LatencyProbe | undefined;
  /** The batch being handled: when it was delivered and when its frames were through (probe). */
  private batchReceivedAtMs = 0;
  private batchHandledAtMs = 0;
  /** When the last received batch was handled (clock ms), for followHostPhase. */
  private lastBatchAtMs = Number.NEGATIVE_INFINITY;

  /** The pacer's clock and the other timers (see MediaEngineOptions.timers). */
  private readonly clock: PacerClock;
  private readonly timers: MediaTimers;

  constructor(private readonly options: MediaEngineOptions) {
    this.log = options.log;
    this.clock = options.clock ?? realClock;
    this.timers = options.timers ?? realTimers;
    this.metrics = options.metrics;
    this.followPhase = options.followHostPhase ?? options.clock === undefined;
    this.probe = options.probe;
    this.memory = new SessionMemory(PlayoutQueue.bytes(options.playoutQueueFrames));
    this.pacer = new Pacer({
      clock: options.clock,
      leadMs: options.pacerLeadMs,
      // Live audio goes as it comes (sendLiveNow); the rest of a tick goes as soon as it is
      // rendered, up to the lead early, rather than blocking the thread until the deadline.
      waitForDeadline: false,
      prepare: this.render,
      onTick: this.tick,
      onSkipped: (ticks) => {
        this.clockSkipped = true;
        this.metrics.pacerSkippedTicks.inc(ticks);
        this.log.warn({ ticks }, "media clock stalled; skipped render ticks");
      },
    });
    const bridge = options.bridge;
    bridge.on("open", (info) => {
      this.maxSessions = info.maxSessions;
      this.lastFailure = null;
      this.metrics.bridgeConnected.set(1);
      this.log.info(
        { peer: info.peer, health: info.health, maxSessions: info.maxSessions },
        "media host connected",
      );
      void this.resumeSessions();
      for (const wake of [...this.hostWaiters]) wake(true);
      this.publishState();
    });
    bridge.on("disconnected", ({ reason, failure }) => {
      // Reported with the state, so /readyz can say why (unreachable, secret refused, TLS).
      this.lastFailure = failure ?? null;
      this.onDisconnected(reason);
    });
    bridge.on("frames", this.onFrames);
    bridge.on("sendStatus", ({ session, active }) => {
      const call = this.byNumber.get(session);
      if (call) this.applySendStatus(call, active);
      else this.early.sendStatus(session, active);
    });
    bridge.on("dominantSpeaker", ({ session, speakerId }) => {
      const call = this.byNumber.get(session);
      if (call) call.dominantSpeakerChanged(speakerId === NO_SPEAKER ? null : speakerId);
      else this.early.dominantSpeaker(session, speakerId);
    });
    bridge.on("tone", ({ session, tone }) => {
      const call = this.byNumber.get(session);
      if (call) call.toneReceived(tone, "media");
      else this.early.tone(session, tone);
    });
    bridge.on("markPlayed", ({ session, name, played }) =>
      // Marks are reported by this worker when their last frame was sent (see PlayoutQueue);
      // the host's own report is only logged.
      this.log.debug({ session, name, played }, "host reported a playout mark"),
    );
    bridge.on("health", ({ previous, current }) => {
      this.log.info({ previous, current }, "media platform health changed");
      this.publishState();
    });
    bridge.on("sessionClosed", ({ session, callId, reason, requested }) => {
      if (requested) return;
      const call = this.byNumber.get(session);
      if (call) void this.loseSession(call, `media host closed the session: ${reason}`, "host_closed");
      else this.log.debug({ session, callId }, "host closed an unknown session");
    });
    bridge.on("hostError", ({ code, message, session }) => {
      // A host may send these every tick: one line per code per interval (see BridgeClient).
      const notLoggedBefore = this.hostErrorLog.take(code);
      if (notLoggedBefore === undefined) return;
      this.log.warn(
        { code, message, session, callId: this.byNumber.get(session)?.callId, notLoggedBefore },
        "media host error",
      );
    });
    bridge.on("protocolError", (error: BridgeProtocolError) => {
      // A refused FrameBatch loses every frame it carried (framesLost); a refused control
      // message loses no audio (the bridge counts it under bridge_protocol_errors_total).
      if (error.framesLost === 0) return;
      if (error.reason === "bad_pcm_length") this.metrics.dropped.bad_size.inc(error.framesLost);
      else this.metrics.dropped.malformed.inc(error.framesLost);
      // Their places, where the bytes name them, are given up at once (see JitterBuffer.refuse).
      const now = performance.now();
      for (const place of error.refusedPlaces) this.byNumber.get(place.session)?.refused(place.sequence, now);
    });
  }

  get sessionCount(): number {
    return this.byCall.size;
  }

  start(): void {
    this.options.bridge.connect();
    this.publishState();
  }

  async createSession(params: CreateSessionParams): Promise<CreatedSession> {
    if (this.closing) throw new Error("media worker is shutting down");
    if (this.byCall.has(params.callId) || this.creating.has(params.callId))
      throw new Error(`call ${params.callId} already has a media session`);
    if (!this.options.bridge.isOpen) throw new Error("media host is not connected");
    const creating: { closedFor?: string } = {};
    this.creating.set(params.callId, creating);
    let info: SessionCreatedInfo;
    try {
      info = await this.createOnHost(params, creating);
    } finally {
      this.creating.delete(params.callId);
    }
    if (creating.closedFor !== undefined) {
      this.closeHostSession(info.session, creating.closedFor);
      throw new Error(`call ${params.callId} was closed while its media session was being created`);
    }
    const refused = this.refusedNumber(info.session);
    if (refused !== undefined) throw new Error(refused);
    const call = new CallSession(
      params.callId,
      info.mediaSessionId,
      info.session,
      params.direction,
      params.unmixedAudio,
      {
        log: this.log,
        metrics: this.metrics,
        time: this.time,
        timers: this.timers,
        recordingsDir: this.options.recordingsDir,
        playoutQueueFrames: this.options.playoutQueueFrames,
        livePlayoutTargetFrames: this.options.livePlayoutTargetFrames,
        adaptiveLiveTarget: this.options.adaptiveLiveTarget,
        jitterDepthFrames: this.options.jitterDepthFrames,
        maxConcealFrames: this.options.maxConcealFrames,
        memory: this.memory,
        sendClear: (session) => {
          // NO_SESSION: the host is away or the session is being resumed (nothing to clear there).
          if (session !== NO_SESSION && this.options.bridge.isOpen) this.options.bridge.sendClear(session);
        },
        requestRecordingStatus: (callId, status) => this.requestRecordingStatus(callId, status),
        requestHangUp: (callId, reason) => this.options.emit({ type: "hangUpRequested", callId, reason }),
        requestCallControl: (callId, requestId, request) =>
          this.options.emit({ type: "callControlRequested", callId, requestId, request }),
        liveQueued: (call) => {
          this.liveCalls[this.liveCount++] = call;
        },
      },
    );
    this.created.set(call, info);
    this.add(call);
    if (params.placed) {
      // Its handlers are created by bindCallId, once Graph named the call: MediaCall.callId is
      // always the Graph call id.
      this.unbound.add(call);
      call.log.info(
        { session: info.session, direction: params.direction },
        "media session created under a provisional id",
      );
    } else {
      await this.attachHandlers(call);
      call.log.info({ session: info.session, direction: params.direction }, "media session created");
    }
    return {
      callId: info.callId || params.callId,
      mediaSessionId: info.mediaSessionId,
      mpUri: info.mpUri,
      audioRenderContextId: info.audioRenderContextId,
      audioSourceContextId: info.audioSourceContextId,
      skypeMediaBotsVersion: info.skypeMediaBotsVersion,
      mediaStackVersion: info.mediaStackVersion,
      mpVersion: info.mpVersion,
      mediaConfigurationJson: info.mediaConfigurationJson,
    };
  }

  /**
   * A placed call's Graph call id arrived: the session created under the provisional id is
   * re-keyed to it, then its handlers are created. Rejects when the session is gone (closed,
   * lost) or was bound already, or when another session has that call id.
   */
  async bindCallId(provisionalId: string, callId: string): Promise<void> {
    const call = this.byCall.get(provisionalId);
    if (call === undefined || !this.unbound.has(call))
      throw new Error(`no media session waits for a call id under ${provisionalId}`);
    if (this.byCall.has(callId) || this.creating.has(callId))
      throw new Error(`call ${callId} already has a media session`);
    this.unbound.delete(call);
    this.byCall.delete(provisionalId);
    this.byCall.set(callId, call);
    const recording = this.recordingRequests.get(provisionalId);
    if (recording !== undefined) {
      this.recordingRequests.delete(provisionalId);
      this.recordingRequests.set(callId, recording);
    }
    call.rekey(callId);
    call.log.info("media session bound to its Graph call id");
    await this.attachHandlers(call);
  }

  private async attachHandlers(call: CallSession): Promise<void> {
    if (!(await call.attachHandlers(await createCallHandlers(this.options.handlers, call)))) {
      // Closed (or lost) while its handlers were being created: they got onEnd all the same.
      throw new Error(`call ${call.callId} was closed while its media session was being created`);
    }
  }

  /** A call event of a placed call, for its handlers. */
  callEvent(callId: string, event: CallEvent): void {
    this.byCall.get(callId)?.callEvent(event);
  }

  /**
   * CreateSession under a media session id of our own (a fresh GUID), so that it can be sent
   * again when the connection drops before the answer: the host keeps a session it was
   * creating for the reconnect grace, and the same request resumes it (proto "Reconnects").
   * Retried once the host is back, within the grace and the create's deadline; a call not
   * answered yet is bound to no session, so a host that lost it and creates it anew is fine.
   */
  private async createOnHost(
    params: CreateSessionParams,
    creating: { closedFor?: string },
  ): Promise<SessionCreatedInfo> {
    const deadlineMs = this.timers.now() + (this.options.createTimeoutMs ?? 5000);
    const request: CreateSessionRequest = {
      callId: params.callId,
      // A placed call's provisional id is its media session id too (see CreateSessionParams.placed).
      mediaSessionId: params.placed ? params.callId : randomUUID(),
      direction: params.direction,
      unmixedAudio: params.unmixedAudio,
    };
    for (let retry = false; ; retry = true) {
      try {
        return await this.options.bridge.createSession(
          retry ? { ...request, timeoutMs: Math.max(1, Math.ceil(deadlineMs - this.timers.now())) } : request,
        );
      } catch (error) {
        const dropped =
          error instanceof BridgeRequestError && (error.code === "DISCONNECTED" || error.code === "NOT_OPEN");
        if (!dropped || this.options.reconnectGraceMs <= 0) throw error;
        const untilMs = Math.min(deadlineMs, this.timers.now() + this.options.reconnectGraceMs);
        const back = await this.waitForHost(untilMs);
        if (!back || this.closing || creating.closedFor !== undefined) throw error;
        this.metrics.sessionCreateRetries.inc();
        this.log.info(
          { callId: params.callId, mediaSessionId: request.mediaSessionId, reason: error.message },
          "media host back; sending the CreateSession its connection lost again",
        );
      }
    }
  }

  /** Resolves true once the bridge is open, false at untilMs or at shutdown. */
  private waitForHost(untilMs: number): Promise<boolean> {
    if (this.options.bridge.isOpen) return Promise.resolve(true);
    if (this.closing) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (open: boolean) => {
        this.timers.clearTimer(timer);
        this.hostWaiters.delete(done);
        resolve(open);
      };
      const timer = this.timers.setTimer(() => done(false), Math.max(0, untilMs - this.timers.now()));
      this.hostWaiters.add(done);
    });
  }

  /** Idempotent. Finalizes the call's recordings before it resolves. */
  async closeSession(callId: string, reason: string): Promise<boolean> {
    const call = this.byCall.get(callId);
    if (!call) {
      // Its CreateSession is still in flight: the answer closes the host's session (see createSession).
      const creating = this.creating.get(callId);
      if (creating === undefined) return false;
      creating.closedFor = reason;
      return true;
    }
    this.remove(call);
    const bridge = this.options.bridge;
    // NO_SESSION: the host lost it with its connection, or is resuming it (the answer closes it).
    const closing =
      bridge.isOpen && call.bridgeSession !== NO_SESSION
        ? bridge.closeSession(call.bridgeSession, reason).catch((error: Error) => {
            call.log.warn({ err: error }, "media host did not confirm closing the session");
          })
        : Promise.resolve();
    await Promise.all([closing, call.end(reason)]);
    call.log.info({ reason }, "media session closed");
    return true;
  }

  callEstablished(callId: string): void {
    const call = this.byCall.get(callId);
    if (call === undefined) return;
    call.log.debug("call established");
    call.established();
  }

  /** Signaling's answer to a handler's call-control request. */
  callControlResult(callId: string, requestId: number, result: CallControlResult): void {
    this.byCall.get(callId)?.callControlSettled(requestId, result);
  }

  updateRoster(callId: string, participants: RosterParticipant[]): void {
    this.byCall.get(callId)?.updateRoster(participants);
  }

  toneFromGraph(callId: string, tone: string): void {
    const call = this.byCall.get(callId);
    if (call === undefined) return;
    // One vocabulary for handlers: Graph's "tone1" is the media platform's "1".
    const name = toneFromGraphName(tone);
    if (name !== undefined) call.toneReceived(name, "graph");
    else {
      this.metrics.tonesIgnored.labels("graph").inc();
      call.log.warn({ tone: String(tone).slice(0, 40) }, "Graph tone not in Graph's tone enum, ignored");
    }
  }

  recordingStatusUpdated(callId: string, status: string, ok: boolean): void {
    const request = this.recordingRequests.get(callId);
    if (!request || request.status !== status) return;
    this.recordingRequests.delete(callId);
    this.timers.clearTimer(request.timer);
    request.resolve(ok);
  }

  /** Ends every session (recordings finalized), stops the clock, closes the bridge. */
  async shutdown(): Promise<number> {
    this.closing = true;
    for (const wake of [...this.hostWaiters]) wake(false);
    const calls = [...this.byCall.values()];
    await Promise.all(calls.map((call) => this.closeSession(call.callId, "media worker shutting down")));
    this.pacer.stop();
    this.timers.clearTimer(this.graceTimer);
    await this.options.bridge.close();
    return calls.length;
  }

  // ---- received frames ----------------------------------------------------------------------

  private readonly onFrames = (reader: FrameBatchReader, receivedAtUs: number): void => {
    const receivedAtMs = receivedAtUs / 1000 - performance.timeOrigin;
    this.time.nowMs = this.timers.now();
    if (this.followPhase) this.followHostPhase(this.clock.now());
    this.view.attach(reader, receivedAtMs);
    const refused = reader.invalidFrames;
    let received = refused.length;
    const pacer = this.pacer;
    while (reader.next()) {
      // A large batch must not hold a due tick behind it: the tick runs in between.
      if ((++received & (FRAMES_PER_CLOCK_CHECK - 1)) === 0 && pacer.runIfDue()) {
        this.time.nowMs = this.timers.now();
      }
      const call = this.byNumber.get(reader.session);
      if (call === undefined) {
        this.metrics.dropped.unknown_session.inc();
        continue;
      }
      if (reader.context !== SOURCE) {
        // The host sends only this direction: the frame's sequence is this stream's all the same.
        this.metrics.dropped.bad_context.inc();
        call.refused(reader.sequence, receivedAtMs);
        continue;
      }
      if (!call.connected) this.markConnected(call);
      this.view.load();
      call.receive(this.view);
    }
    // Refused frames whose place is known are given up on now, not waited for; after the good
    // frames, so that a good frame for the same place wins.
    for (let i = 0; i < refused.length; i++) {
      const frame = refused[i] as InvalidFrame;
      if (frame.sequence >= 0) this.byNumber.get(frame.session)?.refused(frame.sequence, receivedAtMs);
    }
    this.metrics.framesReceived.inc(received);
    const probe = this.probe;
    if (probe !== undefined) {
      this.batchReceivedAtMs = receivedAtMs;
      this.batchHandledAtMs = this.clock.now();
      probe.hostToWorker.record(receivedAtUs - reader.sentAtUs, received);
      probe.batchHandled.record((this.batchHandledAtMs - receivedAtMs) * 1000, received);
    }
    // What the handlers answered live goes back now, not at the next tick.
    if (this.liveCount > 0) this.sendLiveNow();
  };

  private markConnected(call: CallSession): void {
    if (call.connected) return;
    call.connected = true;
    this.options.emit({ type: "mediaConnected", callId: call.callId });
  }

  // ---- the media clock ----------------------------------------------------------------------

  /**
   * Before the deadline (see Pacer.prepare): every session's next frame, into this tick's
   * batches. Frames that arrive after this wait for the next tick (at most the pacer's lead).
   */
  private readonly render = (_tick: number, deadlineMs: number, nowMs: number): void => {
    // Pieces of an earlier tick not sent yet (its onTick never came: the clock skipped it).
    if (this.stagedCount > 0) this.sendStaged();
    const sessions = this.sessions;
    const open = this.options.bridge.isOpen;
    const writer = this.writer;
    // The worker's own pacing clock (exact as a number): hosts ignore a render frame's
    // timestamp and stamp it with the platform clock when they play it (see the proto).
    const timestampTicks = Math.round(deadlineMs * 10_000);
    let unsendable = 0;
    const tick = this.renders++;
    const skipped = this.clockSkipped;
    this.clockSkipped = false;
    this.time.nowMs = nowMs;
    // Written ahead of the deadline; sendBatch stamps the clock reading when it leaves.
    this.writtenAtUs = Math.round((performance.timeOrigin + Math.max(nowMs, deadlineMs)) * 1000);
    this.sentAtUs = 0;
    writer.begin(this.writtenAtUs);
    for (let i = 0; i < sessions.length; i++) {
      const call = sessions[i] as CallSession;
      call.expire(nowMs);
      if (call.renderedThrough >= tick || call.awaitingLive) {
        // Its frame for this tick went out ahead of it, or goes as soon as it comes (sendLiveNow).
        if (skipped) call.clockSkipped();
        continue;
      }
      call.renderedThrough = tick;
      const frame = call.render();
      if (skipped) call.clockSkipped();
      if (frame !== undefined && !this.writeFrame(call, frame, timestampTicks, open)) unsendable++;
    }
    this.finishBatch();
    if (unsendable > 0) this.metrics.dropped.bridge_down.inc(unsendable);
  };

  /** A call's render frame into the batch being written; false: the bridge is down, not written. */
  private writeFrame(call: CallSession, frame: Uint8Array, timestampTicks: number, open: boolean): boolean {
    if (!open) return false;
    this.writer.addFrame(call.bridgeSession, RENDER, call.renderSequence, timestampTicks, frame, 0, false);
    call.renderSequence = (call.renderSequence + 1) >>> 0;
    return true;
  }

  /** The batch being written, if it holds frames, goes to stage() (pieces already did). */
  private finishBatch(): void {
    const writer = this.writer;
    if (writer.frameCount === 0) return;
    const frames = writer.frameCount;
    const bytes = writer.finish();
    this.stage(bytes, frames, writer.finishedRelease);
  }

  /** At the deadline: what render() got ready goes out. */
  private readonly tick = (_tick: number, deadlineMs: number): void => {
    this.sendStaged();
    // Whole microseconds (an integer is not boxed), clamped so `| 0` cannot wrap.
    const latenessUs = (this.clock.now() - deadlineMs) * 1000;
    this.metrics.renderLateness.observeUnits(Math.max(-2e9, Math.min(latenessUs, 2e9)) | 0);
    this.probe?.renderLateness.record(latenessUs);
  };

  /**
   * Live audio queued while a received batch was handled (an echo, a voice bot answering as it
   * hears), sent as soon as the batch is done in a batch of its own: a frame received from the
   * host goes back once its handler has run instead of waiting up to a tick for the clock. The
   * clock still paces each call: a call sends one frame per render tick, and at most one tick
   * ahead of it (a frame further ahead waits in the queue for its tick), so the host's render
   * queue never gets more than a frame ahead; the ticks skip a call whose frame went early.
   */
  private sendLiveNow(): void {
    const calls = this.liveCalls;
    const count = this.liveCount;
    this.liveCount = 0;
    // A tick rendered ahead of its deadline goes first: a session's frames leave in order.
    if (this.stagedCount > 0) this.sendStaged();
    const next = this.renders;
    const open = this.options.bridge.isOpen;
    const nowMs = this.clock.now();
    const timestampTicks = Math.round(nowMs * 10_000);
    let unsendable = 0;
    let sent = 0;
    this.sendingLive = true;
    for (let i = 0; i < count; i++) {
      const call = calls[i] as CallSession;
      calls[i] = undefined;
      call.liveWaiting = false;
      if (call.renderedThrough > next || call.queuedFrames === 0) continue;
      call.renderedThrough = call.renderedThrough < next ? next : next + 1;
      const frame = call.render();
      if (frame === undefined) continue;
      // Begun with its first frame: a batch with none would take a pooled buffer for nothing.
      if (open && sent === 0) this.writer.begin(Math.round((performance.timeOrigin + nowMs) * 1000));
      if (this.writeFrame(call, frame, timestampTicks, open)) sent++;
      else unsendable++;
    }
    // stage() sends at once while sendingLive.
    if (sent > 0) this.finishBatch();
    this.sendingLive = false;
    const probe = this.probe;
    if (probe !== undefined && sent > 0) {
      const sentAtMs = this.clock.now();
      probe.framesSentLive += sent;
      probe.liveSend.record((sentAtMs - this.batchHandledAtMs) * 1000, sent);
      probe.receiveToLiveSent.record((sentAtMs - this.batchReceivedAtMs) * 1000, sent);
    }
    if (unsendable > 0) this.metrics.dropped.bridge_down.inc(unsendable);
  }

  /**
   * Moves the clock's grid toward deadlines half a period after the host's batches arrive.
   * Live audio goes back as soon as its batch is handled (sendLiveNow), one frame per call per
   * tick: arrivals near a deadline would fall on either side of it with any jitter, and a
   * frame landing after the one before it already used the tick waits for the next one (20 ms
   * more), or runs a tick ahead. Half a period away, a batch can be 10 ms early or late and
   * still go at once. The host's clock and this one are independent: this follows it.
   */
  private followHostPhase(nowMs: number): void {
    const pacer = this.pacer;
    const sinceLast = nowMs - this.lastBatchAtMs;
    this.lastBatchAtMs = nowMs;
    // Batches of a backlog (back to back after a stall) tell nothing about the host's phase.
    if (!pacer.isRunning || sinceLast < FRAME_DURATION_MS / 2) return;
    const half = FRAME_DURATION_MS / 2;
    // How much further the next deadline is than half a period, wrapped into [-half, half).
    const error =
      ((((pacer.nextDeadline - nowMs - half) % FRAME_DURATION_MS) + FRAME_DURATION_MS + half) %
        FRAME_DURATION_MS) -
      half;
    const step = Math.max(-MAX_PHASE_STEP_MS, Math.min(MAX_PHASE_STEP_MS, error * PHASE_GAIN));
    pacer.shift(-step);
  }

  /** Keeps a finished batch for the deadline, or sends it now when the stage is full. */
  private stage(bytes: Uint8Array, frames: number, release: (() => void) | null): void {
    if (this.sendingLive) {
      this.sendNow(bytes, frames, release);
      return;
    }
    if (this.stagedCount === STAGED_BATCHES) {
      this.sendBatch(bytes, frames, release);
      return;
    }
    this.staged[this.stagedCount] = bytes;
    this.stagedRelease[this.stagedCount] = release;
    this.stagedFrames[this.stagedCount] = frames;
    this.stagedCount++;
  }

  private sendStaged(): void {
    const count = this.stagedCount;
    this.stagedCount = 0;
    for (let i = 0; i < count; i++) {
      const release = this.stagedRelease[i] ?? null;
      this.stagedRelease[i] = null;
      this.sendBatch(this.staged[i] as Uint8Array, this.stagedFrames[i] as number, release);
    }
  }

  /** The bridge sends the bytes as they are and calls release once written (or dropped). */
  private sendBatch(bytes: Uint8Array, frames: number, release: (() => void) | null): void {
    // sent_at_us is a clock reading (a late send shows in the host's transit), not the deadline.
    if (this.sentAtUs === 0) this.sentAtUs = Math.round((performance.timeOrigin + this.clock.now()) * 1000);
    restampSentAt(bytes, this.writtenAtUs, this.sentAtUs);
    if (this.probe !== undefined) this.probe.framesSentAtTick += frames;
    this.sendNow(bytes, frames, release);
  }

  private sendNow(bytes: Uint8Array, frames: number, release: (() => void) | null): void {
    if (this.options.bridge.sendFrameBatch(bytes, release)) this.metrics.framesSent.inc(frames);
    else this.metrics.dropped.backpressure.inc(frames);
  }

  // ---- sessions -----------------------------------------------------------------------------

  /** Maps the host's session number to the call, applying the events that arrived first. */
  private register(call: CallSession): void {
    this.byNumber.set(call.bridgeSession, call);
    const early = this.early.take(call.bridgeSession);
    if (early === undefined) return;
    if (early.active !== undefined) this.applySendStatus(call, early.active);
    if (early.speakerId !== undefined)
      call.dominantSpeakerChanged(early.speakerId === NO_SPEAKER ? null : early.speakerId);
    for (const tone of early.tones) call.toneReceived(tone, "media");
  }

  private applySendStatus(call: CallSession, active: boolean): void {
    call.setSendStatus(active);
    if (active) this.markConnected(call);
  }

  /**
   * Why the host's number for a new or resumed session cannot be used (undefined: it can).
   * Hosts number sessions from 1; a number another call holds would route that call's audio
   * to this one, so it is refused rather than taken over.
   */
  private refusedNumber(session: number): string | undefined {
    if (!Number.isInteger(session) || session < 1 || session > 0xffff_ffff)
      return `media host numbered a session ${session} (numbers start at 1)`;
    const holder = this.byNumber.get(session);
    if (holder !== undefined)
      return `media host numbered a new session ${session}, which call ${holder.callId} already has`;
    return undefined;
  }

  /** Closes a host session no call owns (best effort: the host drops it with the connection anyway). */
  private closeHostSession(session: number, reason: string): void {
    if (!this.options.bridge.isOpen || session === NO_SESSION) return;
    this.options.bridge.closeSession(session, reason).catch((error: Error) => {
      this.log.warn({ err: error, session }, "media host did not confirm closing an orphan session");
    });
  }

  private add(call: CallSession): void {
    this.byCall.set(call.callId, call);
    this.register(call);
    this.sessions = [...this.byCall.values()];
    this.metrics.activeSessions.set(this.byCall.size);
    if (!this.pacer.isRunning) this.pacer.start();
    this.publishState();
  }

  private remove(call: CallSession): void {
    // A tick rendered ahead may hold this call's frame: it goes out now, before the request to
    // close the session, rather than after it to a host that no longer knows the session.
    if (this.stagedCount > 0) this.sendStaged();
    this.byCall.delete(call.callId);
    this.unbound.delete(call);
    if (call.liveWaiting) this.forgetLive(call);
    if (this.byNumber.get(call.bridgeSession) === call) this.byNumber.delete(call.bridgeSession);
    this.sessions = [...this.byCall.values()];
    this.metrics.activeSessions.set(this.byCall.size);
    if (this.byCall.size === 0) this.pacer.stop();
    const pending = this.recordingRequests.get(call.callId);
    if (pending) {
      this.recordingRequests.delete(call.callId);
      this.timers.clearTimer(pending.timer);
      pending.resolve(false);
    }
    this.publishState();
  }

  /** A removed call leaves the calls waiting for sendLiveNow (rare: a linear pass is fine). */
  private forgetLive(call: CallSession): void {
    call.liveWaiting = false;
    let kept = 0;
    for (let i = 0; i < this.liveCount; i++) {
      const other = this.liveCalls[i];
      if (other !== call) this.liveCalls[kept++] = other;
    }
    for (let i = kept; i < this.liveCount; i++) this.liveCalls[i] = undefined;
    this.liveCount = kept;
  }

  private async loseSession(
    call: CallSession,
    reason: string,
    kind: "host_lost" | "host_closed" | "host_new_session" = "host_lost",
  ): Promise<void> {
    if (this.byCall.get(call.callId) !== call) return;
    this.remove(call);
    this.metrics.sessionsLost.labels(kind).inc();
    call.log.warn({ reason }, "media session lost");
    this.options.emit({ type: "sessionLost", callId: call.callId, reason });
    await call.end(reason);
  }

  private requestRecordingStatus(callId: string, status: "recording" | "notRecording"): Promise<boolean> {
    const previous = this.recordingRequests.get(callId);
    if (previous) {
      this.timers.clearTimer(previous.timer);
      previous.resolve(false);
    }
    return new Promise((resolve) => {
      const timer = this.timers.setTimer(() => {
        this.recordingRequests.delete(callId);
        this.log.warn({ callId, status }, "no answer to the recording status request");
        resolve(false);
      }, RECORDING_STATUS_TIMEOUT_MS);
      this.recordingRequests.set(callId, { status, resolve, timer });
      this.options.emit({ type: "recordingStatusRequested", callId, status });
    });
  }

  // ---- media host loss ----------------------------------------------------------------------

  private onDisconnected(reason: string): void {
    this.metrics.bridgeConnected.set(0);
    // Session numbers name sessions of one connection only: the .NET host numbers each
    // connection's sessions from 1, so a resumed call may get a number another call had.
    // Until each call is registered again, nothing must be routed by an old number.
    this.byNumber.clear();
    this.early.clear();
    // No call has a host session now: a close or clear meanwhile must not name an old number
    // (after the reconnect it may be another call's), and a resume in flight is answered anew.
    for (const call of this.byCall.values()) call.bridgeSession = NO_SESSION;
    this.publishState();
    if (this.closing || this.byCall.size === 0) return;
    // Nothing can be sent now: playouts pause until the host is back (prompts keep their place;
    // live audio that stood too long is dropped as stale when it reaches the head).
    for (const call of this.byCall.values()) call.setSendStatus(false);
    if (this.graceTimer === undefined) {
      this.lostAt = this.timers.now();
      this.log.warn(
        { reason, sessions: this.byCall.size, graceMs: this.options.reconnectGraceMs },
        "media host lost; waiting for it to return",
      );
      this.graceTimer = this.timers.setTimer(() => {
        this.graceTimer = undefined;
        for (const call of [...this.byCall.values()]) {
          void this.loseSession(
            call,
            `media host lost for more than ${this.options.reconnectGraceMs} ms (${reason})`,
          );
        }
      }, this.options.reconnectGraceMs);
    }
  }

  /**
   * The host is back within the grace period: it kept the calls' sessions, and each call
   * resumes its own with a CreateSession of the same call and media session ids (proto
   * "Reconnects"). Calls the host refuses, or answers with a new session, are lost.
   */
  private async resumeSessions(): Promise<void> {
    if (this.graceTimer === undefined) return;
    this.timers.clearTimer(this.graceTimer);
    this.graceTimer = undefined;
    const calls = [...this.byCall.values()];
    this.log.info(
      { sessions: calls.length, afterMs: Math.round(this.timers.now() - this.lostAt) },
      "media host returned; resuming sessions",
    );
    await Promise.all(
      calls.map(async (call) => {
        try {
          const info = await this.options.bridge.createSession({
            // What the host knows the session by: a placed call's provisional id stays that.
            callId: call.hostCallId,
            mediaSessionId: call.mediaSessionId,
            direction: call.direction,
            unmixedAudio: call.unmixedAudio,
          });
          if (this.byCall.get(call.callId) !== call) {
            // Closed while the resume was in flight: the host's new session has no call.
            this.closeHostSession(info.session, "the call ended while its session was resumed");
            return;
          }
          const kept = this.created.get(call);
          const changed = kept === undefined ? [] : sessionChanges(kept, info);
          if (changed.length > 0) {
            // A new session (a restarted host, or one whose platform ended the old session):
            // Graph bound the call to the old one's contexts, so its media would stay dead.
            this.closeHostSession(info.session, "not the session the call is bound to");
            await this.loseSession(
              call,
              `media host did not resume the session: it answered with a new one (${changed.join(", ")} changed)`,
              "host_new_session",
            );
            return;
          }
          const refused = this.refusedNumber(info.session);
          if (refused !== undefined) throw new Error(refused);
          call.restartStreams(info.session);
          this.register(call);
          call.log.info({ session: info.session }, "media session resumed");
        } catch (error) {
          if (!this.options.bridge.isOpen && this.graceTimer !== undefined) {
            // The host went away again before answering: a new grace period runs, and its
            // return resumes the call (or the period's end loses it).
            call.log.info({ err: error }, "media host lost again while resuming the session");
            return;
          }
          await this.loseSession(call, `media host did not resume the session: ${(error as Error).message}`);
        }
      }),
    );
  }

  private publishState(): void {
    const health = this.options.bridge.health as MediaHostHealth;
    this.options.emit({
      type: "state",
      bridgeOpen: this.options.bridge.isOpen,
      health,
      sessions: this.byCall.size,
      maxSessions: this.maxSessions,
      failure: this.lastFailure,
    });
  }
}
