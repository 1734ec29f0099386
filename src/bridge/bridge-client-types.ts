import type { Logger } from "../log/logger.js";
import type { BridgeProtocolError } from "./bridge-protocol-error.js";
import type { ConnectFailure } from "./connect-failure.js";
import type { FrameBatchReader } from "./frame-batch-reader.js";
import type { Direction, PlatformHealth, ToneName } from "./protocol.js";

export interface BridgeClientOptions {
  /** ws:// URL of the media host's bridge endpoint. */
  url: string;
  /** Shared secret, sent as "Authorization: Bearer <secret>" at upgrade. Never logged. */
  secret: string;
  /** Free text naming this peer in Hello ("teams-media-bot worker 0.1.0"). */
  peer: string;
  /** Capabilities announced in Hello (see protocol.ts CAPABILITY_*). */
  capabilities?: string[];
  logger: Logger;
  /** Where the bridge_* metrics go; a private registry when absent. */
  registry?: import("prom-client").Registry;
  /**
   * Reconnect backoff: initial delay doubling up to max, with ±50 % jitter. Default 250 ms .. 5 s.
   * Inside the reconnect grace the base delay is at most graceMaxDelayMs (default 200 ms); see
   * reconnect-schedule.ts.
   */
  reconnect?: { initialDelayMs: number; maxDelayMs: number; graceMaxDelayMs?: number };
  /**
   * The host's reconnect grace (BOT_BRIDGE_RECONNECT_GRACE_MS): for this long after an open
   * connection is lost, its sessions wait on the host, and the client dials at short intervals
   * so that it is back before they end. 0 (default) = plain backoff.
   */
  reconnectGraceMs?: number;
  /** Random numbers in [0, 1) for the reconnect jitter (default Math.random; tests pass a seeded one). */
  random?: () => number;
  /** sendFrameBatch() drops when the socket holds more than this many unsent bytes. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** Timeout of createSession/closeSession/ping and of the Hello handshake. Default 5 s. */
  requestTimeoutMs?: number;
  /** Largest message accepted from the host (larger ones are refused, "oversized"). Default 1 MiB. */
  maxMessageBytes?: number;
  /**
   * Send with an all-zero WebSocket masking key (no masking work, no copy per batch). Default:
   * only where no proxy can see the bytes, i.e. loopback or wss (see zero-mask.ts).
   */
  zeroMask?: boolean;
  /** Liveness pings while open; an unanswered one drops the connection. 0 = off. Default 5 s. */
  pingIntervalMs?: number;
}

export interface CreateSessionRequest {
  callId: string;
  /** mpMediaSessionId to use; absent = the host chooses one. */
  mediaSessionId?: string;
  direction: Direction;
  unmixedAudio: boolean;
  /** This request's own timeout (default: the client's requestTimeoutMs). */
  timeoutMs?: number;
}

/** SessionCreated, as numbers and strings. */
export interface SessionCreatedInfo {
  session: number;
  callId: string;
  mediaSessionId: string;
  mpUri: string;
  audioRenderContextId: string;
  audioSourceContextId: string;
  skypeMediaBotsVersion: string;
  mediaStackVersion: string;
  mpVersion: string;
  /** The platform's own blob, when the host has one; empty otherwise. */
  mediaConfigurationJson: string;
}

export interface HelloAckInfo {
  peer: string;
  protocolVersion: number;
  capabilities: string[];
  health: PlatformHealth;
  /** 0 = no stated limit. */
  maxSessions: number;
}

/** Typed events of BridgeClient. */
export interface BridgeClientEvents {
  /** Handshake done (after HelloAck); the client can create sessions. */
  open: [info: HelloAckInfo];
  /** The connection went away; the client reconnects unless close() was called. */
  disconnected: [info: { reason: string; failure: ConnectFailure }];
  /** close() finished; no more events. */
  close: [info: { reason: string }];
  /**
   * A received FrameBatch. The reader is valid only during the callback (the buffer belongs
   * to the socket); receivedAtUs is the client's clock when the message arrived.
   */
  frames: [reader: FrameBatchReader, receivedAtUs: number];
  sendStatus: [event: { session: number; active: boolean }];
  /** speakerId 0xFFFFFFFF = nobody. */
  dominantSpeaker: [event: { session: number; speakerId: number }];
  /**
   * timestampTicks is the nearest number (exact below 2^53); timestampTicksExact the platform's
   * 64-bit value as it came (real platform ticks are DateTime-style, above 2^53).
   */
  tone: [event: { session: number; tone: ToneName; timestampTicks: number; timestampTicksExact: bigint }];
  markPlayed: [event: { session: number; name: string; played: boolean }];
  health: [event: { previous: PlatformHealth; current: PlatformHealth }];
  /** The host closed a session (requested = this client asked for it with closeSession). */
  sessionClosed: [event: { session: number; callId: string; reason: string; requested: boolean }];
  /** An Error from the host that answers no request (e.g. about a session's frames). */
  hostError: [event: { code: string; message: string; session: number }];
  /** A refused message or frame (already counted in bridge_protocol_errors_total). */
  protocolError: [error: BridgeProtocolError];
}

/** The host answered a request with Error{code, message}. */
export class BridgeRequestError extends Error {
  /** ErrorCode name without prefix, e.g. "SESSION_LIMIT", or "TIMEOUT" / "DISCONNECTED" / "NOT_OPEN". */
  readonly code: string;
  readonly session: number;

  constructor(code: string, message: string, session = 0) {
    super(`bridge request failed (${code}): ${message}`);
    this.name = "BridgeRequestError";
    this.code = code;
    this.session = session;
  }
}
