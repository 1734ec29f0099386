import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { WebSocketServer } from "ws";
import type { BridgeProtocolError } from "../../bridge/bridge-protocol-error.js";
import { encodeEnvelope } from "../../bridge/codec.js";
import {
  CAPABILITY_PLAYOUT_MARKS,
  CAPABILITY_UNMIXED_AUDIO,
  DEFAULT_MAX_MESSAGE_BYTES,
  directionFromWire,
  FRAME_MS,
  healthToWire,
  MAX_FRAME_BATCH_BYTES,
  NO_SPEAKER,
  nowMicros,
  type PlatformHealth,
  PROTOCOL_VERSION,
  type pb,
  type ToneName,
  toneToWire,
  v1,
} from "../../bridge/protocol.js";
import { type Logger, silentLogger } from "../../log/logger.js";
import {
  type MediaSessionConfiguration,
  mediaProcessorUri,
  parseMediaBlob,
} from "../../media/media-session-config.js";
import { pcm16kWavHeader } from "../../media/wav-writer.js";
import type { AudioSourceSpec } from "./audio-source.js";
import { authorizationMatches } from "./bearer-auth.js";
import { handleControlRequest } from "./control-routes.js";
import { EmulatedSession, type SessionStats, type SpeakerSpec } from "./emulated-session.js";
import { type ConnectionHost, EmulatorConnection } from "./emulator-connection.js";
import { MAX_TIMER_MS, prepareEmulatorOptions } from "./emulator-options.js";
import { EndedRecordings, type EndedRecordingsStats } from "./ended-recordings.js";
import type { Impairments } from "./impairments.js";
import { MediaClock } from "./media-clock.js";
import type { EmulatorTimingObserver } from "./timing-observer.js";

export interface MediaPlatformEmulatorOptions {
  /** 0 = an ephemeral port (default). */
  port?: number;
  host?: string;
  /** Path of the bridge endpoint; default "/bridge". */
  path?: string;
  /** Shared secret expected as "Authorization: Bearer <secret>" at upgrade. */
  secret: string;
  /** Goes into each session's mpUri: net.tcp://{fqdn}:{publicPort}/MediaProcessor. */
  fqdn?: string;
  publicPort?: number;
  /** The media clock period; 20 ms like the platform. */
  tickMs?: number;
  logger?: Logger;
  /** Far-end audio of new sessions; default a 440 Hz tone. */
  defaultSource?: AudioSourceSpec;
  /** Speakers of new sessions (unmixed buffers, active speakers); default none. */
  defaultSpeakers?: SpeakerSpec[];
  /** Impairments of new sessions. */
  defaultImpairments?: Partial<Impairments>;
  /**
   * When set, a session's media connects by itself this long after it is created (a media
   * emulator nobody drives); otherwise only connectMedia() connects it, as the Graph emulator
   * does when a call is answered with the session's blob (the real platform's behaviour).
   */
  autoConnectMediaMs?: number;
  /** HelloAck.max_sessions and the limit enforced; 0 = none. */
  maxSessions?: number;
  health?: PlatformHealth;
  /** Largest message accepted from the worker (default DEFAULT_MAX_MESSAGE_BYTES, 1 MiB). */
  maxMessageBytes?: number;
  /**
   * A tick's source frames go out in FrameBatch messages of at most this many bytes (the
   * protocol's MAX_FRAME_BATCH_BYTES, 256 KiB, by default; tests lower it).
   */
  maxFrameBatchBytes?: number;
  /** Source batches are dropped while a socket holds more than this. Default 4 MiB. */
  maxBufferedBytes?: number;
  /** Playout queue bound per session, frames (default 50 = 1 s). */
  playoutQueueFrames?: number;
  /**
   * A session's render backlog standing above this many frames (after each tick's frame is
   * played) for a whole renderTrimWindowTicks is dropped one frame per tick, as the .NET host
   * does with its defaults 1 and 50 ticks (= 1 s). Default 0: never trim, so that what the bot
   * sent is played whole (tests compare it byte for byte); bench:load's far end sets 1.
   */
  renderTargetFrames?: number;
  renderTrimWindowTicks?: number;
  /** In-memory recording bound per session, seconds (default 60). */
  recordMaxSeconds?: number;
  /** When set, each session's recording is written here as <callId>-<session>.wav when it closes. */
  recordDir?: string;
  /**
   * Recordings of ended calls kept in memory for recording(callId) and the recording.wav route:
   * the most recently ended ones, at most this many calls (default DEFAULT_KEPT_RECORDINGS)...
   */
  keptRecordings?: number;
  /** ...and at most this many bytes (default DEFAULT_KEPT_RECORDING_BYTES). Older ones are let go. */
  keptRecordingBytes?: number;
  /** Random numbers for impairments (tests pass a seeded one). */
  random?: () => number;
  /**
   * How long the sessions of a lost or replaced worker connection are kept for the worker to
   * resume them (the .NET host's BOT_BRIDGE_RECONNECT_GRACE_MS). 0 ends them with the
   * connection. Default DEFAULT_RECONNECT_GRACE_MS.
   */
  reconnectGraceMs?: number;
  /**
   * Number sessions per connection from 1, as the .NET host does (a resumed session may then
   * get the number another session had on the old connection). Default false: numbers are
   * unique for the emulator's lifetime, which keeps numeric control keys unambiguous.
   */
  numberSessionsPerConnection?: boolean;
  /**
   * The SessionCreated.media_configuration_json of each new session (kept unchanged on resume),
   * as a host with the real platform sends its own serialization of the blob. Default: none, and
   * the worker builds the blob from the fields.
   */
  platformBlob?: (session: PlatformBlobFields) => string;
  /**
   * How long the platform takes to create a session (default 0: answered at once). Meanwhile
   * the CreateSession is in flight: if its connection is lost, the session is kept once created
   * (as the .NET host does), and a worker's retry with the same ids waits for it and resumes it.
   */
  createSessionDelayMs?: number;
}

/** What a platformBlob function gets to serialize a session's blob from. */
export interface PlatformBlobFields {
  callId: string;
  mediaSessionId: string;
  mpUri: string;
  audioRenderContextId: string;
  audioSourceContextId: string;
}

/** Ended calls whose recordings stay in memory by default (the most recent ones). */
export const DEFAULT_KEPT_RECORDINGS = 100;
/** Bytes of ended calls' recordings kept in memory by default: 64 MiB, about 35 minutes of audio. */
export const DEFAULT_KEPT_RECORDING_BYTES = 64 * 1024 * 1024;

/** The .NET host's default reconnect grace (BridgeOptions.ReconnectGrace). */
export const DEFAULT_RECONNECT_GRACE_MS = 5000;

export type EmulatorFault =
  /** Drops the connection; refuseReconnectMs: upgrades are then refused (503) for that long. */
  | { kind: "disconnect"; refuseReconnectMs?: number }
  /**
   * The media host restarts: the connection drops without a message and upgrades are refused
   * (503) for downMs. keepSessions true: the platform kept the sessions, which wait for the
   * worker to resume them as after a disconnect. false: they are gone (ended without a message,
   * counted in sessionsEndedByRestart), and a worker's resume CreateSession creates a new session
   * under the proposed media_session_id with new contexts, as a restarted host does.
   */
  | { kind: "restart"; keepSessions: boolean; downMs?: number }
  | { kind: "stall"; ms: number }
  | { kind: "malformed"; variant: "truncated" | "bad_wire_type" | "missing_body" | "bad_frame" | "text" }
  | { kind: "oversized"; bytes?: number };

/**
 * Largest oversized fault: the emulator's own receive limit (ws maxPayload). A FrameBatch of
 * this size is over every receiver's limit (the worker accepts 1 MiB by default and reads at
 * most 16 MiB), and building it stays cheap.
 */
export const MAX_OVERSIZED_FAULT_BYTES = 64 * 1024 * 1024;

export interface EmulatorStats extends EndedRecordingsStats {
  connections: number;
  /** Sessions of open connections. */
  sessions: number;
  /** Sessions waiting for their worker to reconnect and resume them. */
  detachedSessions: number;
  /** CreateSessions the platform is still handling (createSessionDelayMs). */
  sessionsBeingCreated: number;
  sessionsResumed: number;
  /** Detached sessions ended because no worker resumed them within the grace period. */
  sessionsExpired: number;
  /** restart faults injected. */
  restarts: number;
  /** Sessions ended by a restart that did not keep them. */
  sessionsEndedByRestart: number;
  ticks: number;
  skippedTicks: number;
  batchesSent: number;
  /** Source batches not sent because the worker's socket was backed up. */
  batchesDropped: number;
  /** Source batches not sent because the host was stalled (the stall fault). */
  batchesStalled: number;
  /** The delay after which new sessions connect their media by themselves; null = never. */
  autoConnectMediaMs: number | null;
  protocolErrors: Record<string, number>;
  upgradesRefused: number;
  health: PlatformHealth;
}

const VERSIONS = {
  skypeMediaBotsVersion: "1.31.0.225-emulator",
  mediaStackVersion: "2025.11.1.1-emulator",
  mpVersion: "7.2.0.9-emulator",
};

/**
 * Emulates the media host end of the bridge (what the .NET bridge does in front of the real
 * media platform) and plays the far end of every call: one 20 ms clock for all sessions,
 * far-end audio with impairments, the playout of what the bot renders, and fault injection.
 */
export class MediaPlatformEmulator implements ConnectionHost {
  readonly logger: Logger;
  readonly maxMessageBytes: number;
  readonly maxFrameBatchBytes: number;
  readonly maxBufferedBytes: number;
  /** ws://host:port/path of the bridge endpoint. */
  url = "";
  /** http://host:port of the control surface (see docs/media-emulator.md). */
  controlUrl = "";

  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly clock: MediaClock;
  private readonly connections = new Set<EmulatorConnection>();
  private readonly sessionsByMediaId = new Map<string, EmulatedSession>();
  private readonly connectionOf = new Map<EmulatedSession, EmulatorConnection>();
  private readonly platformBlobs = new WeakMap<EmulatedSession, string>();
  private readonly endedRecordings: EndedRecordings;
  private readonly waiters = new Map<string, Set<() => void>>();
  /** Sessions of a lost connection, by lower-case media session id (GUIDs compare case-blind). */
  private readonly detached = new Map<string, { session: EmulatedSession; timer: NodeJS.Timeout }>();
  private sessionsResumed = 0;
  /**
   * Sessions the platform is still creating (createSessionDelayMs), by lower-case media session
   * id, with the CreateSessions naming the same id that wait for it.
   */
  private readonly inCreation = new Map<string, (() => void)[]>();
  private sessionsExpired = 0;
  private restarts = 0;
  private sessionsEndedByRestart = 0;
  private stopping = false;
  /** Until this time (performance.now()) upgrades are refused (the disconnect fault's option). */
  private refuseUpgradesUntil = 0;
  private nextConnectionId = 1;
  private nextSession = 1;
  private currentHealth: PlatformHealth;
  private readonly protocolErrors: Record<string, number> = {};
  private upgradesRefused = 0;
  private batchesDroppedClosed = 0;
  private batchesStalledClosed = 0;
  private batchesSentClosed = 0;
  private readonly random: () => number;
  /** Diagnostics of the clock and of render batches (bench:load --stall-evidence); null: none. */
  timingObserver: EmulatorTimingObserver | null = null;

  private constructor(private readonly options: MediaPlatformEmulatorOptions) {
    this.logger = (options.logger ?? silentLogger()).child({ component: "media-emulator" });
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.maxFrameBatchBytes = options.maxFrameBatchBytes ?? MAX_FRAME_BATCH_BYTES;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.currentHealth = options.health ?? "normal";
    this.random = options.random ?? Math.random;
    this.endedRecordings = new EndedRecordings(
      options.keptRecordings ?? DEFAULT_KEPT_RECORDINGS,
      options.keptRecordingBytes ?? DEFAULT_KEPT_RECORDING_BYTES,
    );
    this.clock = new MediaClock(options.tickMs ?? FRAME_MS, () => this.tick());
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: MAX_OVERSIZED_FAULT_BYTES,
    });
    this.server = createServer((request, response) => {
      handleControlRequest(this, options.secret, request, response);
    });
    this.server.on("upgrade", (request, socket, head) => {
      const path = new URL(request.url ?? "/", "http://x").pathname;
      if (path !== (options.path ?? "/bridge")) {
        socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      if (performance.now() < this.refuseUpgradesUntil) {
        this.upgradesRefused++;
        socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      if (!this.authorized(request)) {
        this.upgradesRefused++;
        this.logger.warn(
          { remote: request.socket.remoteAddress },
          "bridge upgrade refused: bad or missing secret",
        );
        socket.end("HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      this.wss.handleUpgrade(request, socket, head, (ws) => {
        const connection = new EmulatorConnection(this.nextConnectionId++, ws, this);
        // One worker connection, as on the .NET host: a newer one replaces the older (a
        // reconnecting worker is never locked out by its own half-dead socket), whose sessions
        // are detached before the new connection reads anything, so it can resume them.
        for (const previous of [...this.connections]) {
          this.connectionClosed(previous);
          previous.socket.close(1008, "replaced by a newer worker connection");
          this.logger.warn(
            { connection: previous.id, by: connection.id },
            "worker connection replaced; its sessions are kept for resumption",
          );
        }
        this.connections.add(connection);
        this.logger.info({ connection: connection.id }, "worker connected");
      });
    });
  }

  /**
   * Checks the options and loads the default sources (a bad one rejects here, naming it), then
   * listens. Rejects too when the port cannot be bound (e.g. EADDRINUSE).
   */
  static async start(given: MediaPlatformEmulatorOptions): Promise<MediaPlatformEmulator> {
    const options = prepareEmulatorOptions(given);
    const emulator = new MediaPlatformEmulator(options);
    const host = options.host ?? "127.0.0.1";
    await new Promise<void>((resolve, reject) => {
      emulator.server.once("error", reject);
      emulator.server.listen(options.port ?? 0, host, () => resolve());
    });
    const { port } = emulator.server.address() as AddressInfo;
    emulator.url = `ws://${host}:${port}${options.path ?? "/bridge"}`;
    emulator.controlUrl = `http://${host}:${port}`;
    emulator.clock.begin();
    emulator.logger.info({ url: emulator.url }, "media platform emulator listening");
    return emulator;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.clock.stop();
    this.cutConnections();
    this.endDetachedSessions("host shutting down");
    await new Promise<void>((resolve) => {
      this.wss.close(() => resolve());
    });
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- ConnectionHost -----------------------------------------------------------------

  helloAck(): pb.IHelloAck {
    return {
      protocolVersion: PROTOCOL_VERSION,
      peer: "teams-media-bot media platform emulator",
      capabilities: [CAPABILITY_UNMIXED_AUDIO, CAPABILITY_PLAYOUT_MARKS],
      health: healthToWire(this.currentHealth),
      maxSessions: this.options.maxSessions ?? 0,
    };
  }

  createSession(connection: EmulatorConnection, request: pb.CreateSession, requestId: number): void {
    const fail = (code: pb.ErrorCode, message: string) => connection.sendError(code, message, 0, requestId);
    // As the .NET host: the direction must be given, the format PCM 16K (or left unspecified).
    const direction = directionFromWire(request.direction);
    if (direction === undefined) {
      fail(
        v1.ErrorCode.ERROR_CODE_BAD_MESSAGE,
        `CreateSession.direction must be SEND_RECV, RECV_ONLY or SEND_ONLY, got ${request.direction}`,
      );
      return;
    }
    const format = request.format ?? v1.AudioFormat.AUDIO_FORMAT_UNSPECIFIED;
    if (
      format !== v1.AudioFormat.AUDIO_FORMAT_UNSPECIFIED &&
      format !== v1.AudioFormat.AUDIO_FORMAT_PCM_16K
    ) {
      fail(
        v1.ErrorCode.ERROR_CODE_BAD_MESSAGE,
        `CreateSession.format ${format} is not supported (PCM_16K only)`,
      );
      return;
    }
    // The same media session is still being created (for a connection since lost): this
    // request is handled once it exists, and then resumes it (or is refused as a duplicate).
    const creating = request.mediaSessionId
      ? this.inCreation.get(request.mediaSessionId.toLowerCase())
      : undefined;
    if (creating) {
      creating.push(() => {
        if (this.connections.has(connection)) this.createSession(connection, request, requestId);
      });
      return;
    }
    // A reconnected worker resuming a call whose session was kept (checked first, as the
    // .NET host does: a resume is neither refused for load nor counted against the limit).
    const kept = request.mediaSessionId ? this.detached.get(request.mediaSessionId.toLowerCase()) : undefined;
    if (kept) {
      const s = kept.session;
      if (
        s.callId !== request.callId ||
        s.direction !== direction ||
        s.unmixedAudio !== request.unmixedAudio
      ) {
        fail(
          v1.ErrorCode.ERROR_CODE_DUPLICATE_SESSION,
          `media session ${s.mediaSessionId} is kept for call ${s.callId} (${s.direction}, unmixed ${s.unmixedAudio}); the request does not match it`,
        );
        return;
      }
      this.resume(connection, s, requestId);
      return;
    }
    for (const { session: other } of this.detached.values()) {
      if (other.callId === request.callId) {
        fail(
          v1.ErrorCode.ERROR_CODE_DUPLICATE_SESSION,
          `call ${request.callId} has a session kept for its worker; resume it with media_session_id ${other.mediaSessionId}`,
        );
        return;
      }
    }
    const maxSessions = this.options.maxSessions ?? 0;
    if (maxSessions > 0 && this.sessionsByMediaId.size + this.inCreation.size >= maxSessions) {
      fail(v1.ErrorCode.ERROR_CODE_SESSION_LIMIT, `the host takes at most ${maxSessions} sessions`);
      return;
    }
    if (this.currentHealth === "overloaded") {
      fail(v1.ErrorCode.ERROR_CODE_OVERLOADED, "the media platform is overloaded");
      return;
    }
    const mediaSessionId = request.mediaSessionId || randomUUID();
    if (this.sessionsByMediaId.has(mediaSessionId)) {
      fail(v1.ErrorCode.ERROR_CODE_DUPLICATE_SESSION, `media session ${mediaSessionId} exists already`);
      return;
    }
    const delayMs = this.options.createSessionDelayMs ?? 0;
    if (delayMs <= 0) {
      this.finishCreate(connection, request, direction, mediaSessionId, requestId);
      return;
    }
    const key = mediaSessionId.toLowerCase();
    this.inCreation.set(key, []);
    setTimeout(() => {
      const waiting = this.inCreation.get(key) ?? [];
      this.inCreation.delete(key);
      if (this.stopping) return;
      this.finishCreate(connection, request, direction, mediaSessionId, requestId);
      for (const retry of waiting) retry();
    }, delayMs).unref();
  }

  /** The platform created the session: it joins its connection, or is kept if that was lost. */
  private finishCreate(
    connection: EmulatorConnection,
    request: pb.CreateSession,
    direction: NonNullable<ReturnType<typeof directionFromWire>>,
    mediaSessionId: string,
    requestId: number,
  ): void {
    const fail = (code: pb.ErrorCode, message: string) => connection.sendError(code, message, 0, requestId);
    let session: EmulatedSession;
    try {
      session = new EmulatedSession(
        {
          session: this.sessionNumber(connection),
          callId: request.callId,
          mediaSessionId,
          direction,
          unmixedAudio: request.unmixedAudio,
          source: this.options.defaultSource ?? { kind: "tone", frequencyHz: 440 },
          speakers: this.options.defaultSpeakers ?? [],
          playoutQueueFrames: this.options.playoutQueueFrames ?? 50,
          recordMaxSeconds: this.options.recordMaxSeconds ?? 60,
          renderTargetFrames: this.options.renderTargetFrames,
          renderTrimWindowTicks: this.options.renderTrimWindowTicks,
        },
        this.random,
      );
      session.setImpairments(this.options.defaultImpairments ?? {});
    } catch (error) {
      // The worker's request fails; the host (and its other sessions) go on.
      const reason = error instanceof Error ? error.message : String(error);
      this.logger.error({ callId: request.callId, err: error }, "cannot create media session");
      fail(v1.ErrorCode.ERROR_CODE_PLATFORM_ERROR, `cannot create the media session: ${reason}`);
      return;
    }
    connection.sessions.set(session.session, session);
    this.sessionsByMediaId.set(mediaSessionId, session);
    this.connectionOf.set(session, connection);
    const lost = !this.connections.has(connection);
    if (!lost) {
      connection.send({ requestId, sessionCreated: this.sessionCreated(session) });
      // Audio sent before the platform says ACTIVE is discarded.
      connection.send({
        sendStatus: { session: session.session, status: v1.SendStatus.SEND_STATUS_INACTIVE },
      });
    }
    this.logger.info(
      { callId: session.callId, session: session.session, mediaSessionId },
      "media session created",
    );
    for (const wake of this.waiters.get(mediaSessionId) ?? []) wake();
    if (this.options.autoConnectMediaMs !== undefined) {
      setTimeout(() => this.markMediaConnected(session), this.options.autoConnectMediaMs).unref();
    }
    if (lost) {
      // Lost while the platform was creating it: its answer is lost too, and the session is
      // kept like the connection's others, for the worker to resume by retrying the request.
      const graceMs = this.options.reconnectGraceMs ?? DEFAULT_RECONNECT_GRACE_MS;
      if (graceMs > 0) this.detach(session, connection, graceMs);
      else this.removeSession(session, "bridge connection closed", 0);
    }
  }

  /**
   * Gives a kept session to the reconnected worker: a new session number, the same
   * configuration, then the platform's current send status and dominant speaker.
   */
  private resume(connection: EmulatorConnection, session: EmulatedSession, requestId: number): void {
    const kept = this.detached.get(session.mediaSessionId.toLowerCase());
    if (kept) clearTimeout(kept.timer);
    this.detached.delete(session.mediaSessionId.toLowerCase());
    session.resume(this.sessionNumber(connection));
    connection.sessions.set(session.session, session);
    this.connectionOf.set(session, connection);
    this.sessionsResumed++;
    connection.send({ requestId, sessionCreated: this.sessionCreated(session) });
    const status = session.sendActive ? v1.SendStatus.SEND_STATUS_ACTIVE : v1.SendStatus.SEND_STATUS_INACTIVE;
    connection.send({ sendStatus: { session: session.session, status } });
    if (session.dominantSpeaker !== undefined)
      connection.send({ dominantSpeaker: { session: session.session, speakerId: session.dominantSpeaker } });
    this.logger.info(
      { callId: session.callId, session: session.session, mediaSessionId: session.mediaSessionId },
      "media session resumed",
    );
  }

  private sessionCreated(session: EmulatedSession): pb.ISessionCreated {
    const fields = {
      callId: session.callId,
      mediaSessionId: session.mediaSessionId,
      mpUri: mediaProcessorUri(this.options.fqdn ?? "media.emulator.local", this.options.publicPort ?? 8445),
      audioRenderContextId: session.audioRenderContextId,
      audioSourceContextId: session.audioSourceContextId,
    };
    let blob = this.platformBlobs.get(session);
    if (blob === undefined && this.options.platformBlob) {
      blob = this.options.platformBlob(fields);
      this.platformBlobs.set(session, blob);
    }
    return {
      session: session.session,
      ...fields,
      ...VERSIONS,
      ...(blob === undefined ? {} : { mediaConfigurationJson: blob }),
    };
  }

  private sessionNumber(connection: EmulatorConnection): number {
    if (!this.options.numberSessionsPerConnection) return this.nextSession++;
    return connection.nextSession++;
  }

  closeSession(
    connection: EmulatorConnection,
    sessionNumber: number,
    reason: string,
    requestId: number,
  ): void {
    const session = connection.sessionOrError(sessionNumber, requestId);
    if (!session) return;
    this.removeSession(session, reason, requestId);
  }

  /** The connection is lost, replaced or closed: its sessions wait for a resume (or end). */
  connectionClosed(connection: EmulatorConnection): void {
    if (!this.connections.delete(connection)) return;
    this.batchesSentClosed += connection.batchesSent;
    this.batchesDroppedClosed += connection.batchesDropped;
    this.batchesStalledClosed += connection.batchesStalled;
    const graceMs = this.options.reconnectGraceMs ?? DEFAULT_RECONNECT_GRACE_MS;
    for (const session of [...connection.sessions.values()]) {
      if (this.stopping || graceMs <= 0) this.removeSession(session, "bridge connection closed", 0);
      else this.detach(session, connection, graceMs);
    }
    this.logger.info({ connection: connection.id }, "worker disconnected");
  }

  private detach(session: EmulatedSession, connection: EmulatorConnection, graceMs: number): void {
    connection.sessions.delete(session.session);
    this.connectionOf.delete(session);
    session.detach();
    const timer = setTimeout(() => {
      if (this.detached.get(session.mediaSessionId.toLowerCase())?.session !== session) return;
      this.sessionsExpired++;
      this.removeSession(session, "no worker resumed it within the grace period", 0);
    }, graceMs);
    timer.unref();
    this.detached.set(session.mediaSessionId.toLowerCase(), { session, timer });
    this.logger.warn(
      { callId: session.callId, session: session.session, graceMs },
      "session kept for its worker to resume it",
    );
  }

  countProtocolError(error: BridgeProtocolError): void {
    this.protocolErrors[error.reason] = (this.protocolErrors[error.reason] ?? 0) + 1;
  }

  // ---- the far end --------------------------------------------------------------------

  /**
   * For the Graph emulator's establishWhen: resolves true once the media session named by the
   * blob (or mpMediaSessionId) exists here; its media then connects (send status ACTIVE,
   * audio starts). False when it does not appear within timeoutMs.
   */
  async connectMedia(blob: MediaSessionConfiguration | string, timeoutMs: number): Promise<boolean> {
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0 || timeoutMs > MAX_TIMER_MS)
      throw new RangeError(`timeoutMs must be a number in [0, ${MAX_TIMER_MS}], got ${timeoutMs}`);
    let mediaSessionId: string;
    if (typeof blob === "string") {
      mediaSessionId = blob.trim().startsWith("{") ? parseMediaBlob(blob).mpMediaSessionId : blob.trim();
    } else mediaSessionId = blob.mpMediaSessionId;
    const session = await this.waitForSession(mediaSessionId, timeoutMs);
    if (!session) return false;
    this.markMediaConnected(session);
    return true;
  }

  private waitForSession(mediaSessionId: string, timeoutMs: number): Promise<EmulatedSession | undefined> {
    const existing = this.sessionsByMediaId.get(mediaSessionId);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve) => {
      const set = this.waiters.get(mediaSessionId) ?? new Set<() => void>();
      this.waiters.set(mediaSessionId, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) this.waiters.delete(mediaSessionId);
        resolve(this.sessionsByMediaId.get(mediaSessionId));
      };
      const timer = setTimeout(done, timeoutMs);
      set.add(done);
    });
  }

  private markMediaConnected(session: EmulatedSession): void {
    if (session.mediaConnected || this.sessionsByMediaId.get(session.mediaSessionId) !== session) return;
    session.mediaConnected = true;
    this.applySendStatus(session, true);
    this.logger.info({ callId: session.callId, session: session.session }, "media connected");
  }

  /**
   * The session with this number, call id or media session id: sessions of open connections
   * first, then detached ones (waiting for their worker to resume them).
   */
  session(key: number | string): EmulatedSession | undefined {
    for (const connection of this.connections) {
      if (typeof key === "number") {
        const found = connection.sessions.get(key);
        if (found) return found;
      } else {
        for (const session of connection.sessions.values()) {
          if (session.callId === key || session.mediaSessionId === key) return session;
        }
      }
    }
    for (const { session } of this.detached.values()) {
      if (session.session === key || session.callId === key || session.mediaSessionId === key) return session;
    }
    return undefined;
  }

  sessions(): SessionStats[] {
    return [
      ...[...this.connections].flatMap((c) => [...c.sessions.values()].map((s) => s.snapshot())),
      ...[...this.detached.values()].map(({ session }) => session.snapshot()),
    ];
  }

  /** The session and, unless it is detached, its connection. */
  private require(key: number | string): { session: EmulatedSession; connection?: EmulatorConnection } {
    const session = this.session(key);
    if (!session) throw new RangeError(`no media session ${JSON.stringify(key)}`);
    return { session, connection: this.connectionOf.get(session) };
  }

  /** Throws a RangeError naming the field when a value is out of range. */
  setImpairments(key: number | string, impairments: Partial<Impairments>): void {
    this.require(key).session.setImpairments(impairments);
  }

  setSource(key: number | string, source: AudioSourceSpec): void {
    this.require(key).session.setSource(source);
  }

  setSpeakers(key: number | string, speakers: SpeakerSpec[]): void {
    this.require(key).session.setSpeakers(speakers);
  }

  setPaused(key: number | string, paused: boolean): void {
    this.require(key).session.paused = paused;
  }

  /** A detached session remembers the status; its worker learns it when it resumes. */
  setSendStatus(key: number | string, active: boolean): void {
    this.applySendStatus(this.require(key).session, active);
  }

  private applySendStatus(session: EmulatedSession, active: boolean): void {
    session.sendActive = active;
    const status = active ? v1.SendStatus.SEND_STATUS_ACTIVE : v1.SendStatus.SEND_STATUS_INACTIVE;
    this.connectionOf.get(session)?.send({ sendStatus: { session: session.session, status } });
  }

  /** speakerId null = nobody (0xFFFFFFFF). Remembered for a resume, like the send status. */
  setDominantSpeaker(key: number | string, speakerId: number | null): void {
    if (speakerId !== null && !(Number.isInteger(speakerId) && speakerId >= 0 && speakerId <= 0xffffffff))
      throw new RangeError(`speakerId must be an integer in [0, 4294967295] or null, got ${speakerId}`);
    const { session, connection } = this.require(key);
    session.dominantSpeaker = speakerId ?? NO_SPEAKER;
    connection?.send({ dominantSpeaker: { session: session.session, speakerId: session.dominantSpeaker } });
  }

  /** Tones of a detached session reach nobody (dropped, as on the .NET host). */
  sendTone(key: number | string, tone: ToneName): void {
    const { session, connection } = this.require(key);
    connection?.send({
      tone: {
        session: session.session,
        tone: toneToWire(tone),
        timestampTicks: Math.round(nowMicros() * 10),
      },
    });
  }

  setHealth(health: PlatformHealth): void {
    const previous = this.currentHealth;
    if (previous === health) return;
    this.currentHealth = health;
    for (const connection of this.connections) {
      if (connection.helloDone) {
        connection.send({ health: { previous: healthToWire(previous), current: healthToWire(health) } });
      }
    }
  }

  get health(): PlatformHealth {
    return this.currentHealth;
  }

  /** Ends a session from the platform side (SessionClosed without request). */
  endSession(key: number | string, reason: string): void {
    this.removeSession(this.require(key).session, reason, 0);
  }

  /**
   * What the bot rendered (and was played) in the session, as PCM16K. After the session ends,
   * by call id, while it is among the kept recordings (keptRecordings, keptRecordingBytes).
   */
  recording(key: number | string): Buffer | undefined {
    const session = this.session(key);
    if (session) return session.recordedPcm();
    return typeof key === "string" ? this.endedRecordings.get(key) : undefined;
  }

  /** Injects a fault into every connection. */
  injectFault(fault: EmulatorFault): void {
    if (fault.kind === "restart") {
      this.restart(fault.keepSessions, fault.downMs ?? 0);
      return;
    }
    if (fault.kind === "disconnect" && fault.refuseReconnectMs)
      this.refuseUpgradesUntil = performance.now() + fault.refuseReconnectMs;
    const oversizedBytes = fault.kind === "oversized" ? (fault.bytes ?? this.maxMessageBytes + 1024) : 0;
    if (
      fault.kind === "oversized" &&
      !(
        Number.isInteger(oversizedBytes) &&
        oversizedBytes >= 1 &&
        oversizedBytes <= MAX_OVERSIZED_FAULT_BYTES
      )
    ) {
      throw new RangeError(
        `oversized bytes must be an integer in [1, ${MAX_OVERSIZED_FAULT_BYTES}], got ${oversizedBytes}`,
      );
    }
    for (const connection of this.connections) {
      switch (fault.kind) {
        case "disconnect":
          connection.socket.terminate();
          break;
        case "stall":
          connection.stall(fault.ms);
          break;
        case "malformed":
          if (fault.variant === "text") connection.socket.send("not protobuf");
          else
            connection.sendRaw(malformedMessage(fault.variant, connection.sessions.keys().next().value ?? 1));
          break;
        case "oversized":
          connection.sendRaw(oversizedBatch(connection.sessions.keys().next().value ?? 1, oversizedBytes));
          break;
      }
    }
  }

  /** See EmulatorFault "restart". */
  private restart(keepSessions: boolean, downMs: number): void {
    if (!(Number.isFinite(downMs) && downMs >= 0 && downMs <= MAX_TIMER_MS))
      throw new RangeError(`restart downMs must be a number in [0, ${MAX_TIMER_MS}], got ${downMs}`);
    this.restarts++;
    this.refuseUpgradesUntil = performance.now() + downMs;
    // As for a lost connection: the sessions are kept for the grace (or end, grace 0).
    this.cutConnections();
    if (keepSessions) return;
    this.sessionsEndedByRestart += this.endDetachedSessions("media host restarted");
    this.logger.warn({ downMs }, "media host restarted without its sessions");
  }

  /** Cuts every connection without a close frame, as a host that dies does (see connectionClosed). */
  private cutConnections(): void {
    const connections = [...this.connections];
    for (const connection of connections) connection.socket.terminate();
    for (const connection of connections) this.connectionClosed(connection);
  }

  /** Ends the sessions waiting for a resume; returns how many. */
  private endDetachedSessions(reason: string): number {
    const kept = [...this.detached.values()];
    for (const { session } of kept) this.removeSession(session, reason, 0);
    return kept.length;
  }

  stats(): EmulatorStats {
    let batchesSent = this.batchesSentClosed;
    let batchesDropped = this.batchesDroppedClosed;
    let batchesStalled = this.batchesStalledClosed;
    let sessions = 0;
    for (const c of this.connections) {
      batchesSent += c.batchesSent;
      batchesDropped += c.batchesDropped;
      batchesStalled += c.batchesStalled;
      sessions += c.sessions.size;
    }
    return {
      connections: this.connections.size,
      sessions,
      detachedSessions: this.detached.size,
      sessionsBeingCreated: this.inCreation.size,
      sessionsResumed: this.sessionsResumed,
      sessionsExpired: this.sessionsExpired,
      restarts: this.restarts,
      sessionsEndedByRestart: this.sessionsEndedByRestart,
      ticks: this.clock.ticks,
      skippedTicks: this.clock.skippedTicks,
      batchesSent,
      batchesDropped,
      batchesStalled,
      autoConnectMediaMs: this.options.autoConnectMediaMs ?? null,
      protocolErrors: { ...this.protocolErrors },
      upgradesRefused: this.upgradesRefused,
      health: this.currentHealth,
      ...this.endedRecordings.stats(),
    };
  }

  // ---- internals ----------------------------------------------------------------------

  private tick(): void {
    const nowMs = performance.now();
    this.writeTick(nowMs);
    this.timingObserver?.tick(
      nowMs,
      this.clock.lastLatenessMs,
      performance.now() - nowMs,
      this.clock.skippedTicks,
    );
  }

  private writeTick(nowMs: number): void {
    const sentAtUs = nowMicros();
    for (const connection of this.connections) {
      if (!connection.helloDone) continue;
      const writer = connection.writer;
      writer.begin(sentAtUs);
      for (const session of connection.sessions.values()) {
        session.writeSourceFrame(writer, nowMs, connection.ledger);
        for (const name of session.playTick(nowMs, this.timingObserver)) {
          connection.send({ markPlayed: { session: session.session, name, played: true } });
        }
      }
      // Frames beyond maxFrameBatchBytes already went out in earlier messages (writer's onFull).
      const frames = writer.frameCount;
      const bytes = writer.finish();
      if (frames > 0) connection.flushBatch(bytes);
    }
    for (const { session } of this.detached.values()) session.advanceDetached();
  }

  /** Ends a session; SessionClosed goes to its connection unless it is detached. */
  private removeSession(session: EmulatedSession, reason: string, requestId: number): void {
    const connection = this.connectionOf.get(session);
    const keptKey = session.mediaSessionId.toLowerCase();
    const kept = this.detached.get(keptKey);
    if (kept?.session === session) {
      clearTimeout(kept.timer);
      this.detached.delete(keptKey);
    } else if (!connection) return;
    if (connection) {
      this.connectionOf.delete(session);
      connection.sessions.delete(session.session);
    }
    this.sessionsByMediaId.delete(session.mediaSessionId);
    const pcm = session.recordedPcm();
    this.endedRecordings.add(session.callId, pcm);
    if (this.options.recordDir) {
      const file = join(
        this.options.recordDir,
        `${session.callId.replace(/[^\w.-]/g, "_")}-${session.session}.wav`,
      );
      try {
        writeFileSync(file, Buffer.concat([pcm16kWavHeader(pcm.length), pcm]));
      } catch (error) {
        this.logger.error({ err: error, callId: session.callId, file }, "cannot write recording");
      }
    }
    connection?.send({
      requestId,
      sessionClosed: { session: session.session, callId: session.callId, reason },
    });
    this.logger.info({ callId: session.callId, session: session.session, reason }, "media session closed");
  }

  private authorized(request: IncomingMessage): boolean {
    return authorizationMatches(request.headers.authorization, this.options.secret);
  }
}

function malformedMessage(
  variant: "truncated" | "bad_wire_type" | "missing_body" | "bad_frame",
  session: number,
): Uint8Array {
  switch (variant) {
    case "truncated": {
      const whole = encodeEnvelope({ dominantSpeaker: { session, speakerId: 7 } });
      return whole.subarray(0, whole.length - 1);
    }
    case "bad_wire_type":
      return Uint8Array.from([(20 << 3) | 7, 0]);
    case "missing_body":
      return encodeEnvelope({ requestId: 1 });
    case "bad_frame":
      return encodeEnvelope({
        frames: {
          frames: [{ session, context: 1, sequence: 1, pcm: new Uint8Array(100) }],
          sentAtUs: nowMicros(),
        },
      });
  }
}

function oversizedBatch(session: number, bytes: number): Uint8Array {
  const frames = Math.ceil(bytes / 650);
  const pcm = new Uint8Array(640);
  return encodeEnvelope({
    frames: {
      frames: Array.from({ length: frames }, (_, i) => ({ session, context: 1, sequence: i + 1, pcm })),
      sentAtUs: nowMicros(),
    },
  });
}
