import {
  type IntervalHistogram,
  monitorEventLoopDelay,
  type PerformanceEntry,
  PerformanceObserver,
} from "node:perf_hooks";
import v8 from "node:v8";
import { ThreadSchedstat } from "./thread-schedstat.js";
import { epochMs, TimedEvents } from "./timed-events.js";

/** One garbage collection of the thread's isolate, as perf_hooks reported it. */
export interface GcEvent {
  kind: "minor" | "major" | "incremental" | "weakcb" | "other";
  /** Epoch ms (see epochMs()) when it started, and how long it held the thread (ms). */
  atMs: number;
  durationMs: number;
}

/** What one thread's event loop and collector did while the probe ran. */
export interface ThreadStalls {
  /** Epoch ms of start and stop. */
  fromMs: number;
  toMs: number;
  gc: GcEvent[];
  /** GCs not kept (more than the probe holds) but counted. */
  gcOverflowed: number;
  /** monitorEventLoopDelay over the window (its resolution added to every sample is removed). */
  loopDelay: { samples: number; p50Ms: number; p99Ms: number; maxMs: number };
  /**
   * Timer wake-ups later than `stallThresholdMs`: the loop was busy or blocked, or the thread
   * not scheduled, for `lateMs` just before `atMs` (epoch ms). Where Linux gives the thread's
   * schedstat, `waitingMs` is how long of `periodMs` (since the previous wake-up) the thread was
   * runnable but waiting for a CPU (scheduling) and `onCpuMs` how long it ran (its own work or
   * a GC); the rest it was blocked (see stallClass); null elsewhere.
   */
  loopStalls: LoopStall[];
  loopStallsOverflowed: number;
  stallThresholdMs: number;
  /** Over the whole window, from the thread's schedstat (null where not available): ms on a CPU and ms runnable but waiting for one. */
  onCpuMs: number | null;
  waitingMs: number | null;
  /** The isolate's heap at stop (bytes). */
  heapUsedBytes: number;
  heapTotalBytes: number;
}

/** perf_hooks' gc kind constants (NODE_PERFORMANCE_GC_*): 1 minor, 4 major, 8 incremental, 16 weakcb. */
export interface LoopStall {
  atMs: number;
  lateMs: number;
  /** Since the previous wake-up (ms): the span waitingMs and onCpuMs are measured over. */
  periodMs: number;
  waitingMs: number | null;
  onCpuMs: number | null;
}

/**
 * What a loop stall mostly was (the largest share of its period, if at least half of how late
 * it was): the thread runnable but
 * waiting for a CPU (scheduling), off a CPU and not runnable (blocked: waiting on another thread,
 * e.g. a collection's parallel helpers, or on the kernel), or running (its own work or a GC on
 * it); null without schedstat or when nothing was most of it.
 */
export function stallClass(stall: LoopStall): "waitingForCpu" | "blocked" | "running" | null {
  if (stall.waitingMs === null || stall.onCpuMs === null) return null;
  const blockedMs = stall.periodMs - stall.onCpuMs - stall.waitingMs;
  const most = Math.max(stall.waitingMs, blockedMs, stall.onCpuMs);
  if (most < stall.lateMs / 2) return null;
  return most === stall.waitingMs ? "waitingForCpu" : most === blockedMs ? "blocked" : "running";
}

const NODE_GC_KINDS: Record<number, GcEvent["kind"]> = {
  1: "minor",
  4: "major",
  8: "incremental",
  16: "weakcb",
};

/** The stall timer's period: a late wake-up beyond the threshold is a timed loop stall. */
const STALL_TIMER_MS = 10;

/**
 * Collects, on the thread it is started in, the evidence that tells stalls apart: the
 * isolate's GCs with their times and durations (PerformanceObserver 'gc' observes only this
 * thread's isolate), the event loop's delay (monitorEventLoopDelay) and the times of late
 * timer wake-ups (a 10 ms timer; the histogram alone has no times to correlate). Opt-in
 * diagnostics for benchmarks: started and stopped around a measuring window, nothing runs
 * when it is not started.
 */
export class ThreadStallProbe {
  private observer: PerformanceObserver | undefined;
  private histogram: IntervalHistogram | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly gcTimes = new TimedEvents(4096);
  private readonly gcDurations = new Float64Array(4096);
  private readonly gcKinds = new Uint8Array(4096);
  private readonly stalls = new TimedEvents(4096);
  private readonly stallWaits = new Float64Array(4096);
  private readonly stallCpu = new Float64Array(4096);
  private readonly stallPeriods = new Float64Array(4096);
  private readonly schedstat = new ThreadSchedstat();
  private firstSched: { onCpuNs: number; waitingNs: number } | null = null;
  private fromMs = 0;

  constructor(private readonly stallThresholdMs = 5) {}

  start(): void {
    if (this.observer) return;
    this.gcTimes.clear();
    this.stalls.clear();
    this.fromMs = epochMs();
    const origin = performance.timeOrigin;
    this.observer = new PerformanceObserver((list) => this.recordGcs(list.getEntries()));
    this.observer.observe({ entryTypes: ["gc"] });
    this.histogram = monitorEventLoopDelay({ resolution: STALL_TIMER_MS });
    this.histogram.enable();
    let previous = performance.now();
    let expected = previous + STALL_TIMER_MS;
    this.firstSched = this.schedstat.read();
    let onCpuNs = this.firstSched?.onCpuNs ?? 0;
    let waitingNs = this.firstSched?.waitingNs ?? 0;
    this.timer = setInterval(() => {
      const now = performance.now();
      const lateMs = now - expected;
      const sched = this.schedstat.read();
      if (lateMs > this.stallThresholdMs) {
        const index = this.stalls.count;
        this.stalls.add(origin + now, lateMs);
        if (this.stalls.count > index) {
          this.stallWaits[index] = sched ? (sched.waitingNs - waitingNs) / 1e6 : -1;
          this.stallCpu[index] = sched ? (sched.onCpuNs - onCpuNs) / 1e6 : -1;
          this.stallPeriods[index] = now - previous;
        }
      }
      if (sched) {
        onCpuNs = sched.onCpuNs;
        waitingNs = sched.waitingNs;
      }
      // Late wake-ups do not accumulate: the next one is due a period after this one.
      expected = now + STALL_TIMER_MS;
      previous = now;
    }, STALL_TIMER_MS);
  }

  private recordGcs(entries: readonly PerformanceEntry[]): void {
    for (const entry of entries) {
      const index = this.gcTimes.count;
      this.gcTimes.add(performance.timeOrigin + entry.startTime, 0);
      if (this.gcTimes.count === index) continue; // full: counted as overflowed
      this.gcDurations[index] = entry.duration;
      this.gcKinds[index] = (entry as { detail?: { kind?: number } }).detail?.kind ?? 0;
    }
  }

  /** Stops collecting and returns what was collected (null when not started). */
  stop(): ThreadStalls | null {
    const observer = this.observer;
    const histogram = this.histogram;
    if (!observer || !histogram) return null;
    // GCs still queued for the observer's callback are delivered by takeRecords().
    this.recordGcs(observer.takeRecords());
    observer.disconnect();
    histogram.disable();
    clearInterval(this.timer);
    this.observer = undefined;
    this.histogram = undefined;
    this.timer = undefined;
    const toMs = epochMs();
    const first = this.firstSched;
    const last = first ? this.schedstat.read() : null;
    this.schedstat.close();
    const gc = this.gcTimes.toPairs().map(([atMs], i) => ({
      kind: NODE_GC_KINDS[this.gcKinds[i] as number] ?? "other",
      atMs,
      durationMs: round3(this.gcDurations[i] as number),
    }));
    // Each sample of the histogram includes the timer's own period (ns); remove it.
    const delayMs = (ns: number) => round3(Math.max(0, ns / 1e6 - STALL_TIMER_MS));
    const heap = v8.getHeapStatistics();
    return {
      fromMs: round2(this.fromMs),
      toMs: round2(toMs),
      gc,
      gcOverflowed: this.gcTimes.overflowed,
      loopDelay: {
        samples: histogram.count,
        p50Ms: histogram.count > 0 ? delayMs(histogram.percentile(50)) : 0,
        p99Ms: histogram.count > 0 ? delayMs(histogram.percentile(99)) : 0,
        maxMs: histogram.count > 0 ? delayMs(histogram.max) : 0,
      },
      loopStalls: this.stalls.toPairs().map(([atMs, late], i) => ({
        atMs,
        lateMs: round3(late),
        periodMs: round3(this.stallPeriods[i] as number),
        waitingMs: (this.stallWaits[i] as number) < 0 ? null : round3(this.stallWaits[i] as number),
        onCpuMs: (this.stallCpu[i] as number) < 0 ? null : round3(this.stallCpu[i] as number),
      })),
      loopStallsOverflowed: this.stalls.overflowed,
      stallThresholdMs: this.stallThresholdMs,
      onCpuMs: first && last ? round3((last.onCpuNs - first.onCpuNs) / 1e6) : null,
      waitingMs: first && last ? round3((last.waitingNs - first.waitingNs) / 1e6) : null,
      heapUsedBytes: heap.used_heap_size,
      heapTotalBytes: heap.total_heap_size,
    };
  }
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
