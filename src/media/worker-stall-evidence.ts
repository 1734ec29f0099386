import type { MediaMetrics } from "../metrics/media-metrics.js";
import { ThreadStallProbe, type ThreadStalls } from "./thread-stall-probe.js";
import { epochMs, TimedEvents } from "./timed-events.js";

/** A render tick this late (its batch handed to the bridge after the deadline) is recorded. */
const LATE_TICK_US = 5000;
/** Consecutive batches (received, or sent) further apart than this are a gap: one 20 ms tick + 5 ms. */
export const BATCH_GAP_MS = 25;
/** Trims within this of the previous one are one event (the calls trimmed in one tick). */
const TRIM_MERGE_MS = 2;

/**
 * What the media worker thread saw while the evidence was recorded, every time an epoch ms
 * (see epochMs()): [time, value] pairs.
 */
export interface WorkerStallEvidence {
  thread: ThreadStalls;
  /** latency_trim drops: [time of the tick, frames trimmed in it]. */
  trims: [number, number][];
  /** Render ticks later than 5 ms: [time the batch was handed over, ms late]. */
  lateTicks: [number, number][];
  /** Render ticks observed, and the latest one (ms). */
  ticks: number;
  maxTickLatenessMs: number;
  /** media_pacer_skipped_ticks_total increments: [time, ticks skipped]. */
  skippedTicks: [number, number][];
  /** Received batches handled more than 25 ms after the previous one: [time, ms since the previous]. */
  inputGaps: [number, number][];
  /** Render batches handed to the bridge more than 25 ms after the previous one: [time, ms since]. */
  sendGaps: [number, number][];
  /** Events not kept because a record was full (counted). */
  overflowed: number;
}

/**
 * Records, in the media worker, the evidence bench:load correlates with its stalls: when live
 * audio was trimmed, when a render tick ran late or was skipped, when received or sent batches
 * left a gap, beside the thread's GCs and event-loop delay (ThreadStallProbe). Opt-in: start()
 * wraps the metrics those paths already update (the trim counter, the render-lateness
 * histogram, the skipped-tick, received and sent counters) and stop() restores them, so
 * nothing changes on the media path when it is not started; while started, recording an event
 * allocates nothing.
 */
export class WorkerStallRecorder {
  private readonly probe = new ThreadStallProbe();
  private readonly trims = new TimedEvents(8192);
  private readonly lateTicks = new TimedEvents(4096);
  private readonly skipped = new TimedEvents(1024);
  private readonly inputGaps = new TimedEvents(4096);
  private readonly sendGaps = new TimedEvents(4096);
  private ticks = 0;
  private maxLatenessUs = 0;
  private lastInputMs = 0;
  private lastSendMs = 0;
  private restore: (() => void) | undefined;

  constructor(private readonly metrics: MediaMetrics) {}

  get running(): boolean {
    return this.restore !== undefined;
  }

  start(): void {
    if (this.restore) return;
    for (const events of [this.trims, this.lateTicks, this.skipped, this.inputGaps, this.sendGaps])
      events.clear();
    this.ticks = 0;
    this.maxLatenessUs = 0;
    this.lastInputMs = 0;
    this.lastSendMs = 0;
    const m = this.metrics;
    const trim = m.dropped.latency_trim;
    m.dropped.latency_trim = {
      inc: (value = 1) => {
        trim.inc(value);
        this.trims.addMerged(epochMs(), value, TRIM_MERGE_MS);
      },
    };
    const undoLateness = wrapIncrements(m.renderLateness, "observeUnits", (units) => {
      this.ticks++;
      if (units > this.maxLatenessUs) this.maxLatenessUs = units;
      if (units > LATE_TICK_US) this.lateTicks.add(epochMs(), units / 1000);
    });
    const undoSkipped = wrapIncrements(m.pacerSkippedTicks, "inc", (value) =>
      this.skipped.add(epochMs(), value),
    );
    const undoReceived = wrapIncrements(m.framesReceived, "inc", () => {
      const now = epochMs();
      if (this.lastInputMs > 0 && now - this.lastInputMs > BATCH_GAP_MS)
        this.inputGaps.add(now, now - this.lastInputMs);
      this.lastInputMs = now;
    });
    const undoSent = wrapIncrements(m.framesSent, "inc", () => {
      const now = epochMs();
      if (this.lastSendMs > 0 && now - this.lastSendMs > BATCH_GAP_MS)
        this.sendGaps.add(now, now - this.lastSendMs);
      this.lastSendMs = now;
    });
    this.restore = () => {
      m.dropped.latency_trim = trim;
      undoLateness();
      undoSkipped();
      undoReceived();
      undoSent();
    };
    this.probe.start();
  }

  /** Stops recording and returns the evidence (null when it was not started). */
  stop(): WorkerStallEvidence | null {
    const restore = this.restore;
    if (!restore) return null;
    this.restore = undefined;
    restore();
    const thread = this.probe.stop();
    if (!thread) return null;
    const round = (pairs: [number, number][]) => pairs.map(([t, v]) => [t, Math.round(v * 1000) / 1000]);
    return {
      thread,
      trims: this.trims.toPairs(),
      lateTicks: round(this.lateTicks.toPairs()) as [number, number][],
      ticks: this.ticks,
      maxTickLatenessMs: this.maxLatenessUs / 1000,
      skippedTicks: this.skipped.toPairs(),
      inputGaps: round(this.inputGaps.toPairs()) as [number, number][],
      sendGaps: round(this.sendGaps.toPairs()) as [number, number][],
      overflowed:
        this.trims.overflowed +
        this.lateTicks.overflowed +
        this.skipped.overflowed +
        this.inputGaps.overflowed +
        this.sendGaps.overflowed,
    };
  }
}

/**
 * Calls `also` with the first argument after each call of `object[method]`; returns the undo
 * (the object's own method, or its class's, back as it was).
 */
function wrapIncrements<T extends object, K extends keyof T & string>(
  object: T,
  method: K,
  also: (value: number) => void,
): () => void {
  const own = Object.hasOwn(object, method);
  const original = object[method] as (value?: number) => void;
  const wrapped = (value = 1) => {
    original.call(object, value);
    also(value);
  };
  (object as Record<string, unknown>)[method] = wrapped;
  return () => {
    if (own) (object as Record<string, unknown>)[method] = original;
    else delete (object as Record<string, unknown>)[method];
  };
}
