import type { StageFigures } from "../lib/latency-histogram.js";
/**
 * The control channel between benchmarks/load.ts (the bot side) and its far-end child process
 * (benchmarks/load/far-end.ts), over Node's IPC channel. Each request gets one reply.
 * bench:soak drives the same far end as its media host (the soak ops below).
 */

import type { EmulatorFault, EmulatorStats } from "../../src/emulator/media/media-platform-emulator.js";
import type { FarEndStallEvidence } from "./far-end-stalls.js";

export type BaselineKind = "floor" | "jsonBase64";
/** JSON + base64 over one shared socket (a stream id per message) or one socket per call. */
export type JsonLayout = "shared" | "perCall";

export type FarEndRequest =
  | { op: "startEmulator"; secret: string; soak?: SoakEmulatorOptions }
  | { op: "stopEmulator" }
  | { op: "connectMedia"; mediaSessionIds: string[]; timeoutMs: number }
  | { op: "startBaseline"; kind: BaselineKind; calls: number; layout: JsonLayout }
  | { op: "stopBaseline" }
  /** The baseline's streams start (once every socket of its layout is open). */
  | { op: "startStreams" }
  | { op: "beginWindow" }
  | { op: "endWindow" }
  | { op: "stop" }
  /**
   * Soak: the media host restarts as a new process: the emulator stopped (sockets cut, port
   * closed), a new one on the same port after downMs. The emulator's own restart fault
   * (injectFault) is the variant whose platform kept the sessions.
   */
  | { op: "restartEmulator"; downMs: number }
  /** Soak: one of the emulator's control faults (docs/media-emulator.md, "Faults"). */
  | { op: "injectFault"; fault: EmulatorFault }
  /**
   * Soak: the emulator's counters and, for the calls named, their sessions' media counters
   * (with `all`, every session the host holds, attached or kept).
   */
  | { op: "mediaFlow"; callIds: string[]; all?: boolean }
  /**
   * bench:load --stall-evidence: "start" records the emulator's timing and the process's GCs
   * and loop delay (far-end-stalls.ts); "stop" ends it and returns them.
   */
  | { op: "stallEvidence"; action: "start" | "stop" };

/**
 * The media emulator as bench:soak runs it (bench:load leaves these unset): on a fixed port so
 * a restarted host is found again, media connected only by the Graph emulator (as the real
 * platform does for answered calls), a short in-memory recording per session.
 */
export interface SoakEmulatorOptions {
  /** 0: any free port (then kept for restarts). */
  port: number;
  recordMaxSeconds: number;
  reconnectGraceMs: number;
}

/** One call's media session at the far end (null in mediaFlow when there is none). */
export interface SessionFlow {
  callId: string;
  attached: boolean;
  mediaConnected: boolean;
  resumes: number;
  /** Render frames the bot sent into the call so far (its echo). */
  renderFramesReceived: number;
  framesSent: number;
}

export interface FarEndResults {
  startEmulator: { url: string };
  stopEmulator: Record<string, never>;
  connectMedia: { connected: number };
  startBaseline: { url: string };
  stopBaseline: Record<string, never>;
  startStreams: Record<string, never>;
  beginWindow: Record<string, never>;
  endWindow: FarEndWindow;
  stop: Record<string, never>;
  restartEmulator: { url: string };
  injectFault: Record<string, never>;
  mediaFlow: { stats: EmulatorStats; sessions: (SessionFlow | null)[] };
  stallEvidence: { evidence: FarEndStallEvidence | null };
}

/** What the far end saw between beginWindow and endWindow. */
export interface FarEndWindow {
  /** Frames the far end sent to the bot. */
  framesSent: number;
  /** Frames that came back from the bot. */
  framesReceived: number;
  /** Frames the far end dropped: its own backpressure, playout overflow, render before ACTIVE. */
  framesDropped: number;
  dropDetail: Record<string, number>;
  /** Far-end clock ticks skipped because its process was late. */
  skippedTicks: number;
  /** Sent -> echoed back, as the far end measured it (ms). */
  echoRoundTrip: { count: number; p50Ms: number; p99Ms: number; maxMs: number };
  /**
   * The far end's stages of an echo (media platform emulator designs only): a tick's work
   * (source frames written and sent, render frames played; per tick); the bot's render batch
   * sent_at_us -> arrived here (per frame; two processes' clocks); a render frame's wait in its
   * session's render queue until played at a tick (per frame).
   */
  stages?: { hostSend: StageFigures; botToHost: StageFigures; hostRenderQueue: StageFigures };
  /**
   * The .NET host's fake platform only (bench:load:dotnet): the same echoes when the host's
   * render tick handed them to the platform (`played`: its render queue in the path; echoRoundTrip
   * is their arrival), and render frames it could not match (no mark, or an unknown one).
   */
  dotnetEcho?: {
    played: { count: number; p50Ms: number; p99Ms: number; maxMs: number };
    unmatched: number;
    repeated: number;
  };
  /** CPU the far-end process used in the window (µs) and the window's wall time (ms). */
  cpuUs: number;
  wallMs: number;
}

export type FarEndMessage =
  | { type: "ready" }
  | { type: "reply"; id: number; ok: true; result: unknown }
  | { type: "reply"; id: number; ok: false; error: string };
