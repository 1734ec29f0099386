import { EventEmitter } from "node:events";
import { Registry } from "prom-client";
import WebSocket from "ws";
import { LogRateLimiter } from "../log/log-rate-limiter.js";
import type { Logger } from "../log/logger.js";
import { type BridgeMetrics, createBridgeMetrics } from "../metrics/bridge-metrics.js";
import {
  type BridgeClientEvents,
  type BridgeClientOptions,
  BridgeRequestError,
  type CreateSessionRequest,
  type HelloAckInfo,
  type SessionCreatedInfo,
} from "./bridge-client-types.js";
import { BridgeProtocolError } from "./bridge-protocol-error.js";
import { EnvelopeDecoder, encodeEnvelope } from "./codec.js";
import { type ConnectFailure, failureOfError, failureOfStatus } from "./connect-failure.js";
import { ConnectFailureLog } from "./connect-failure-log.js";
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  directionToWire,
  errorCodeName,
  healthFromWire,
  longToBigInt,
  longToNumber,
  MAX_FRAME_BATCH_BYTES,
  nowMicros,
  type PlatformHealth,
  PROTOCOL_VERSION,
  type pb,
  sendStatusFromWire,
  toneFromWire,
  v1,
} from "./protocol.js";
import {
  DEFAULT_RECONNECT_SCHEDULE,
  type ReconnectSchedule,
  reconnectDelayMs,
} from "./reconnect-schedule.js";
import {
  createRefusedBatchMetrics,
  framesInRefusedMessage,
  type RefusedBatchMetrics,
} from "./refused-batch.js";
import { SendBufferPool } from "./send-buffer-pool.js";
import { zeroMask, zeroMaskSafe } from "./zero-mask.js";

export * from "./bridge-client-types.js";

const FRAME_SEND_OPTIONS = { binary: true };
const FRAMES_BODY = { body: "frames" };
/** Timed-out CreateSession request ids remembered for their late answers (see timedOutCreates). */
const MAX_TIMED_OUT_CREATES = 1024;
/**
 * Per reason, at most one log line of bad host input per this period (the others are counted
 * in the next line's notLoggedBefore; the metrics count every one): a hostile host sent about
 * 16,000 bad messages in 2 minutes, each a synchronous log line on the media thread.
 */
const BAD_INPUT_LOG_INTERVAL_MS = 10_000;

interface Pending {
  kind: "createSession" | "closeSession";
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

interface PendingPing {
  sentAt: number;
  resolve: (rttMs: number) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * The worker's end of the bridge: one WebSocket to the media host carrying every session.
 * Connects, says Hello, keeps reconnecting with backoff until close(), correlates requests,
 * and hands received frame batches to listeners in place (no per-frame objects). Bad input
 * from the host is counted and reported as `protocolError`, never thrown.
 */
export class BridgeClient extends EventEmitter<BridgeClientEvents> {
  /** Platform health as the host last reported it. */
  health: PlatformHealth = "unspecified";
  /** The host's HelloAck of the current connection (null while not open). */
  hostInfo: HelloAckInfo | null = null;
  /** Why the last dial or connection failed; null while open and before the first failure. */
  lastFailure: ConnectFailure | null = null;
  readonly metrics: BridgeMetrics;
  /** FrameBatch messages refused whole and the frames they carried. */
  readonly refusedBatchMetrics: RefusedBatchMetrics;

  private readonly options: Required<
    Pick<BridgeClientOptions, "maxBufferedBytes" | "requestTimeoutMs" | "maxMessageBytes" | "pingIntervalMs">
  > &
    BridgeClientOptions;
  private readonly log: Logger;
  private readonly decoder: EnvelopeDecoder;
  private socket: WebSocket | null = null;
  private open = false;
  private closed = false;
  private started = false;
  /** Failed attempts since the last open (drives the backoff). */
  private attempt = 0;
  /** When the last open connection was lost (performance.now()); undefined while open. */
  private lostAtMs: number | undefined;
  private readonly schedule: ReconnectSchedule;
  private readonly random: () => number;
  /** Bad host input (protocol errors, unsolicited Errors) is logged at most once per reason per interval. */
  private readonly badInputLog: LogRateLimiter;
  /** Failed dials: warn, then error after a bound, rate-limited (see ConnectFailureLog). */
  private readonly failureLog: ConnectFailureLog;
  private dials = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private handshakeTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private nextRequestId = 1;
  private readonly pending = new Map<number, Pending>();
  /**
   * CreateSession requests that timed out (at most MAX_TIMED_OUT_CREATES, oldest forgotten
   * first): a late answer created a session nobody owns, which is closed at once so it does
   * not hold one of the host's max_sessions.
   */
  private readonly timedOutCreates = new Set<number>();
  private readonly pings = new Map<number, PendingPing>();
  private closeWaiters: (() => void)[] = [];
  /** Sends with an all-zero masking key (see zero-mask.ts): ws then writes our bytes as they are. */
  private readonly zeroMask: boolean;
  /** Copies of frame batches the socket still holds (only with zeroMask). */
  private readonly sendBuffers = new SendBufferPool(MAX_FRAME_BATCH_BYTES);

  constructor(options: BridgeClientOptions) {
    super();
    this.options = {
      maxBufferedBytes: 1024 * 1024,
      requestTimeoutMs: 5000,
      maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
      pingIntervalMs: 5000,
      ...options,
    };
    this.log = options.logger.child({ component: "bridge-client", url: withoutUserInfo(options.url) });
    const registry = options.registry ?? new Registry();
    this.metrics = createBridgeMetrics(registry);
    this.refusedBatchMetrics = createRefusedBatchMetrics(registry);
    this.decoder = new EnvelopeDecoder({ maxMessageBytes: this.options.maxMessageBytes });
    this.zeroMask = options.zeroMask ?? zeroMaskSafe(options.url);
    this.schedule = {
      ...DEFAULT_RECONNECT_SCHEDULE,
      ...options.reconnect,
      graceMs: options.reconnectGraceMs ?? 0,
    };
    this.random = options.random ?? Math.random;
    this.badInputLog = new LogRateLimiter(BAD_INPUT_LOG_INTERVAL_MS);
    this.failureLog = new ConnectFailureLog(this.log);
  }

  /** True once the host answered Hello on the current connection. */
  get isOpen(): boolean {
    return this.open;
  }

  /** Connects, and keeps reconnecting with exponential backoff and jitter until close(). */
  connect(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.dial();
  }

  createSession(request: CreateSessionRequest): Promise<SessionCreatedInfo> {
    return this.request<SessionCreatedInfo>(
      "createSession",
      {
        createSession: {
          callId: request.callId,
          mediaSessionId: request.mediaSessionId ?? "",
          direction: directionToWire(request.direction),
          format: v1.AudioFormat.AUDIO_FORMAT_PCM_16K,
          unmixedAudio: request.unmixedAudio,
        },
      },
      request.timeoutMs,
    );
  }

  /** Resolves when the host confirms; an unknown session counts as closed (idempotent). */
  async closeSession(session: number, reason: string): Promise<void> {
    try {
      await this.request<void>("closeSession", { closeSession: { session, reason } });
    } catch (error) {
      if (error instanceof BridgeRequestError && error.code === "UNKNOWN_SESSION") return;
      throw error;
    }
  }

  /**
   * Sends an already-encoded Envelope{frames} (FrameBatchWriter output). Returns false and
   * counts a drop when the socket is not open or holds more than maxBufferedBytes unsent.
   *
   * Without `release` the bytes may be reused as soon as this returns: ws copies client data
   * while masking it, and with a zero mask (which ws does not copy) they are copied into a
   * pooled buffer that returns to the pool when the socket has written it. With `release`
   * (a FrameBatchWriter's finishedRelease) the caller hands the bytes over: a zero-masked
   * send writes them as they are and calls release once written (no copy); in every other
   * case release is called before this returns.
   */
  sendFrameBatch(bytes: Uint8Array, release?: (() => void) | null): boolean {
    const socket = this.socket;
    // readyState: after terminate() (a missed pong) the close event comes later; ws would
    // discard the batch, which must count as dropped, not sent.
    if (!this.open || socket === null || socket.readyState !== WebSocket.OPEN) {
      release?.();
      this.metrics.drops.inc({ reason: "not_open" });
      return false;
    }
    if (socket.bufferedAmount > this.options.maxBufferedBytes) {
      release?.();
      this.metrics.drops.inc({ reason: "backpressure" });
      return false;
    }
    if (!this.zeroMask) {
      socket.send(bytes, FRAME_SEND_OPTIONS);
      release?.();
    } else if (release) {
      socket.send(bytes, FRAME_SEND_OPTIONS, release);
    } else {
      const copy = this.sendBuffers.take(bytes);
      socket.send(copy.view, FRAME_SEND_OPTIONS, copy.release);
    }
    this.metrics.messagesSent.inc(FRAMES_BODY);
    this.metrics.bytesSent.inc(bytes.length);
    return true;
  }

  /** Asks the host to report when everything rendered so far has been played. */
  sendMark(session: number, name: string): boolean {
    return this.sendControl("mark", { mark: { session, name } });
  }

  /** Drops the session's queued render audio on the host (barge-in). */
  sendClear(session: number): boolean {
    return this.sendControl("clear", { clear: { session } });
  }

  /** Round trip to the host in milliseconds (also observed in bridge_round_trip_seconds). */
  ping(): Promise<number> {
    if (!this.open) return Promise.reject(new BridgeRequestError("NOT_OPEN", "bridge is not open"));
    const id = this.nextRequestId++;
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pings.delete(id);
        reject(new BridgeRequestError("TIMEOUT", `no pong within ${this.options.requestTimeoutMs} ms`));
      }, this.options.requestTimeoutMs);
      this.pings.set(id, { sentAt: performance.now(), resolve, reject, timer });
      this.sendControl("ping", { ping: { id, sentAtUs: nowMicros() } });
    });
  }

  /** Closes the connection for good: pending requests fail, no reconnect, then `close`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clearTimers();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const socket = this.socket;
    if (socket && socket.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        this.closeWaiters.push(resolve);
        const force = setTimeout(() => socket.terminate(), 1000);
        force.unref();
        socket.once("close", () => clearTimeout(force));
        socket.close(1000, "client closing");
      });
    }
    this.failPending("DISCONNECTED", "bridge client closed");
    this.metrics.setState("closed");
    this.emit("close", { reason: "closed by client" });
    this.removeAllListeners();
  }

  // ---- connection ---------------------------------------------------------------------

  private dial(): void {
    if (this.closed) return;
    if (this.dials > 0) this.metrics.reconnects.inc();
    this.dials++;
    this.attempt++;
    this.metrics.setState("connecting");
    const socket = new WebSocket(this.options.url, {
      perMessageDeflate: false,
      headers: { Authorization: `Bearer ${this.options.secret}` },
      handshakeTimeout: this.options.requestTimeoutMs,
      // Oversized messages are refused one by one by the decoder (the connection stays up);
      // only absurd ones make ws drop the connection.
      maxPayload: Math.max(16 * 1024 * 1024, this.options.maxMessageBytes * 4),
      ...(this.zeroMask ? { generateMask: zeroMask } : {}),
    });
    this.socket = socket;
    let failure: ConnectFailure = { cause: "lost", code: "CLOSED", detail: "connection closed" };
    let refused = false;
    socket.on("unexpected-response", (_request, response) => {
      refused = true;
      failure = failureOfStatus(response.statusCode);
      this.metrics.protocolErrors.inc({ reason: "upgrade_refused" });
      socket.terminate();
    });
    socket.on("error", (error) => {
      if (!refused) failure = failureOfError(error);
    });
    socket.on("open", () => this.sendHello());
    socket.on("message", (data, isBinary) => this.onMessage(data, isBinary));
    socket.on("close", (code, reason) => {
      if (reason.length > 0 || code !== 1006) {
        const why = reason.length > 0 ? `${code} ${reason.toString()}` : `${code}`;
        failure = { cause: "lost", code: `WS ${code}`, detail: why };
      }
      this.onClosed(socket, failure);
    });
  }

  private sendHello(): void {
    this.sendControl(
      "hello",
      {
        hello: {
          protocolVersion: PROTOCOL_VERSION,
          peer: this.options.peer,
          capabilities: this.options.capabilities ?? [],
        },
      },
      true,
    );
    this.handshakeTimer = setTimeout(() => {
      this.log.warn({ timeoutMs: this.options.requestTimeoutMs }, "bridge host did not answer Hello");
      this.socket?.terminate();
    }, this.options.requestTimeoutMs);
  }

  private onClosed(socket: WebSocket, failure: ConnectFailure): void {
    if (socket !== this.socket) return;
    const reason = failure.detail;
    this.lastFailure = failure;
    const wasOpen = this.open;
    this.open = false;
    this.hostInfo = null;
    this.socket = null;
    this.clearTimers();
    this.failPending("DISCONNECTED", `bridge disconnected: ${reason}`);
    for (const resolve of this.closeWaiters.splice(0)) resolve();
    if (this.closed) return;
    this.metrics.setState("disconnected");
    if (wasOpen) this.lostAtMs = performance.now();
    const delay = reconnectDelayMs(
      this.schedule,
      this.attempt,
      this.lostAtMs === undefined ? undefined : performance.now() - this.lostAtMs,
      this.random,
    );
    if (wasOpen)
      this.log.warn(
        { reason, cause: failure.cause, retryInMs: delay, attempt: this.attempt },
        "bridge disconnected",
      );
    else this.failureLog.failed(failure, this.attempt, delay);
    this.emit("disconnected", { reason, failure });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.dial();
    }, delay);
  }

  private clearTimers(): void {
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.handshakeTimer = null;
    this.pingTimer = null;
  }

  private failPending(code: string, message: string): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      this.pending.delete(id);
      pending.reject(new BridgeRequestError(code, message));
    }
    for (const [id, ping] of this.pings) {
      clearTimeout(ping.timer);
      this.pings.delete(id);
      ping.reject(new BridgeRequestError(code, message));
    }
  }

  // ---- sending ------------------------------------------------------------------------

  private sendControl(body: string, envelope: pb.IEnvelope, beforeOpen = false): boolean {
    const socket = this.socket;
    if ((!this.open && !beforeOpen) || socket === null || socket.readyState !== WebSocket.OPEN) {
      this.metrics.drops.inc({ reason: "not_open" });
      return false;
    }
    const bytes = encodeEnvelope(envelope);
    socket.send(bytes, { binary: true });
    this.metrics.messagesSent.inc({ body });
    this.metrics.bytesSent.inc(bytes.length);
    return true;
  }

  private request<T>(
    kind: Pending["kind"],
    envelope: pb.IEnvelope,
    timeoutMs = this.options.requestTimeoutMs,
  ): Promise<T> {
    if (!this.open) {
      return Promise.reject(new BridgeRequestError("NOT_OPEN", "bridge to the media host is not open"));
    }
    const requestId = this.nextRequestId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        if (kind === "createSession") this.rememberTimedOutCreate(requestId);
        reject(new BridgeRequestError("TIMEOUT", `${kind} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(requestId, { kind, resolve: resolve as (value: unknown) => void, reject, timer });
      if (this.sendControl(kind, { ...envelope, requestId })) return;
      // The socket is closing (its close event not handled yet): fail now, not at the timeout.
      this.pending.delete(requestId);
      clearTimeout(timer);
      reject(new BridgeRequestError("NOT_OPEN", `${kind} not sent: the bridge socket is closing`));
    });
  }

  private rememberTimedOutCreate(requestId: number): void {
    if (this.timedOutCreates.size >= MAX_TIMED_OUT_CREATES) {
      const oldest = this.timedOutCreates.values().next().value as number;
      this.timedOutCreates.delete(oldest);
    }
    this.timedOutCreates.add(requestId);
  }

  // ---- receiving ----------------------------------------------------------------------

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    const receivedAtUs = nowMicros();
    const bytes = Array.isArray(data)
      ? Buffer.concat(data)
      : Buffer.isBuffer(data)
        ? data
        : Buffer.from(data);
    this.metrics.bytesReceived.inc(bytes.length);
    if (!isBinary) {
      this.protocolError(new BridgeProtocolError("not_binary", "text message on the bridge"));
      return;
    }
    const decoder = this.decoder;
    switch (decoder.decode(bytes)) {
      case "error": {
        this.metrics.messagesReceived.inc({ body: "refused" });
        const error = decoder.error as BridgeProtocolError;
        const frames = framesInRefusedMessage(bytes, error.refusedPlaces);
        if (frames >= 0) {
          // A whole FrameBatch is lost: say how many frames, not just that a message was bad.
          error.framesLost = frames;
          this.refusedBatchMetrics.batches.inc({ reason: error.reason });
          this.refusedBatchMetrics.frames.inc({ reason: error.reason }, frames);
        }
        this.protocolError(error);
        return;
      }
      case "unknown":
        // Rule 5: a newer host's message this version does not know.
        this.metrics.messagesReceived.inc({ body: "unknown" });
        this.log.debug({ field: decoder.unknownField }, "ignored unknown bridge message");
        return;
      case "frames":
        this.onFrames(receivedAtUs);
        return;
      case "message":
        this.metrics.messagesReceived.inc({ body: decoder.body as string });
        try {
          this.onControl(decoder.envelope as pb.Envelope, decoder.requestId);
        } catch (error) {
          // A listener threw: keep the socket handler alive, but say so loudly.
          this.log.error({ err: error, body: decoder.body }, "bridge event listener failed");
        }
        return;
    }
  }

  private onFrames(receivedAtUs: number): void {
    const reader = this.decoder.frames;
    this.metrics.messagesReceived.inc({ body: "frames" });
    for (const invalid of reader.invalidFrames) {
      const error = new BridgeProtocolError(invalid.reason, invalid.message, invalid.session);
      error.framesLost = 1;
      this.protocolError(error);
    }
    if (!this.open) {
      const error = new BridgeProtocolError("invalid_message", "frames before HelloAck");
      error.framesLost = reader.frameCount;
      this.protocolError(error);
      return;
    }
    if (reader.sentAtUs > 0)
      this.metrics.batchTransit.observe(Math.max(0, receivedAtUs - reader.sentAtUs) / 1e6);
    try {
      this.emit("frames", reader, receivedAtUs);
    } catch (error) {
      this.log.error({ err: error }, "bridge frames listener failed");
    }
  }

  private onControl(envelope: pb.Envelope, requestId: number): void {
    switch (envelope.body) {
      case "helloAck":
        this.onHelloAck(envelope.helloAck as pb.HelloAck);
        return;
      case "ping": {
        const ping = envelope.ping as pb.Ping;
        this.sendControl(
          "pong",
          { pong: { id: ping.id, pingSentAtUs: ping.sentAtUs, repliedAtUs: nowMicros() } },
          true,
        );
        return;
      }
      case "pong":
        this.onPong(envelope.pong as pb.Pong);
        return;
      case "error":
        this.onError(envelope.error as pb.Error, requestId);
        return;
      case "health": {
        const previous = this.health;
        const current = healthFromWire((envelope.health as pb.HealthChanged).current);
        this.health = current;
        this.log.info({ previous, current }, "media platform health changed");
        this.emit("health", { previous, current });
        return;
      }
    }
    if (!this.open) {
      this.protocolError(new BridgeProtocolError("invalid_message", `${envelope.body} before HelloAck`));
      return;
    }
    switch (envelope.body) {
      case "sessionCreated": {
        const created = envelope.sessionCreated as pb.SessionCreated;
        if (this.timedOutCreates.delete(requestId)) {
          this.log.warn(
            { session: created.session, callId: created.callId },
            "media host answered CreateSession after its timeout; closing the session it created",
          );
          this.metrics.protocolErrors.inc({ reason: "late_answer" });
          if (created.session !== 0)
            this.closeSession(created.session, "CreateSession timed out").catch(() => undefined);
          return;
        }
        const pending = this.takePending(requestId, "createSession");
        if (!pending) return;
        pending.resolve({
          session: created.session,
          callId: created.callId,
          mediaSessionId: created.mediaSessionId,
          mpUri: created.mpUri,
          audioRenderContextId: created.audioRenderContextId,
          audioSourceContextId: created.audioSourceContextId,
          skypeMediaBotsVersion: created.skypeMediaBotsVersion,
          mediaStackVersion: created.mediaStackVersion,
          mpVersion: created.mpVersion,
          mediaConfigurationJson: created.mediaConfigurationJson,
        } satisfies SessionCreatedInfo);
        return;
      }
      case "sessionClosed": {
        const closed = envelope.sessionClosed as pb.SessionClosed;
        const waiting = requestId ? this.pending.get(requestId) : undefined;
        // Answering another kind of request contradicts itself: refused whole, nothing acted on.
        if (waiting !== undefined && waiting.kind !== "closeSession") {
          this.takePending(requestId, "closeSession");
          return;
        }
        const pending = waiting ? this.takePending(requestId, "closeSession") : undefined;
        // An answer to a CloseSession that timed out: the session is closed all the same.
        if (requestId && !pending) this.metrics.protocolErrors.inc({ reason: "late_answer" });
        pending?.resolve(undefined);
        this.emit("sessionClosed", {
          session: closed.session,
          callId: closed.callId,
          reason: closed.reason,
          requested: pending !== undefined,
        });
        return;
      }
      case "sendStatus": {
        const status = envelope.sendStatus as pb.SendStatusChanged;
        const value = sendStatusFromWire(status.status);
        if (value === "unspecified") {
          // A status this version does not know (versioning rule 4): the session's stays as it was.
          this.log.debug(
            { session: status.session, status: status.status },
            "ignored an unknown send status",
          );
          return;
        }
        this.emit("sendStatus", { session: status.session, active: value === "active" });
        return;
      }
      case "dominantSpeaker": {
        const change = envelope.dominantSpeaker as pb.DominantSpeakerChanged;
        this.emit("dominantSpeaker", { session: change.session, speakerId: change.speakerId });
        return;
      }
      case "tone": {
        const tone = envelope.tone as pb.ToneReceived;
        const name = toneFromWire(tone.tone);
        if (name === undefined) {
          // Rule 4: an unknown tone is ignored, but counted.
          this.metrics.messagesReceived.inc({ body: "tone_unknown" });
          return;
        }
        this.emit("tone", {
          session: tone.session,
          tone: name,
          timestampTicks: longToNumber(tone.timestampTicks),
          timestampTicksExact: longToBigInt(tone.timestampTicks),
        });
        return;
      }
      case "markPlayed": {
        const mark = envelope.markPlayed as pb.MarkPlayed;
        this.emit("markPlayed", { session: mark.session, name: mark.name, played: mark.played });
        return;
      }
      default:
        this.protocolError(
          new BridgeProtocolError("invalid_message", `${envelope.body} is not a message a host sends`),
        );
    }
  }

  private onHelloAck(ack: pb.HelloAck): void {
    if (this.open) {
      this.protocolError(new BridgeProtocolError("invalid_message", "second HelloAck"));
      return;
    }
    if (ack.protocolVersion !== PROTOCOL_VERSION) {
      const message = `host speaks protocol ${ack.protocolVersion}, this worker ${PROTOCOL_VERSION}`;
      this.protocolError(new BridgeProtocolError("version_mismatch", message));
      this.sendControl("error", { error: { code: v1.ErrorCode.ERROR_CODE_VERSION_MISMATCH, message } }, true);
      this.socket?.close(1002, "protocol version mismatch");
      return;
    }
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    const info: HelloAckInfo = {
      peer: ack.peer,
      protocolVersion: ack.protocolVersion,
      capabilities: [...ack.capabilities],
      health: healthFromWire(ack.health),
      maxSessions: ack.maxSessions,
    };
    this.open = true;
    this.lastFailure = null;
    const failedRun = this.failureLog.opened();
    this.attempt = 0;
    this.lostAtMs = undefined;
    this.hostInfo = info;
    const previousHealth = this.health;
    this.health = info.health;
    this.metrics.setState("open");
    this.startPinging();
    this.log.info(
      { host: info.peer, health: info.health, maxSessions: info.maxSessions, ...failedRun },
      "bridge open",
    );
    this.emit("open", info);
    if (previousHealth !== info.health)
      this.emit("health", { previous: previousHealth, current: info.health });
  }

  private startPinging(): void {
    const interval = this.options.pingIntervalMs;
    if (interval <= 0) return;
    this.pingTimer = setInterval(() => {
      this.ping().catch((error: Error) => {
        if (!(error instanceof BridgeRequestError) || error.code !== "TIMEOUT" || !this.open) return;
        this.log.warn({ timeoutMs: this.options.requestTimeoutMs }, "bridge host stopped answering pings");
        this.socket?.terminate();
      });
    }, interval);
    this.pingTimer.unref();
  }

  private onPong(pong: pb.Pong): void {
    const id = longToNumber(pong.id);
    const ping = this.pings.get(id);
    if (!ping) return;
    this.pings.delete(id);
    clearTimeout(ping.timer);
    const rttMs = performance.now() - ping.sentAt;
    this.metrics.roundTrip.observe(rttMs / 1000);
    ping.resolve(rttMs);
  }

  private onError(error: pb.Error, requestId: number): void {
    const code = errorCodeName(error.code);
    const pending = requestId ? this.pending.get(requestId) : undefined;
    if (pending) {
      this.pending.delete(requestId);
      clearTimeout(pending.timer);
      pending.reject(new BridgeRequestError(code, error.message, error.session));
      return;
    }
    const notLoggedBefore = this.badInputLog.take(`host_error:${code}`);
    if (notLoggedBefore !== undefined)
      this.log.warn(
        { code, session: error.session, message: error.message, notLoggedBefore },
        "bridge host reported an error",
      );
    this.emit("hostError", { code, message: error.message, session: error.session });
  }

  private takePending(requestId: number, kind: Pending["kind"]): Pending | undefined {
    const pending = this.pending.get(requestId);
    if (!pending || pending.kind !== kind) {
      this.protocolError(
        new BridgeProtocolError("invalid_message", `answer to unknown ${kind} request ${requestId}`),
      );
      return undefined;
    }
    this.pending.delete(requestId);
    clearTimeout(pending.timer);
    return pending;
  }

  private protocolError(error: BridgeProtocolError): void {
    this.metrics.protocolErrors.inc({ reason: error.reason });
    const notLoggedBefore = this.badInputLog.take(error.reason);
    if (notLoggedBefore !== undefined)
      this.log.warn(
        {
          reason: error.reason,
          session: error.session || undefined,
          framesLost: error.framesLost || undefined,
          notLoggedBefore,
        },
        error.message,
      );
    if (this.listenerCount("protocolError") > 0) {
      try {
        this.emit("protocolError", error);
      } catch (listenerError) {
        this.log.error({ err: listenerError }, "bridge protocolError listener failed");
      }
    }
  }
}

/** The URL as logged: a user:password@ part (which a secret could be put in) left out. */
function withoutUserInfo(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username === "" && parsed.password === "") return url;
    parsed.username = "";
    parsed.password = "";
    return parsed.toString();
  } catch {
    return url;
  }
}
