/**
 * bench:load --stall-evidence: what the stalls behind latency_trim drops are. Over the
 * measuring window of the worker run it records, each with epoch-ms times (comparable across
 * threads and processes of this machine):
 * - in the media worker thread: its GCs, event-loop delay and timed loop stalls, the times of
 *   latency_trim drops, render ticks later than 5 ms, skipped ticks, and gaps (> 25 ms) between
 *   received batches and between sent batches (worker-stall-evidence.ts);
 * - in the bot process's main thread: its GCs and loop delay (the worker shares the process's
 *   memory but has its own isolate, heap and collector);
 * - in the far end (the media emulator's process): its clock's late, slow and skipped ticks,
 *   gaps between the worker's render batches as they arrive, its GCs and loop delay
 *   (far-end-stalls.ts).
 * Then each trim (a tick's trims are one event) and each far-end render batch gap is matched
 * with the candidate causes within ±40 ms, and the counts are printed.
 */
import type { BridgeMediaSessionProvider } from "../../src/media/bridge-media-session-provider.js";
import { ThreadStallProbe, type ThreadStalls } from "../../src/media/thread-stall-probe.js";
import type { WorkerStallEvidence } from "../../src/media/worker-stall-evidence.js";
import type { FarEndStallEvidence } from "./far-end-stalls.js";
import type { WorkerFarEnd } from "./runs.js";

/** A cause counts for an event when its interval is at most this far from the event. */
export const NEAR_MS = 40;

/** Where something that may hold audio back happened, as an interval of epoch ms. */
export type CauseKind =
  | "workerGc"
  | "workerLoopStall"
  | "workerLateTick"
  | "workerSkippedTick"
  | "workerInputGap"
  | "workerSendGap"
  | "mainGc"
  | "mainLoopStall"
  | "farEndGc"
  | "farEndLoopStall"
  | "farEndLateTick"
  | "farEndSlowTick"
  | "farEndSkippedTick"
  | "farEndRenderBatchGap";

export const CAUSE_NAMES: Record<CauseKind, string> = {
  workerGc: "a worker GC",
  workerLoopStall: "a worker loop stall",
  workerLateTick: "a worker render tick > 5 ms late",
  workerSkippedTick: "a worker skipped tick",
  workerInputGap: "a gap in the worker's input (> 25 ms)",
  workerSendGap: "a gap in the worker's sends (> 25 ms)",
  mainGc: "a main-thread GC",
  mainLoopStall: "a main-thread loop stall",
  farEndGc: "a far-end GC",
  farEndLoopStall: "a far-end loop stall",
  farEndLateTick: "a far-end tick > 5 ms late",
  farEndSlowTick: "a far-end tick's work > 5 ms",
  farEndSkippedTick: "a far-end skipped tick",
  farEndRenderBatchGap: "a gap in render batches at the far end (> 25 ms)",
};

export interface Interval {
  kind: CauseKind;
  fromMs: number;
  toMs: number;
}

/** An event matched with the causes near it: per kind, the distance (ms) to the nearest. */
export interface MatchedEvent {
  /** Ms since the window opened. */
  atMs: number;
  /** Frames trimmed, or the gap in ms. */
  value: number;
  nearest: Partial<Record<CauseKind, number>>;
}

export interface MatchCounts {
  events: number;
  /** Events with at least one cause of the kind within NEAR_MS. */
  near: Partial<Record<CauseKind, number>>;
  /** Events with no cause at all within NEAR_MS. */
  unexplained: number;
}

export interface StallEvidenceReport {
  nearMs: number;
  /** The window's start (epoch ms); event times in `trims` and `farEndGaps` are relative to it. */
  fromMs: number;
  toMs: number;
  trimFrames: number;
  trims: MatchCounts;
  farEndGaps: MatchCounts;
  /** The first matched events of each (the full records are in worker/farEnd). */
  trimDetail: MatchedEvent[];
  farEndGapDetail: MatchedEvent[];
  worker: WorkerStallEvidence | null;
  mainThread: ThreadStalls | null;
  farEnd: FarEndStallEvidence | null;
}

const DETAIL_EVENTS = 50;

/**
 * Recording started on every side, before the measuring window; finish() stops every side and
 * correlates. A side that cannot record (the .NET host) reports null.
 */
export class StallEvidenceRun {
  private constructor(
    private readonly provider: Pick<BridgeMediaSessionProvider, "stallEvidence">,
    private readonly far: WorkerFarEnd,
    private readonly main: ThreadStallProbe,
  ) {}

  static async start(
    provider: Pick<BridgeMediaSessionProvider, "stallEvidence">,
    far: WorkerFarEnd,
  ): Promise<StallEvidenceRun> {
    const main = new ThreadStallProbe();
    await far.request({ op: "stallEvidence", action: "start" });
    await provider.stallEvidence("start");
    main.start();
    return new StallEvidenceRun(provider, far, main);
  }

  async finish(): Promise<StallEvidenceReport> {
    const mainThread = this.main.stop();
    const worker = await this.provider.stallEvidence("stop");
    const { evidence: farEnd } = await this.far.request({ op: "stallEvidence", action: "stop" });
    return correlate(worker, mainThread, farEnd);
  }
}

/** Every recorded cause as an interval of epoch ms. */
export function causesOf(
  worker: WorkerStallEvidence | null,
  main: ThreadStalls | null,
  far: FarEndStallEvidence | null,
): Interval[] {
  const out: Interval[] = [];
  const gcs = (kind: CauseKind, thread: ThreadStalls | null) => {
    for (const gc of thread?.gc ?? []) out.push({ kind, fromMs: gc.atMs, toMs: gc.atMs + gc.durationMs });
  };
  // [time something was noticed, how long it lasted up to then].
  const endingAt = (kind: CauseKind, pairs: readonly [number, number][] | undefined) => {
    for (const [at, ms] of pairs ?? []) out.push({ kind, fromMs: at - ms, toMs: at });
  };
  // [time it started, how long it lasted from then].
  const startingAt = (kind: CauseKind, pairs: readonly [number, number][] | undefined) => {
    for (const [at, ms] of pairs ?? []) out.push({ kind, fromMs: at, toMs: at + ms });
  };
  gcs("workerGc", worker?.thread ?? null);
  endingAt("workerLoopStall", worker?.thread.loopStalls);
  endingAt("workerLateTick", worker?.lateTicks);
  for (const [at] of worker?.skippedTicks ?? [])
    out.push({ kind: "workerSkippedTick", fromMs: at, toMs: at });
  endingAt("workerInputGap", worker?.inputGaps);
  endingAt("workerSendGap", worker?.sendGaps);
  gcs("mainGc", main);
  endingAt("mainLoopStall", main?.loopStalls);
  gcs("farEndGc", far?.thread ?? null);
  endingAt("farEndLoopStall", far?.thread.loopStalls);
  endingAt("farEndLateTick", far?.lateTicks);
  startingAt("farEndSlowTick", far?.slowTicks);
  for (const [at] of far?.skippedTicks ?? []) out.push({ kind: "farEndSkippedTick", fromMs: at, toMs: at });
  endingAt("farEndRenderBatchGap", far?.renderBatchGaps);
  return out;
}

/** Distance (ms) from a time to an interval: 0 inside it. */
function distance(atMs: number, interval: Interval): number {
  if (atMs < interval.fromMs) return interval.fromMs - atMs;
  if (atMs > interval.toMs) return atMs - interval.toMs;
  return 0;
}

/**
 * Each event matched with the nearest cause of each kind within nearMs. `exclude` leaves out
 * the kind the events themselves are (a far-end gap is not its own cause).
 */
export function matchEvents(
  events: readonly [number, number][],
  causes: readonly Interval[],
  windowFromMs: number,
  nearMs = NEAR_MS,
  exclude?: CauseKind,
): { counts: MatchCounts; matched: MatchedEvent[] } {
  const counts: MatchCounts = { events: events.length, near: {}, unexplained: 0 };
  const matched: MatchedEvent[] = [];
  for (const [at, value] of events) {
    const nearest: Partial<Record<CauseKind, number>> = {};
    for (const cause of causes) {
      if (cause.kind === exclude) continue;
      const d = distance(at, cause);
      if (d > nearMs) continue;
      const before = nearest[cause.kind];
      if (before === undefined || d < before) nearest[cause.kind] = Math.round(d * 10) / 10;
    }
    const kinds = Object.keys(nearest) as CauseKind[];
    if (kinds.length === 0) counts.unexplained++;
    for (const kind of kinds) counts.near[kind] = (counts.near[kind] ?? 0) + 1;
    matched.push({ atMs: Math.round((at - windowFromMs) * 10) / 10, value, nearest });
  }
  return { counts, matched };
}

export function correlate(
  worker: WorkerStallEvidence | null,
  mainThread: ThreadStalls | null,
  farEnd: FarEndStallEvidence | null,
): StallEvidenceReport {
  const fromMs = worker?.thread.fromMs ?? mainThread?.fromMs ?? 0;
  const toMs = worker?.thread.toMs ?? mainThread?.toMs ?? 0;
  const causes = causesOf(worker, mainThread, farEnd);
  const trims = matchEvents(worker?.trims ?? [], causes, fromMs);
  const gaps = matchEvents(farEnd?.renderBatchGaps ?? [], causes, fromMs, NEAR_MS, "farEndRenderBatchGap");
  return {
    nearMs: NEAR_MS,
    fromMs,
    toMs,
    trimFrames: (worker?.trims ?? []).reduce((sum, [, frames]) => sum + frames, 0),
    trims: trims.counts,
    farEndGaps: gaps.counts,
    trimDetail: trims.matched.slice(0, DETAIL_EVENTS),
    farEndGapDetail: gaps.matched.slice(0, DETAIL_EVENTS),
    worker,
    mainThread,
    farEnd,
  };
}

/** The printed section: counts per cause, then each side's own figures. */
export function formatStallEvidence(r: StallEvidenceReport): string {
  const lines: string[] = [];
  const counts = (what: string, c: MatchCounts) => {
    const near = (Object.keys(CAUSE_NAMES) as CauseKind[])
      .filter((kind) => (c.near[kind] ?? 0) > 0)
      .map((kind) => `${CAUSE_NAMES[kind]}: ${c.near[kind]}`);
    lines.push(
      `  ${what}: ${c.events}; within ${r.nearMs} ms of ${near.length > 0 ? near.join("; ") : "nothing recorded"}; of none: ${c.unexplained}`,
    );
  };
  lines.push(`stall evidence (times across threads and processes in epoch ms; ±${r.nearMs} ms):`);
  counts(`trims (ticks with latency_trim drops, ${r.trimFrames} frames)`, r.trims);
  counts("render batch gaps at the far end (> 25 ms)", r.farEndGaps);
  const thread = (name: string, t: ThreadStalls | null) => {
    if (!t) return `  ${name}: not recorded`;
    const gcMs = t.gc.reduce((sum, gc) => sum + gc.durationMs, 0);
    const byKind = new Map<string, number>();
    for (const gc of t.gc) byKind.set(gc.kind, (byKind.get(gc.kind) ?? 0) + 1);
    const kinds = [...byKind].map(([kind, n]) => `${n} ${kind}`).join(", ");
    const maxGc = t.gc.reduce((max, gc) => Math.max(max, gc.durationMs), 0);
    return `  ${name}: GCs ${t.gc.length}${kinds ? ` (${kinds})` : ""}, ${gcMs.toFixed(1)} ms in all, longest ${maxGc.toFixed(2)} ms; loop delay p99 ${t.loopDelay.p99Ms.toFixed(2)} ms, max ${t.loopDelay.maxMs.toFixed(2)} ms; loop stalls > ${t.stallThresholdMs} ms: ${t.loopStalls.length}; heap ${mb(t.heapUsedBytes)} used of ${mb(t.heapTotalBytes)}`;
  };
  lines.push(thread("worker thread", r.worker?.thread ?? null));
  if (r.worker)
    lines.push(
      `    render ticks ${r.worker.ticks}, latest ${r.worker.maxTickLatenessMs.toFixed(2)} ms late, > 5 ms late: ${r.worker.lateTicks.length}; skipped: ${r.worker.skippedTicks.length}; input gaps: ${r.worker.inputGaps.length}; send gaps: ${r.worker.sendGaps.length}`,
    );
  lines.push(thread("bot main thread", r.mainThread));
  lines.push(thread("far end", r.farEnd?.thread ?? null));
  if (r.farEnd) {
    const lateSenders = r.farEnd.renderBatchSendGaps.filter((gap) => gap > 25).length;
    lines.push(
      `    ticks ${r.farEnd.ticks}, latest ${r.farEnd.maxTickLatenessMs.toFixed(2)} ms late, > 5 ms late: ${r.farEnd.lateTicks.length}; work > 5 ms: ${r.farEnd.slowTicks.length} (longest ${r.farEnd.maxTickWorkMs.toFixed(2)} ms); skipped: ${r.farEnd.skippedTicks.length}; render batches ${r.farEnd.renderBatches}, gaps ${r.farEnd.renderBatchGaps.length} (of which sent > 25 ms apart: ${lateSenders}); transit > 10 ms: ${r.farEnd.slowTransitBatches} (longest ${r.farEnd.maxRenderBatchTransitMs.toFixed(2)} ms)`,
    );
  }
  return lines.join("\n");
}

function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}
