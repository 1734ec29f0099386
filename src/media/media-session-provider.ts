import type { ConnectFailure } from "../bridge/connect-failure.js";
import type { Participant } from "../graph/types.js";
import type { CallEvent } from "./bot-api.js";
import type { CallControlRequest, CallControlResult } from "./call-control-request.js";
import type { MediaSessionConfiguration } from "./media-session-config.js";
import type { RosterContext } from "./roster.js";

export type AudioDirection = "sendRecv" | "recvOnly" | "sendOnly";

export interface MediaSessionRequest {
  /** The Graph call id; for a placed call, its provisional id (see `placed`). */
  callId: string;
  tenantId?: string;
  direction: AudioDirection;
  /** Per-speaker unmixed meeting audio (up to four speakers). */
  unmixedAudio: boolean;
  /**
   * A call the bot places: Graph names the call only in createCall's answer, after the blob was
   * sent. `callId` is then a provisional id (a fresh GUID, also the session's mediaSessionId),
   * and the call's handlers are created only by bindCallId, under the Graph call id.
   */
  placed?: boolean;
}

export interface MediaSession {
  callId: string;
  mediaSessionId: string;
  configuration: MediaSessionConfiguration;
  /**
   * The appHostedMediaConfig blob the answer carries: the platform's own serialization, byte
   * for byte, when the media host gave one (SessionCreated.media_configuration_json), else
   * serialized from `configuration`.
   */
  blob: string;
}

/** Why the provider cannot take a call right now. */
export type MediaUnavailableReason = "disconnected" | "heavilyLoaded" | "overloaded" | "capacity";

export type MediaSessionEvent =
  /** The media side lost the session (media host gone past its grace period, platform error). */
  | { kind: "sessionLost"; callId: string; reason: string }
  /** The media side connected the call's media (first audio / send status Active). */
  | { kind: "mediaConnected"; callId: string }
  /** A processor asks signaling to update the call's recording status before it stores media. */
  | { kind: "recordingStatusRequested"; callId: string; status: "recording" | "notRecording" | "failed" }
  /**
   * A call handler asked to end the call (`MediaCall.hangUp`); signaling hangs it up through
   * Graph. Media keeps flowing until signaling closes the session. At most once per session.
   */
  | { kind: "hangUpRequested"; callId: string; reason: string }
  /**
   * A call handler asked for call control (MediaCall.mute/unmute/transfer/invite): signaling
   * carries it out and answers through `callControlCompleted` with the same requestId.
   */
  | { kind: "callControlRequested"; callId: string; requestId: number; request: CallControlRequest };

/**
 * Where the signaling layer gets a media session for a call. The answer path asks for one and
 * answers with its blob; nothing in signaling knows whether the
 * media is hosted by the bridge, an emulator or anything else.
 */
export interface MediaSessionProvider {
  /** null when a call can be taken now, otherwise why not (the call is rejected `busy`). */
  unavailableReason(): MediaUnavailableReason | null;
  /**
   * Resolves true once the media host is connected (at once if it is now), false when it is
   * not within timeoutMs, when `signal` aborts, or when the provider is closed. Never rejects.
   * Providers with no host connection to lose leave it out: then an incoming call is never
   * held for a reconnect.
   */
  waitForConnection?(timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  /**
   * While unavailableReason() is "disconnected": why (the host unreachable, refusing the
   * secret, a TLS failure), or null when not known yet. Read by /readyz.
   */
  connectionFailure?(): ConnectFailure | null;
  createSession(request: MediaSessionRequest): Promise<MediaSession>;
  /**
   * A placed call's Graph call id: the session created under `provisionalId` goes by `callId`
   * from now on (every later method and event), and its handlers are created. Rejects when the
   * session is gone or the media side cannot take the id; the caller then hangs the call up.
   */
  bindCallId(provisionalId: string, callId: string): Promise<void>;
  /** A call event of a placed call (lobby, admitted, established, ended) for its handlers. */
  callEvent(callId: string, event: CallEvent): void;
  /** Idempotent: closing an unknown or closed session is a no-op. */
  closeSession(callId: string, reason: string): Promise<void>;
  /** Graph says the call is established (media may start). */
  callEstablished(callId: string): void;
  /**
   * The call's full current roster (deltas already applied): lets the media side map speaker
   * source ids to participants; `context` tells the bot and the organizer apart.
   */
  updateRoster(callId: string, participants: Participant[], context?: RosterContext): void;
  /** A DTMF tone Graph reported on the call. */
  toneReceived(callId: string, tone: string): void;
  /** Signaling's answer to a callControlRequested event (providers without handlers leave it out). */
  callControlCompleted?(callId: string, requestId: number, result: CallControlResult): void;
  /** Result of an updateRecordingStatus request made on the media side's behalf. */
  recordingStatusUpdated(callId: string, status: "recording" | "notRecording" | "failed", ok: boolean): void;
  onEvent(listener: (event: MediaSessionEvent) => void): void;
  /** Prometheus exposition text of the media side's own registry, when it has one (served at /metrics). */
  metrics?(): Promise<string>;
  close(): Promise<void>;
}
