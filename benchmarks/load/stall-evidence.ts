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
import { stallClass, ThreadStallProbe, type ThreadStalls } from "../../src/media/thread-stall-probe.js";
import { epochMs } from "../../src/media/timed-events.js";
import type { WorkerStallEvidence } from "../../src/media/worker-stall-evidence.js";
import type { FarEndStallEvidence } from "./far-end-stalls.js";
import type { WorkerFarEnd } from "./runs.js";

/** A cause counts for an event when its interval is at most this far from the event. */
export const NEAR_MS = 40;
/**
 * A trim is the end of a playout-queue window (10 ticks, 200 ms: playout-queue.ts) in which a
 * live backlog never went below the target: what built the backlog (a burst of input) came
 * before that window began (a burst inside it leaves the depth before it as the window's
 * smallest), in the window before it. So a trim's causes are looked for from two windows before
 * it to one window before it, 40 ms wider each side: [trim − 440 ms, trim − 160 ms].
 */
export const TRIM_LOOKBACK_MS = 2 * 200 + NEAR_MS;
export const TRIM_LOOKBACK_UNTIL_MS = 200 - NEAR_MS;
/** The recording starts this long before the measuring window: a trim's whole look-back. */
export const RECORD_AHEAD_MS = TRIM_LOOKBACK_MS;
/** A gap in the worker's input is matched with what overlaps it, this much either side. */
const GAP_SLACK_MS = 5;

/** Where something that may hold audio back happened, as an interval of epoch ms. */
export type CauseKind =
  | "workerGc"
  | "workerLoopStall"
  | "workerWaitingForCpu"
  | "workerBlocked"
  | "workerLateTick"
  | "workerSkippedTick"
  | "workerInputGap"
  | "workerSendGap"
  | "mainGc"
  | "mainLoopStall"
  | "mainWaitingForCpu"
  | "mainBlocked"
  | "farEndGc"
  | "farEndLoopStall"
  | "farEndWaitingForCpu"
  | "farEndBlocked"
  | "farEndLateTick"
  | "farEndSlowTick"
  | "farEndSkippedTick"
  | "farEndRenderBatchGap"
  | "farEndSourceGap"
  | "farEndSocketBehind";

export const CAUSE_NAMES: Record<CauseKind, string> = {
  workerGc: "a worker GC",
  workerLoopStall: "a worker loop stall",
  workerWaitingForCpu: "a worker loop stall mostly waiting for a CPU",
  workerBlocked: "a worker loop stall mostly blocked off a CPU",
  workerLateTick: "a worker render tick > 5 ms late",
  workerSkippedTick: "a worker skipped tick",
  workerInputGap: "a gap in the worker's input (> 25 ms)",
  workerSendGap: "a gap in the worker's sends (> 25 ms)",
  mainGc: "a main-thread GC",
  mainLoopStall: "a main-thread loop stall",
  mainWaitingForCpu: "a main-thread loop stall mostly waiting for a CPU",
  mainBlocked: "a main-thread loop stall mostly blocked off a CPU",
  farEndGc: "a far-end GC",
  farEndLoopStall: "a far-end loop stall",
  farEndWaitingForCpu: "a far-end loop stall mostly waiting for a CPU",
  farEndBlocked: "a far-end loop stall mostly blocked off a CPU",
  farEndLateTick: "a far-end tick > 5 ms late",
  farEndSlowTick: "a far-end tick's work > 10 ms",
  farEndSkippedTick: "a far-end skipped tick",
  farEndRenderBatchGap: "a gap in render batches at the far end (> 25 ms)",
  farEndSourceGap: "a gap in the far end's sends (> 25 ms)",
  farEndSocketBehind: "a far-end send behind unsent bytes (the worker not reading)",
};

/** Which side of the wire a cause is on (a gap or a main-thread stall is neither). */
const FAR_END_SIDE: readonly CauseKind[] = [
  "farEndSourceGap",
  "farEndGc",
  "farEndLoopStall",
  "farEndLateTick",
  "farEndSlowTick",
  "farEndSkippedTick",
];
const WORKER_SIDE: readonly CauseKind[] = [
  "workerGc",
  "workerLoopStall",
  "workerLateTick",
  "workerSkippedTick",
  // The far end sent, its socket still held bytes: the worker was not reading.
  "farEndSocketBehind",
];

/**
 * The gaps in the worker's input by the side that was stalled across each: the far end (it
 * sent late), the worker (it read late), both or neither; and of those, how many had a GC of
 * that side, a stall mostly spent waiting for a CPU (scheduling) or one mostly blocked off a CPU
 * (e.g. a collection waiting for its helper threads) in them.
 */
export interface GapSides {
  farEndOnly: number;
  workerOnly: number;
  both: number;
  neither: number;
  farEndGc: number;
  farEndWaitingForCpu: number;
  farEndBlocked: number;
  workerGc: number;
  workerWaitingForCpu: number;
  workerBlocked: number;
}

/** Trims by what the two windows before them hold (TRIM_LOOKBACK_MS). */
export interface TrimCauses {
  /** Trims with a gap in the worker's input before them, by the side stalled across it. */
  afterFarEndGap: number;
  afterWorkerGap: number;
  afterBothGap: number;
  afterUnexplainedGap: number;
  /** Trims with no gap in the worker's input before them. */
  noInputGap: number;
  /**
   * Of all the trims, those whose look-back span began before the recording did (in its first
   * 440 ms): what caused them may not have been recorded.
   */
  lookBackBeforeRecording: number;
}

export interface Interval {
  kind: CauseKind;
  fromMs: number;
  toMs: number;
}

/**
 * An event matched with the causes near it: per kind, the offset (ms) of the nearest one's
 * nearest point from the event (negative: before it; 0: the event is inside it).
 */
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
  /**
   * The control: the share (0..1) of evenly spaced times over the window that the same span
   * matches with a cause of each kind. A kind matched with 90 % of trims that chance matches
   * with 85 % of times explains nothing; one chance matches with 10 % does.
   */
  byChance: Partial<Record<CauseKind, number>>;
}

export interface StallEvidenceReport {
  nearMs: number;
  /** A trim's causes are looked for from trimLookbackMs to trimLookbackUntilMs before it. */
  trimLookbackMs: number;
  trimLookbackUntilMs: number;
  /** When the recording began (epoch ms): RECORD_AHEAD_MS before the window when it could. */
  recordedFromMs: number;
  /**
   * The window's start (epoch ms): events (trims, gaps) are counted from it on, their times in
   * the details relative to it; causes are taken from the whole recording.
   */
  fromMs: number;
  toMs: number;
  trimFrames: number;
  trims: MatchCounts;
  farEndGaps: MatchCounts;
  /**
   * Gaps (> 25 ms) between the batches the worker received, each matched with what overlapped
   * it (±5 ms): a late far end sends late, a stalled worker reads late. After a gap the late
   * batches arrive together, the burst a later trim cuts.
   */
  workerInputGaps: MatchCounts;
  inputGapSides: GapSides;
  trimCauses: TrimCauses;
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
  private windowFromMs: number | undefined;

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

  /** The measuring window opens now: trims and gaps before it are causes only, not counted. */
  windowOpens(): void {
    this.windowFromMs = epochMs();
  }

  async finish(): Promise<StallEvidenceReport> {
    const mainThread = this.main.stop();
    const worker = await this.provider.stallEvidence("stop");
    const { evidence: farEnd } = await this.far.request({ op: "stallEvidence", action: "stop" });
    return correlate(worker, mainThread, farEnd, this.windowFromMs);
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
  // A loop stall; and what it mostly was when the thread was runnable but not running (a wait
  // for a CPU) or neither running nor runnable (blocked).
  const stalls = (kind: CauseKind, waiting: CauseKind, blocked: CauseKind, thread: ThreadStalls | null) => {
    for (const stall of thread?.loopStalls ?? []) {
      const span = { fromMs: stall.atMs - stall.lateMs, toMs: stall.atMs };
      out.push({ kind, ...span });
      const what = stallClass(stall);
      if (what === "waitingForCpu") out.push({ kind: waiting, ...span });
      else if (what === "blocked") out.push({ kind: blocked, ...span });
    }
  };
  gcs("workerGc", worker?.thread ?? null);
  stalls("workerLoopStall", "workerWaitingForCpu", "workerBlocked", worker?.thread ?? null);
  endingAt("workerLateTick", worker?.lateTicks);
  for (const [at] of worker?.skippedTicks ?? [])
    out.push({ kind: "workerSkippedTick", fromMs: at, toMs: at });
  endingAt("workerInputGap", worker?.inputGaps);
  endingAt("workerSendGap", worker?.sendGaps);
  gcs("mainGc", main);
  stalls("mainLoopStall", "mainWaitingForCpu", "mainBlocked", main);
  gcs("farEndGc", far?.thread ?? null);
  stalls("farEndLoopStall", "farEndWaitingForCpu", "farEndBlocked", far?.thread ?? null);
  endingAt("farEndLateTick", far?.lateTicks);
  startingAt("farEndSlowTick", far?.slowTicks);
  for (const [at] of far?.skippedTicks ?? []) out.push({ kind: "farEndSkippedTick", fromMs: at, toMs: at });
  endingAt("farEndRenderBatchGap", far?.renderBatchGaps);
  endingAt("farEndSourceGap", far?.sourceBatchGaps);
  for (const [at] of far?.sourceBatchesBehind ?? [])
    out.push({ kind: "farEndSocketBehind", fromMs: at, toMs: at });
  return out;
}

/**
 * Where around each event causes are looked for: from beforeMs before it (before a gap's start,
 * for gaps) to afterMs after it (negative: before it).
 */
export interface MatchSpan {
  beforeMs: number;
  afterMs: number;
  /** The kind the events themselves are (a far-end gap is not its own cause). */
  exclude?: CauseKind;
}

/**
 * Each event ([time, value]; a gap's time is its end, `value` its length in ms when `gaps`)
 * matched with the nearest cause of each kind within the span.
 */
export function matchEvents(
  events: readonly [number, number][],
  causes: readonly Interval[],
  windowFromMs: number,
  span: MatchSpan,
  gaps = false,
): { counts: MatchCounts; matched: MatchedEvent[] } {
  const counts: MatchCounts = { events: events.length, near: {}, unexplained: 0, byChance: {} };
  const matched: MatchedEvent[] = [];
  for (const [at, value] of events) {
    const nearest: Partial<Record<CauseKind, number>> = {};
    // A gap is the span [end - length, end]: a cause anywhere in it is at offset 0.
    const from = gaps ? at - value : at;
    const lookFrom = from - span.beforeMs;
    const lookTo = at + span.afterMs;
    for (const cause of causes) {
      if (cause.kind === span.exclude) continue;
      if (cause.toMs < lookFrom || cause.fromMs > lookTo) continue;
      const d = cause.toMs < from ? cause.toMs - from : cause.fromMs > at ? cause.fromMs - at : 0;
      const before = nearest[cause.kind];
      if (before === undefined || Math.abs(d) < Math.abs(before))
        nearest[cause.kind] = Math.round(d * 10) / 10;
    }
    const kinds = Object.keys(nearest) as CauseKind[];
    if (kinds.length === 0) counts.unexplained++;
    for (const kind of kinds) counts.near[kind] = (counts.near[kind] ?? 0) + 1;
    matched.push({ atMs: Math.round((at - windowFromMs) * 10) / 10, value, nearest });
  }
  return { counts, matched };
}

/**
 * Matches the events (trims, gaps) from `windowFromMs` on (default: when the recording began)
 * with every cause recorded, including those before it: a trim early in the window looks back
 * to before the window (the recording starts RECORD_AHEAD_MS ahead of it for that).
 */
const TRIM_SPAN: MatchSpan = { beforeMs: TRIM_LOOKBACK_MS, afterMs: -TRIM_LOOKBACK_UNTIL_MS };
const FAR_END_GAP_SPAN: MatchSpan = { beforeMs: NEAR_MS, afterMs: NEAR_MS, exclude: "farEndRenderBatchGap" };

/** Times sampled for the chance control (evenly over the window). */
const CHANCE_SAMPLES = 500;

/**
 * Per kind, the share of CHANCE_SAMPLES evenly spaced times in [fromMs, toMs] with a cause of
 * that kind in the span (for gaps, a span of the events' median length).
 */
export function byChance(
  causes: readonly Interval[],
  fromMs: number,
  toMs: number,
  span: MatchSpan,
  gapLengthMs = 0,
): Partial<Record<CauseKind, number>> {
  const hits: Partial<Record<CauseKind, number>> = {};
  if (toMs <= fromMs) return hits;
  for (let i = 0; i < CHANCE_SAMPLES; i++) {
    const at = fromMs + ((i + 0.5) * (toMs - fromMs)) / CHANCE_SAMPLES;
    const lookFrom = at - gapLengthMs - span.beforeMs;
    const lookTo = at + span.afterMs;
    const seen = new Set<CauseKind>();
    for (const cause of causes) {
      if (cause.kind === span.exclude || seen.has(cause.kind)) continue;
      if (cause.toMs < lookFrom || cause.fromMs > lookTo) continue;
      seen.add(cause.kind);
      hits[cause.kind] = (hits[cause.kind] ?? 0) + 1;
    }
  }
  for (const kind of Object.keys(hits) as CauseKind[])
    hits[kind] = Math.round(((hits[kind] as number) / CHANCE_SAMPLES) * 1000) / 1000;
  return hits;
}

function medianLength(events: readonly [number, number][]): number {
  const lengths = events.map(([, ms]) => ms).sort((a, b) => a - b);
  return lengths.length === 0 ? 0 : (lengths[Math.floor(lengths.length / 2)] as number);
}

export function correlate(
  worker: WorkerStallEvidence | null,
  mainThread: ThreadStalls | null,
  farEnd: FarEndStallEvidence | null,
  windowFromMs?: number,
): StallEvidenceReport {
  const recordedFromMs = worker?.thread.fromMs ?? mainThread?.fromMs ?? 0;
  const fromMs = windowFromMs ?? recordedFromMs;
  const toMs = worker?.thread.toMs ?? mainThread?.toMs ?? 0;
  const inWindow = (events: readonly [number, number][] | undefined) =>
    (events ?? []).filter(([at]) => at >= fromMs);
  const causes = causesOf(worker, mainThread, farEnd);
  const windowTrims = inWindow(worker?.trims);
  const trims = matchEvents(windowTrims, causes, fromMs, TRIM_SPAN);
  const gaps = matchEvents(inWindow(farEnd?.renderBatchGaps), causes, fromMs, FAR_END_GAP_SPAN, true);
  // Every input gap recorded can be behind a trim in the window; those in it are counted.
  const gapSpan: MatchSpan = { beforeMs: GAP_SLACK_MS, afterMs: GAP_SLACK_MS, exclude: "workerInputGap" };
  const allInputGaps = worker?.inputGaps ?? [];
  const { sideOf } = gapSides(allInputGaps, matchEvents(allInputGaps, causes, fromMs, gapSpan, true).matched);
  const windowInputGaps = inWindow(allInputGaps);
  const inputGaps = matchEvents(windowInputGaps, causes, fromMs, gapSpan, true);
  const { sides } = gapSides(windowInputGaps, inputGaps.matched);
  trims.counts.byChance = byChance(causes, fromMs, toMs, TRIM_SPAN);
  inputGaps.counts.byChance = byChance(causes, fromMs, toMs, gapSpan, medianLength(windowInputGaps));
  gaps.counts.byChance = byChance(
    causes,
    fromMs,
    toMs,
    FAR_END_GAP_SPAN,
    medianLength(inWindow(farEnd?.renderBatchGaps)),
  );
  return {
    nearMs: NEAR_MS,
    trimLookbackMs: TRIM_LOOKBACK_MS,
    trimLookbackUntilMs: TRIM_LOOKBACK_UNTIL_MS,
    inputGapSides: sides,
    trimCauses: trimCauses(windowTrims, allInputGaps, sideOf, recordedFromMs),
    recordedFromMs,
    fromMs,
    toMs,
    trimFrames: windowTrims.reduce((sum, [, frames]) => sum + frames, 0),
    trims: trims.counts,
    farEndGaps: gaps.counts,
    workerInputGaps: inputGaps.counts,
    trimDetail: trims.matched.slice(0, DETAIL_EVENTS),
    farEndGapDetail: gaps.matched.slice(0, DETAIL_EVENTS),
    worker,
    mainThread,
    farEnd,
  };
}

type Side = "farEnd" | "worker" | "both" | "neither";

function gapSides(
  gaps: readonly [number, number][],
  matched: readonly MatchedEvent[],
): { sides: GapSides; sideOf: Side[] } {
  const sides: GapSides = {
    farEndOnly: 0,
    workerOnly: 0,
    both: 0,
    neither: 0,
    farEndGc: 0,
    farEndWaitingForCpu: 0,
    farEndBlocked: 0,
    workerGc: 0,
    workerWaitingForCpu: 0,
    workerBlocked: 0,
  };
  const sideOf: Side[] = [];
  for (let i = 0; i < gaps.length; i++) {
    const near = matched[i]?.nearest ?? {};
    const far = FAR_END_SIDE.some((kind) => near[kind] !== undefined);
    const worker = WORKER_SIDE.some((kind) => near[kind] !== undefined);
    const side: Side = far && worker ? "both" : far ? "farEnd" : worker ? "worker" : "neither";
    sideOf.push(side);
    if (side === "farEnd") sides.farEndOnly++;
    else if (side === "worker") sides.workerOnly++;
    else if (side === "both") sides.both++;
    else sides.neither++;
    if (near.farEndGc !== undefined) sides.farEndGc++;
    if (near.farEndWaitingForCpu !== undefined) sides.farEndWaitingForCpu++;
    if (near.workerGc !== undefined) sides.workerGc++;
    if (near.workerWaitingForCpu !== undefined) sides.workerWaitingForCpu++;
    if (near.farEndBlocked !== undefined) sides.farEndBlocked++;
    if (near.workerBlocked !== undefined) sides.workerBlocked++;
  }
  return { sides, sideOf };
}

function trimCauses(
  trims: readonly [number, number][],
  gaps: readonly [number, number][],
  sideOf: readonly Side[],
  recordedFromMs: number,
): TrimCauses {
  const out: TrimCauses = {
    afterFarEndGap: 0,
    afterWorkerGap: 0,
    afterBothGap: 0,
    afterUnexplainedGap: 0,
    noInputGap: 0,
    lookBackBeforeRecording: 0,
  };
  for (const [at] of trims) {
    if (at - TRIM_LOOKBACK_MS < recordedFromMs) out.lookBackBeforeRecording++;
    const before = new Set<Side>();
    gaps.forEach(([end], i) => {
      // The gap overlaps the trim's look-back span (its start is end − length).
      const start = end - (gaps[i]?.[1] ?? 0);
      if (end >= at - TRIM_LOOKBACK_MS && start <= at - TRIM_LOOKBACK_UNTIL_MS) before.add(sideOf[i] as Side);
    });
    if (before.size === 0) out.noInputGap++;
    else if (before.has("both") || (before.has("farEnd") && before.has("worker"))) out.afterBothGap++;
    else if (before.has("farEnd")) out.afterFarEndGap++;
    else if (before.has("worker")) out.afterWorkerGap++;
    else out.afterUnexplainedGap++;
  }
  return out;
}

/** The printed section: counts per cause, then each side's own figures. */
export function formatStallEvidence(r: StallEvidenceReport): string {
  const lines: string[] = [];
  const counts = (what: string, within: string, c: MatchCounts) => {
    const near = (Object.keys(CAUSE_NAMES) as CauseKind[])
      .filter((kind) => (c.near[kind] ?? 0) > 0)
      .map(
        (kind) =>
          `${CAUSE_NAMES[kind]}: ${c.near[kind]} (by chance ${Math.round((c.byChance[kind] ?? 0) * 100)} %)`,
      );
    lines.push(
      `  ${what}: ${c.events}; ${within} ${near.length > 0 ? near.join("; ") : "nothing recorded"}; of none: ${c.unexplained}`,
    );
  };
  lines.push(
    `stall evidence (recorded from ${Math.round(r.fromMs - r.recordedFromMs)} ms before the window to just after it, trims and gaps counted from the window's start; times compared across threads and processes):`,
  );
  counts(
    `trims (ticks with latency_trim drops, ${r.trimFrames} frames)`,
    `from ${r.trimLookbackMs} to ${r.trimLookbackUntilMs} ms before (the backlog a trim cuts stood its whole 200 ms window) of`,
    r.trims,
  );
  const t = r.trimCauses;
  lines.push(
    `    trims after a gap in the worker's input (${r.trimLookbackMs} to ${r.trimLookbackUntilMs} ms before): the far end stalled across it ${t.afterFarEndGap}, the worker ${t.afterWorkerGap}, both ${t.afterBothGap}, neither ${t.afterUnexplainedGap}; no input gap before: ${t.noInputGap} (of all trims, ${t.lookBackBeforeRecording} looked back to before the recording began)`,
  );
  counts("gaps in the worker's input (> 25 ms)", `overlapping (±${GAP_SLACK_MS} ms)`, r.workerInputGaps);
  const g = r.inputGapSides;
  lines.push(
    `    stalled across the gap: the far end only ${g.farEndOnly}, the worker only ${g.workerOnly}, both ${g.both}, neither ${g.neither}; in how many gaps: a far-end GC ${g.farEndGc}, a far-end wait for a CPU ${g.farEndWaitingForCpu}, a far-end stall blocked off a CPU ${g.farEndBlocked}, a worker GC ${g.workerGc}, a worker wait for a CPU ${g.workerWaitingForCpu}, a worker stall blocked off a CPU ${g.workerBlocked}`,
  );
  counts("render batch gaps at the far end (> 25 ms)", `within ${r.nearMs} ms of`, r.farEndGaps);
  const thread = (name: string, t: ThreadStalls | null) => {
    if (!t) return `  ${name}: not recorded`;
    const gcMs = t.gc.reduce((sum, gc) => sum + gc.durationMs, 0);
    const byKind = new Map<string, number>();
    for (const gc of t.gc) byKind.set(gc.kind, (byKind.get(gc.kind) ?? 0) + 1);
    const kinds = [...byKind].map(([kind, n]) => `${n} ${kind}`).join(", ");
    const maxGc = t.gc.reduce((max, gc) => Math.max(max, gc.durationMs), 0);
    const classes = t.loopStalls.map(stallClass);
    const of = (what: ReturnType<typeof stallClass>) => classes.filter((c) => c === what).length;

    const sched =
      t.onCpuMs === null || t.waitingMs === null
        ? ""
        : `; on a CPU ${t.onCpuMs.toFixed(0)} ms, runnable but waiting ${t.waitingMs.toFixed(0)} ms`;
    return `  ${name}: GCs ${t.gc.length}${kinds ? ` (${kinds})` : ""}, ${gcMs.toFixed(1)} ms in all, longest ${maxGc.toFixed(2)} ms; loop delay p99 ${t.loopDelay.p99Ms.toFixed(2)} ms, max ${t.loopDelay.maxMs.toFixed(2)} ms; loop stalls > ${t.stallThresholdMs} ms: ${t.loopStalls.length} (mostly waiting for a CPU: ${of("waitingForCpu")}, blocked off a CPU: ${of("blocked")}, running: ${of("running")})${sched}; heap ${mb(t.heapUsedBytes)} used of ${mb(t.heapTotalBytes)}`;
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
      `    ticks ${r.farEnd.ticks}, source batches ${r.farEnd.sourceBatches} (sent > 25 ms after the previous: ${r.farEnd.sourceBatchGaps.length}; behind unsent bytes: ${r.farEnd.sourceBatchesBehind.length}), latest ${r.farEnd.maxTickLatenessMs.toFixed(2)} ms late, > 5 ms late: ${r.farEnd.lateTicks.length}; work > 10 ms: ${r.farEnd.slowTicks.length} (longest ${r.farEnd.maxTickWorkMs.toFixed(2)} ms); skipped: ${r.farEnd.skippedTicks.length}; render batches ${r.farEnd.renderBatches}, gaps ${r.farEnd.renderBatchGaps.length} (of which sent > 25 ms apart: ${lateSenders}); transit > 10 ms: ${r.farEnd.slowTransitBatches} (longest ${r.farEnd.maxRenderBatchTransitMs.toFixed(2)} ms)`,
    );
  }
  return lines.join("\n");
}

function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}
