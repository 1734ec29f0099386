/**
 * Where an echo's time goes inside the worker, read exactly (whole microseconds, not histogram
 * buckets): for benchmarks and for diagnosing a deployment, off unless asked for
 * (MediaWorkerSettings.latencyProbe). Each stage counts every microsecond value up to
 * MAX_EXACT_US in its own counter (4 MB each), so percentiles are exact to the microsecond;
 * longer values are counted above it, with the largest kept exactly. Recording allocates nothing.
 */

/** Values up to this are counted one by one (0.5 s); a stage's max is exact at any size. */
const MAX_EXACT_US = 500_000;

/** Percentiles of one stage, microseconds; `aboveExactUs` counts values past MAX_EXACT_US. */
export interface StageSummary {
  count: number;
  meanUs: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  aboveExactUs: number;
}

/** Exact counts per whole microsecond, up to MAX_EXACT_US. */
export class MicrosecondHistogram {
  private readonly counts = new Uint32Array(MAX_EXACT_US + 1);
  /** The highest exact value counted since the last reset: reset and summary stop there. */
  private highest = 0;
  private count = 0;
  private sumUs = 0;
  private maxUs = 0;
  private above = 0;

  /** `n` samples of `us` (negative values, from clocks of two threads, count as 0). */
  record(us: number, n = 1): void {
    const value = us > 0 ? Math.round(us) : 0;
    if (value > MAX_EXACT_US) this.above += n;
    else {
      this.counts[value] = (this.counts[value] as number) + n;
      if (value > this.highest) this.highest = value;
    }
    this.count += n;
    this.sumUs += value * n;
    if (value > this.maxUs) this.maxUs = value;
  }

  constructor() {
    // Touch every page now, where the probe is made (the worker's start): the first reset of a
    // benchmark window faulted in 2 MB a stage on the media thread, 38 ms for the five stages.
    this.counts.fill(0);
  }

  reset(): void {
    // Only the counters that can be non-zero: a window of values under 50 ms clears 200 KB.
    this.counts.fill(0, 0, this.highest + 1);
    this.highest = 0;
    this.count = 0;
    this.sumUs = 0;
    this.maxUs = 0;
    this.above = 0;
  }

  summary(): StageSummary {
    const at = (q: number): number => {
      if (this.count === 0) return 0;
      // The smallest value with at least q of the samples at or below it.
      const rank = Math.max(1, Math.ceil(q * this.count));
      let seen = 0;
      for (let us = 0; us <= this.highest; us++) {
        seen += this.counts[us] as number;
        if (seen >= rank) return us;
      }
      return this.maxUs;
    };
    return {
      count: this.count,
      meanUs: this.count === 0 ? 0 : Math.round((this.sumUs / this.count) * 10) / 10,
      p50Us: at(0.5),
      p90Us: at(0.9),
      p99Us: at(0.99),
      p999Us: at(0.999),
      maxUs: this.maxUs,
      aboveExactUs: this.above,
    };
  }
}

/** The stages the worker reads, in the order a frame passes them. */
export const WORKER_STAGES = [
  /** Host's batch written (its sent_at_us) -> the worker's socket delivered it: per frame. */
  "hostToWorker",
  /** Batch delivered -> its frames routed through the jitter buffers to the handlers (all of them). */
  "batchHandled",
  /** Handlers done -> their live audio handed to the socket (sendLiveNow): per frame sent early. */
  "liveSend",
  /** Batch delivered -> live audio handed to the socket: the worker's whole share of an echo. */
  "receiveToLiveSent",
  /** A render tick's deadline -> its batch handed to the socket: per tick. */
  "renderLateness",
] as const;
export type WorkerStage = (typeof WORKER_STAGES)[number];

export interface LatencyProbeSnapshot {
  stages: Record<WorkerStage, StageSummary>;
  /** Frames that went out right after their batch / at a render tick. */
  framesSentLive: number;
  framesSentAtTick: number;
  /** Over how long the stages were collected (since the last reset), ms. */
  windowMs: number;
}

export class LatencyProbe {
  readonly hostToWorker = new MicrosecondHistogram();
  readonly batchHandled = new MicrosecondHistogram();
  readonly liveSend = new MicrosecondHistogram();
  readonly receiveToLiveSent = new MicrosecondHistogram();
  readonly renderLateness = new MicrosecondHistogram();
  framesSentLive = 0;
  framesSentAtTick = 0;
  private startedAtMs = performance.now();

  reset(): void {
    for (const stage of WORKER_STAGES) this[stage].reset();
    this.framesSentLive = 0;
    this.framesSentAtTick = 0;
    this.startedAtMs = performance.now();
  }

  snapshot(): LatencyProbeSnapshot {
    const stages = {} as Record<WorkerStage, StageSummary>;
    for (const stage of WORKER_STAGES) stages[stage] = this[stage].summary();
    return {
      stages,
      framesSentLive: this.framesSentLive,
      framesSentAtTick: this.framesSentAtTick,
      windowMs: Math.round(performance.now() - this.startedAtMs),
    };
  }
}
