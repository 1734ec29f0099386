/**
 * Every message between the signaling thread and the media worker. Plain structured-clone
 * data only. Requests get exactly one response; commands and events get none.
 */
import type { ConnectFailure } from "../bridge/connect-failure.js";
import type { CallEvent, HandlerSpec, RosterParticipant } from "./bot-api.js";
import type { CallControlRequest, CallControlResult } from "./call-control-request.js";
import type { LatencyProbeSnapshot } from "./latency-probe.js";
import type { AudioDirection } from "./media-session-provider.js";
import type { MediaThreadPriority } from "./thread-priority.js";
import type { WorkerStallEvidence } from "./worker-stall-evidence.js";

/** Platform health as the media host reports it. */
export type MediaHostHealth = "unspecified" | "normal" | "heavilyLoaded" | "overloaded";

/** What the worker is started with (workerData). */
export interface MediaWorkerSettings {
  bridge: { url: string; secret: string; reconnectGraceMs: number; requestTimeoutMs?: number };
  recordingsDir: string;
  handlers: HandlerSpec[];
  /** Bound of each session's playout queue, in 20 ms frames (default 10 = 200 ms). */
  playoutQueueFrames: number;
  /** Depth live audio (the echo, `sendLive`) is trimmed back to, in frames (default 0). */
  livePlayoutTargetFrames?: number;
  /** The live target adapts per call between 0 and livePlayoutTargetFrames (default true). */
  adaptiveLiveTarget?: boolean;
  /** Frames a missing received frame is waited for (default 3 = 60 ms). */
  jitterDepthFrames: number;
  /** Longest gap (frames) filled with silence; longer gaps restart the stream (default 50). */
  maxConcealFrames: number;
  /** Read the stages of an echo exactly (see latency-probe.ts; default false). */
  latencyProbe?: boolean;
  /** How the worker thread asks to be scheduled (default realtime). */
  threadPriority?: MediaThreadPriority;
  logLevel: string;
}

export interface CreateSessionParams {
  /** The Graph call id; for a placed call (`placed`), its provisional id (= mediaSessionId). */
  callId: string;
  direction: AudioDirection;
  unmixedAudio: boolean;
  /**
   * A call the bot places: Graph names it only after the blob was sent, so the session is
   * created under the provisional id, sent as CreateSession.call_id and media_session_id, and
   * its handlers wait for bindCallId.
   */
  placed?: boolean;
}

/** The host's answer to CreateSession, as the provider needs it to build the blob. */
export interface CreatedSession {
  callId: string;
  mediaSessionId: string;
  mpUri: string;
  audioRenderContextId: string;
  audioSourceContextId: string;
  skypeMediaBotsVersion: string;
  mediaStackVersion: string;
  mpVersion: string;
  /** The platform's own blob when the host has one; "" = build it from the fields above. */
  mediaConfigurationJson: string;
}

/** Requests from the signaling thread, each answered once. */
export interface WorkerRequests {
  createSession: { params: CreateSessionParams; result: CreatedSession };
  closeSession: { params: { callId: string; reason: string }; result: { closed: boolean } };
  /**
   * A placed call's Graph call id: the session created under `provisionalId` is re-keyed to
   * `callId` (its log lines and every later message use it), then its handlers are created.
   */
  bindCallId: { params: { provisionalId: string; callId: string }; result: { bound: true } };
  metrics: { params: Record<string, never>; result: { text: string } };
  /**
   * Diagnostics (bench:load --stall-evidence): "start" begins recording the worker's stall
   * evidence (worker-stall-evidence.ts), "stop" ends it and returns what was recorded.
   */
  stallEvidence: {
    params: { action: "start" | "stop" };
    result: { evidence: WorkerStallEvidence | null };
  };
  /** The latency probe's readings (null without one); `reset` starts a new window instead (null). */
  latencyProbe: { params: { reset: boolean }; result: { snapshot: LatencyProbeSnapshot | null } };
  shutdown: { params: Record<string, never>; result: { sessionsEnded: number } };
}

/** Fire-and-forget commands from the signaling thread. */
export type WorkerCommand =
  | { type: "callEstablished"; callId: string }
  | { type: "roster"; callId: string; participants: RosterParticipant[] }
  | { type: "tone"; callId: string; tone: string }
  /** A call event of a call the bot placed, for the handlers' onCallEvent. */
  | { type: "callEvent"; callId: string; event: CallEvent }
  | {
      type: "recordingStatusUpdated";
      callId: string;
      status: "recording" | "notRecording" | "failed";
      ok: boolean;
    }
  /** Signaling's answer to a handler's call-control request (callControlRequested). */
  | { type: "callControlResult"; callId: string; requestId: number; result: CallControlResult };

/** Events from the worker. */
export type WorkerEvent =
  /** The worker loaded its handlers and started connecting to the media host. */
  | { type: "ready" }
  /** The worker could not start (bad handler module...); it exits after this. */
  | { type: "startFailed"; message: string }
  | {
      type: "state";
      bridgeOpen: boolean;
      health: MediaHostHealth;
      sessions: number;
      /** Sessions the host accepts at most; 0 = no stated limit. */
      maxSessions: number;
      /** Why the bridge is not open (unreachable, secret refused, TLS...); null while open or not known. */
      failure: ConnectFailure | null;
    }
  | { type: "sessionLost"; callId: string; reason: string }
  | { type: "mediaConnected"; callId: string }
  | { type: "recordingStatusRequested"; callId: string; status: "recording" | "notRecording" }
  /** A handler called `MediaCall.hangUp` (once per call; reason already bounded). */
  | { type: "hangUpRequested"; callId: string; reason: string }
  /** A handler asked for call control (mute, unmute, transfer, invite); answered with callControlResult. */
  | { type: "callControlRequested"; callId: string; requestId: number; request: CallControlRequest };
