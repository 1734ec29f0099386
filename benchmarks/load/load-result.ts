import type { JsonLayout } from "./far-end-messages.js";
import type { BaselineRun, WorkerRun } from "./runs.js";

/** The goals of the issue for this 2-core machine. */
export const GOALS = {
  minCallsWithoutDrops: 1000,
  transitP99Ms: 5,
  latenessP99Ms: 2,
  maxWorkerOverFloor: 1.5,
  minJsonOverWorker: 3,
};

/** Goal fields shown for information only: not goals of the issue, not part of "all goals". */
export const INFORMATIVE_GOALS: ReadonlySet<string> = new Set(["atLeast3xCheaperThanJsonBase64Shared"]);

/** Every goal of the issue met (informative ones left out); null or false fails. */
export function allGoalsMet(goals: Record<string, boolean | null>): boolean {
  return Object.entries(goals).every(([key, value]) => INFORMATIVE_GOALS.has(key) || value === true);
}

/** One bench:load run (one call count), as written to benchmarks/results/load-*.json. */
export interface LoadResult {
  calls: number;
  seconds: number;
  /** Frames the media worker sent (echoed) to the far end in the window. */
  framesSent: number;
  /** Frames the media worker received from the far end in the window. */
  framesReceived: number;
  /** Frames dropped anywhere: worker (media_frames_dropped_total) and far end. */
  framesDropped: number;
  /** Batches the bridge client refused to send (bridge_send_drops_total). */
  bridgeSendDropBatches: number;
  /** 20 ms ticks skipped by a late clock: worker pacer + far end. */
  skippedTicks: number;
  transitP50Ms: number | null;
  transitP99Ms: number | null;
  transitMaxMs: number | null;
  latenessP50Ms: number | null;
  latenessP99Ms: number | null;
  latenessMaxMs: number | null;
  echoRoundTripP50Ms: number;
  echoRoundTripP99Ms: number;
  echoRoundTripMaxMs: number;
  /** The worker's live playout target (frames): sets the echo's standing queue depth. */
  livePlayoutTargetFrames: number;
  /** Whether each call's target adapted between 0 and livePlayoutTargetFrames. */
  adaptiveLiveTarget: boolean;
  workerCpuUsPerFrame: number | null;
  workerThreadCpuUsPerFrame: number | null;
  floorCpuUsPerFrame: number | null;
  /**
   * The bridge protocol with no engine (protocol-echo-bot.ts): the worker's transport against
   * the same emulator, each frame copied straight back. null without baselines.
   */
  protocolEchoCpuUsPerFrame: number | null;
  /**
   * JSON + base64 in the layout the goal is judged on: a socket per call (the closest peer's
   * design) when it ran, else one shared socket; null without baselines.
   */
  jsonBase64CpuUsPerFrame: number | null;
  /** The layout of jsonBase64CpuUsPerFrame, jsonBase64OverWorker and `jsonBase64`. */
  jsonBase64Layout: JsonLayout | null;
  /** JSON + base64 over one shared socket (a stream id per message); null when not run. */
  jsonBase64SharedCpuUsPerFrame: number | null;
  /** workerCpuUsPerFrame / floorCpuUsPerFrame (goal <= 1.5). */
  workerOverFloor: number | null;
  /** protocolEchoCpuUsPerFrame / floorCpuUsPerFrame: what the protocol alone costs over the floor. */
  protocolEchoOverFloor: number | null;
  /** workerCpuUsPerFrame / protocolEchoCpuUsPerFrame: what the engine adds over the protocol. */
  workerOverProtocolEcho: number | null;
  /** jsonBase64CpuUsPerFrame / workerCpuUsPerFrame (goal >= 3). */
  jsonBase64OverWorker: number | null;
  /** jsonBase64SharedCpuUsPerFrame / workerCpuUsPerFrame (informative: the stricter comparison). */
  jsonBase64SharedOverWorker: number | null;
  /**
   * Frames each design handled as a % of every call's 50 frames a second both ways (null: not
   * run). Below 100, the design (or its far end) did not keep the pace, and its µs/frame is
   * at that lower rate.
   */
  ratePercent: {
    worker: number;
    floor: number | null;
    protocolEcho: number | null;
    jsonPerCall: number | null;
    jsonShared: number | null;
  };
  goals: Record<string, boolean | null>;
  method: Record<string, string>;
  worker: WorkerRun;
  floor: BaselineRun | null;
  protocolEcho: BaselineRun | null;
  /** The JSON + base64 run behind jsonBase64CpuUsPerFrame (layout jsonBase64Layout). */
  jsonBase64: BaselineRun | null;
  /** The shared-socket JSON + base64 run (the same run as `jsonBase64` when only it ran). */
  jsonBase64Shared: BaselineRun | null;
}

export const METHOD = {
  cpu: "process.cpuUsage() of the bot process over the window, less its idle rate sampled with the bot's thread started and connected and no stream started (median of ten 100 ms slices; the same point for every design), divided by frames handled (received + sent) by the bot side over the same window (counters read just outside it, the count scaled to its wall time: cpu.framesCounted over cpu.framesCountedOverMs); the far end runs in a child process and is not counted. workerThreadCpuUsPerFrame: the media worker thread alone, from /proc (10 ms ticks).",
  transitAndLateness:
    "from the worker's media_frame_transit_seconds and media_render_lateness_seconds histograms (deltas of two scrapes around the window); the worker keeps bucket counts only, so each figure is the upper bound of the bucket holding that percentile (null: no observations or beyond 1 s)",
  echoRoundTrip:
    "far end: source frame sent -> the bot's echo of it received (emulator watermark match; for baselines the echoed timestamp), HDR histogram",
  jsonBase64Layouts:
    "JSON + base64 runs in two layouts: a WebSocket per call (perCall, the closest peer's design: shared/docs/media-frames.md) and one shared socket with a stream id per message (shared). The goal atLeast3xCheaperThanJsonBase64 is judged on perCall when it ran, else on shared (jsonBase64Layout says which); atLeast3xCheaperThanJsonBase64Shared is informative: JSON costs less on a shared socket, so it is the stricter comparison, shown beside the goal and not part of it",
  protocolEcho:
    "the bridge protocol with no media engine: BridgeClient, FrameBatchReader and a pooled FrameBatchWriter in a thread started like the worker, against the same media platform emulator, each received frame copied straight into a FrameBatch sent back once its batch is read (no jitter buffer, handlers, playout queue, pacer or per-frame metrics); informative: splits the worker's cost into protocol and engine",
  drops:
    "framesDropped = worker media_frames_dropped_total (all reasons) + far-end drops (source batches refused for backpressure x sessions, playout overflow, render before ACTIVE)",
};

/**
 * Frames handled as a % of every call's 50 frames a second both ways, over the CPU window's own
 * wall time (the span its frames were counted over: runs.ts, framesInCpuWindow).
 */
export function ratePercentOf(calls: number, cpu: { framesHandled: number; wallMs: number }): number {
  const expected = (calls * 50 * 2 * cpu.wallMs) / 1000;
  return expected > 0 ? Math.round((cpu.framesHandled / expected) * 1000) / 10 : 0;
}

const ratio = (a: number | null, b: number | null) =>
  a === null || b === null || b === 0 ? null : Math.round((a / b) * 100) / 100;

/** The baseline runs of one call count; null where a design did not run. */
export interface BaselineRuns {
  floor: BaselineRun | null;
  protocolEcho: BaselineRun | null;
  jsonPerCall: BaselineRun | null;
  jsonShared: BaselineRun | null;
}

export function buildResult(
  calls: number,
  seconds: number,
  worker: WorkerRun,
  { floor, protocolEcho, jsonPerCall, jsonShared }: BaselineRuns,
): LoadResult {
  if (jsonPerCall && jsonPerCall.layout !== "perCall") throw new Error("jsonPerCall is not a per-call run");
  if (jsonShared && jsonShared.layout !== "shared") throw new Error("jsonShared is not a shared-socket run");
  // The goal compares with the peer's own layout whenever it was measured.
  const json = jsonPerCall ?? jsonShared;
  const workerDrops = Object.values(worker.workerDrops).reduce((a, b) => a + b, 0);
  const bridgeDrops = Object.values(worker.bridgeSendDrops).reduce((a, b) => a + b, 0);
  const framesDropped = workerDrops + worker.farEnd.framesDropped;
  const skippedTicks = worker.pacerSkippedTicks + worker.farEnd.skippedTicks;
  const workerCpu = worker.cpu.cpuUsPerFrame;
  const floorCpu = floor?.cpu.cpuUsPerFrame ?? null;
  const protocolCpu = protocolEcho?.cpu.cpuUsPerFrame ?? null;
  const jsonCpu = json?.cpu.cpuUsPerFrame ?? null;
  const sharedCpu = jsonShared?.cpu.cpuUsPerFrame ?? null;
  const workerOverFloor = ratio(workerCpu, floorCpu);
  const jsonBase64OverWorker = ratio(jsonCpu, workerCpu);
  const jsonBase64SharedOverWorker = ratio(sharedCpu, workerCpu);
  const clean = framesDropped === 0 && bridgeDrops === 0 && skippedTicks === 0;
  const baselineRate = (run: BaselineRun | null | undefined) => (run ? ratePercentOf(calls, run.cpu) : null);
  return {
    calls,
    seconds,
    framesSent: worker.workerFramesSent,
    framesReceived: worker.workerFramesReceived,
    framesDropped,
    bridgeSendDropBatches: bridgeDrops,
    skippedTicks,
    transitP50Ms: worker.transit.p50Ms,
    transitP99Ms: worker.transit.p99Ms,
    transitMaxMs: worker.transit.maxMs,
    latenessP50Ms: worker.lateness.p50Ms,
    latenessP99Ms: worker.lateness.p99Ms,
    latenessMaxMs: worker.lateness.maxMs,
    echoRoundTripP50Ms: worker.farEnd.echoRoundTrip.p50Ms,
    echoRoundTripP99Ms: worker.farEnd.echoRoundTrip.p99Ms,
    echoRoundTripMaxMs: worker.farEnd.echoRoundTrip.maxMs,
    livePlayoutTargetFrames: worker.livePlayoutTargetFrames,
    adaptiveLiveTarget: worker.adaptiveLiveTarget,
    workerCpuUsPerFrame: workerCpu,
    workerThreadCpuUsPerFrame: worker.workerThreadCpuUsPerFrame,
    floorCpuUsPerFrame: floorCpu,
    protocolEchoCpuUsPerFrame: protocolCpu,
    jsonBase64CpuUsPerFrame: jsonCpu,
    jsonBase64Layout: json?.layout ?? null,
    jsonBase64SharedCpuUsPerFrame: sharedCpu,
    workerOverFloor,
    protocolEchoOverFloor: ratio(protocolCpu, floorCpu),
    workerOverProtocolEcho: ratio(workerCpu, protocolCpu),
    jsonBase64OverWorker,
    jsonBase64SharedOverWorker,
    ratePercent: {
      worker: ratePercentOf(calls, worker.cpu),
      floor: baselineRate(floor),
      protocolEcho: baselineRate(protocolEcho),
      jsonPerCall: baselineRate(jsonPerCall),
      jsonShared: baselineRate(jsonShared),
    },
    goals: {
      noDrops: clean,
      callsAtLeast1000WithoutDrops: clean && calls >= GOALS.minCallsWithoutDrops,
      transitP99Under5Ms: worker.transit.p99Ms === null ? null : worker.transit.p99Ms <= GOALS.transitP99Ms,
      latenessP99Under2Ms:
        worker.lateness.p99Ms === null ? null : worker.lateness.p99Ms <= GOALS.latenessP99Ms,
      workerWithin1_5xFloor: workerOverFloor === null ? null : workerOverFloor <= GOALS.maxWorkerOverFloor,
      atLeast3xCheaperThanJsonBase64:
        jsonBase64OverWorker === null ? null : jsonBase64OverWorker >= GOALS.minJsonOverWorker,
      atLeast3xCheaperThanJsonBase64Shared:
        jsonBase64SharedOverWorker === null ? null : jsonBase64SharedOverWorker >= GOALS.minJsonOverWorker,
    },
    method: METHOD,
    worker,
    floor,
    protocolEcho,
    jsonBase64: json,
    jsonBase64Shared: jsonShared,
  };
}
