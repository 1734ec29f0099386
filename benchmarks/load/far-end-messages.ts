/**
 * The control channel between benchmarks/load.ts (the bot side) and its far-end child process
 * (benchmarks/load/far-end.ts), over Node's IPC channel. Each request gets one reply.
 */

export type BaselineKind = "floor" | "jsonBase64";
/** JSON + base64 over one shared socket (a stream id per message) or one socket per call. */
export type JsonLayout = "shared" | "perCall";

export type FarEndRequest =
  | { op: "startEmulator"; secret: string }
  | { op: "stopEmulator" }
  | { op: "connectMedia"; mediaSessionIds: string[]; timeoutMs: number }
  | { op: "startBaseline"; kind: BaselineKind; calls: number; layout: JsonLayout }
  | { op: "stopBaseline" }
  /** The baseline's streams start (once every socket of its layout is open). */
  | { op: "startStreams" }
  | { op: "beginWindow" }
  | { op: "endWindow" }
  | { op: "stop" };

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
  /** CPU the far-end process used in the window (µs) and the window's wall time (ms). */
  cpuUs: number;
  wallMs: number;
}

export type FarEndMessage =
  | { type: "ready" }
  | { type: "reply"; id: number; ok: true; result: unknown }
  | { type: "reply"; id: number; ok: false; error: string };
