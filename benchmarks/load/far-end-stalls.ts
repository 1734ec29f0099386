/**
 * The far end's side of bench:load's stall evidence (--stall-evidence): its clock's late and
 * skipped ticks, gaps between the worker's render batches as they arrive (with the gap between
 * the same batches' sent_at_us, which tells a late sender from a late reader), and its own GCs
 * and event-loop delay. Runs in the far-end process, told by the emulator's timing observer.
 */
import type { EmulatorTimingObserver } from "../../src/emulator/media/timing-observer.js";
import { ThreadStallProbe, type ThreadStalls } from "../../src/media/thread-stall-probe.js";
import { TimedEvents } from "../../src/media/timed-events.js";
import { BATCH_GAP_MS } from "../../src/media/worker-stall-evidence.js";

/** A far-end tick that started this late is recorded (ms). */
const LATE_TICK_MS = 5;
/** A far-end tick whose work took this long (half its period) is recorded (ms). */
const SLOW_TICK_MS = 10;

export interface FarEndStallEvidence {
  thread: ThreadStalls;
  ticks: number;
  maxTickLatenessMs: number;
  maxTickWorkMs: number;
  /** Ticks that started more than 5 ms late: [epoch ms, ms late]. */
  lateTicks: [number, number][];
  /** Ticks whose work (writing and sending every session's frame) took more than 10 ms: [epoch ms, ms]. */
  slowTicks: [number, number][];
  /** Clock ticks skipped: [epoch ms, ticks]. */
  skippedTicks: [number, number][];
  renderBatches: number;
  /**
   * Render batches read more than 25 ms after the previous one: [epoch ms read, ms since the
   * previous], and for the same batches the gap between their sent_at_us (ms; -1: not given).
   */
  renderBatchGaps: [number, number][];
  renderBatchSendGaps: number[];
  sourceBatches: number;
  /** Source batches sent more than 25 ms after the previous one: [epoch ms sent, ms since the previous]. */
  sourceBatchGaps: [number, number][];
  /** Source batches sent while the socket still held unsent bytes (the worker not reading as fast): [epoch ms, bytes]. */
  sourceBatchesBehind: [number, number][];
  /** Render batches whose sent_at_us is more than 10 ms before they were read (transit incl. queueing). */
  slowTransitBatches: number;
  maxRenderBatchTransitMs: number;
  overflowed: number;
}

export class FarEndStallRecorder implements Omit<EmulatorTimingObserver, "renderFramePlayed"> {
  private readonly probe = new ThreadStallProbe();
  private readonly lateTicks = new TimedEvents(4096);
  private readonly slowTicks = new TimedEvents(4096);
  private readonly skipped = new TimedEvents(1024);
  private readonly gaps = new TimedEvents(4096);
  private readonly sendGaps = new Float64Array(4096);
  private readonly sourceGaps = new TimedEvents(4096);
  private readonly sourceBehind = new TimedEvents(4096);
  private sources = 0;
  private lastSourceMs = 0;
  private ticks = 0;
  private maxLatenessMs = 0;
  private maxWorkMs = 0;
  private lastSkipped = -1;
  private batches = 0;
  private lastBatchMs = 0;
  private lastSentAtUs = 0;
  private slowTransit = 0;
  private maxTransitMs = 0;
  private readonly origin = performance.timeOrigin;

  start(): void {
    this.probe.start();
  }

  stop(): FarEndStallEvidence | null {
    const thread = this.probe.stop();
    if (!thread) return null;
    const r3 = (pairs: [number, number][]) =>
      pairs.map(([t, v]) => [t, Math.round(v * 1000) / 1000] as [number, number]);
    return {
      thread,
      ticks: this.ticks,
      maxTickLatenessMs: round3(this.maxLatenessMs),
      maxTickWorkMs: round3(this.maxWorkMs),
      lateTicks: r3(this.lateTicks.toPairs()),
      slowTicks: r3(this.slowTicks.toPairs()),
      skippedTicks: this.skipped.toPairs(),
      renderBatches: this.batches,
      renderBatchGaps: r3(this.gaps.toPairs()),
      renderBatchSendGaps: Array.from(this.sendGaps.subarray(0, this.gaps.count), round3),
      sourceBatches: this.sources,
      sourceBatchGaps: r3(this.sourceGaps.toPairs()),
      sourceBatchesBehind: this.sourceBehind.toPairs(),
      slowTransitBatches: this.slowTransit,
      maxRenderBatchTransitMs: round3(this.maxTransitMs),
      overflowed:
        this.lateTicks.overflowed +
        this.slowTicks.overflowed +
        this.skipped.overflowed +
        this.gaps.overflowed +
        this.sourceGaps.overflowed +
        this.sourceBehind.overflowed,
    };
  }

  tick(startMs: number, latenessMs: number, workMs: number, skippedTicks: number): void {
    this.ticks++;
    const at = this.origin + startMs;
    if (latenessMs > this.maxLatenessMs) this.maxLatenessMs = latenessMs;
    if (workMs > this.maxWorkMs) this.maxWorkMs = workMs;
    if (latenessMs > LATE_TICK_MS) this.lateTicks.add(at, latenessMs);
    if (workMs > SLOW_TICK_MS) this.slowTicks.add(at, workMs);
    if (this.lastSkipped >= 0 && skippedTicks > this.lastSkipped)
      this.skipped.add(at, skippedTicks - this.lastSkipped);
    this.lastSkipped = skippedTicks;
  }

  sourceBatch(sentMs: number, bufferedBytes: number): void {
    this.sources++;
    const at = this.origin + sentMs;
    if (this.lastSourceMs > 0 && at - this.lastSourceMs > BATCH_GAP_MS)
      this.sourceGaps.add(at, at - this.lastSourceMs);
    this.lastSourceMs = at;
    if (bufferedBytes > 0) this.sourceBehind.add(at, bufferedBytes);
  }

  renderBatch(receivedMs: number, sentAtUs: number, _frames: number): void {
    this.batches++;
    const at = this.origin + receivedMs;
    if (sentAtUs > 0) {
      const transitMs = at - sentAtUs / 1000;
      if (transitMs > this.maxTransitMs) this.maxTransitMs = transitMs;
      if (transitMs > 10) this.slowTransit++;
    }
    if (this.lastBatchMs > 0 && at - this.lastBatchMs > BATCH_GAP_MS) {
      const index = this.gaps.count;
      this.gaps.add(at, at - this.lastBatchMs);
      if (this.gaps.count > index)
        this.sendGaps[index] =
          sentAtUs > 0 && this.lastSentAtUs > 0 ? (sentAtUs - this.lastSentAtUs) / 1000 : -1;
    }
    this.lastBatchMs = at;
    this.lastSentAtUs = sentAtUs;
  }
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
