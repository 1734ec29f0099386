import v8 from "node:v8";
import { Counter, Gauge, type Metric, type Registry } from "prom-client";

interface SampleValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/** Sub-millisecond resolution where it matters for a 20 ms clock, up to a second. */
export const MEDIA_LATENCY_BUCKETS_SECONDS = [
  0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.04,
  0.06, 0.08, 0.1, 0.15, 0.2, 0.3, 0.5, 1,
];

/** The latency histograms are observed in whole microseconds (see FrameHistogram). */
export const MICROS_PER_SECOND = 1_000_000;

export const QUEUE_DEPTH_BUCKETS_FRAMES = [0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 25, 50];

/** Reasons a frame is dropped, fixed so each counter child is created once, not per frame. */
export const MEDIA_DROP_REASONS = [
  // received
  "bad_size",
  "bad_context",
  "unknown_session",
  "late",
  "duplicate",
  "bad_unmixed",
  "handler_error",
  "malformed",
  // sent
  "playout_overflow",
  "not_active",
  "backpressure",
  "bridge_down",
  "latency_trim",
] as const;
export type MediaDropReason = (typeof MEDIA_DROP_REASONS)[number];

/** Why queued frames were discarded on purpose (not drops): barge-in clear(), or the call's end. */
export const MEDIA_CLEAR_REASONS = ["barge_in", "call_ended"] as const;
export type MediaClearReason = (typeof MEDIA_CLEAR_REASONS)[number];

/**
 * A Prometheus histogram whose observations allocate nothing, for per-frame measurements
 * (prom-client's Histogram builds a label object and a hash string on every observation).
 * Counts live in a preallocated array; the exposition is built only when scraped.
 *
 * Hot paths observe integers (`observeUnits`, e.g. microseconds for a _seconds histogram):
 * a fractional number passed to a function V8 does not inline is boxed into a heap number on
 * every call, an integer is not. It also keeps `<name>_max`, a gauge of the largest value
 * observed since the previous scrape (reset by each scrape), so an exact worst case stands
 * beside the bucket bounds.
 *
 * Per-frame observations come in runs of one value: every in-order frame of a received batch
 * has the same transit (one arrival time, one clock reading per batch), the sessions of a
 * tick mostly the same queue depth. A run of equal values is only counted (one compare, one
 * increment) and added to the buckets, sum, count and max when the value changes or the
 * histogram is read: the exposition is exactly what observing each value at once gives.
 */
export class FrameHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  private readonly bounds: Float64Array;
  /** Bucket bounds in observation units. */
  private readonly unitBounds: Float64Array;
  private readonly counts: Float64Array;
  /** Sum in observation units (integers: exact). */
  private sumUnits = 0;
  private count = 0;
  /** Largest observation since the last scrape of `<name>_max`, in units. */
  private maxUnits = Number.NEGATIVE_INFINITY;
  /** The run being counted: runCount observations of runUnits, not in the buckets yet. */
  private runUnits = 0;
  private runCount = 0;

  /**
   * `unitsPerValue`: observation units in one unit of the metric (1e6 for a _seconds
   * histogram observed in microseconds; 1 for frames).
   */
  constructor(
    readonly name: string,
    readonly help: string,
    buckets: readonly number[],
    registry: Registry,
    readonly unitsPerValue = 1,
  ) {
    this.bounds = Float64Array.from([...buckets].sort((a, b) => a - b));
    this.unitBounds = this.bounds.map((bound) => bound * unitsPerValue);
    this.counts = new Float64Array(this.bounds.length + 1);
    registry.registerMetric(this as unknown as Metric);
    registry.registerMetric(new HistogramMax(this) as unknown as Metric);
  }

  /** Observes a value in the metric's unit (seconds, frames); rounds to whole units. */
  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    this.observeUnits(Math.round(value * this.unitsPerValue));
  }

  /** Observes a whole number of units (hot paths: pass an integer, e.g. `(ms * 1000) | 0`). */
  observeUnits(units: number): void {
    if (units === this.runUnits) {
      this.runCount++;
      return;
    }
    this.settleRun();
    this.runUnits = units;
    this.runCount = 1;
  }

  /** Adds the run counted so far to the buckets, sum, count and max. */
  private settleRun(): void {
    const n = this.runCount;
    if (n === 0) return;
    this.runCount = 0;
    const units = this.runUnits;
    const bounds = this.unitBounds;
    let i = 0;
    while (i < bounds.length && units > (bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + n;
    // Whole units: the sum stays exact (below 2^53).
    this.sumUnits += units * n;
    this.count += n;
    if (units > this.maxUnits) this.maxUnits = units;
  }

  /** Observations so far (for tests and stats). */
  get observations(): number {
    return this.count + this.runCount;
  }

  reset(): void {
    this.counts.fill(0);
    this.sumUnits = 0;
    this.count = 0;
    this.maxUnits = Number.NEGATIVE_INFINITY;
    this.runCount = 0;
  }

  /** The largest value observed since the previous call (metric unit), null if none; resets. */
  takeMax(): number | null {
    this.settleRun();
    const max = this.maxUnits;
    this.maxUnits = Number.NEGATIVE_INFINITY;
    return max === Number.NEGATIVE_INFINITY ? null : max / this.unitsPerValue;
  }

  async get(): Promise<{
    name: string;
    help: string;
    type: string;
    values: SampleValue[];
    aggregator: string;
  }> {
    this.settleRun();
    const values: SampleValue[] = [];
    let cumulative = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += this.counts[i] as number;
      values.push({
        metricName: `${this.name}_bucket`,
        labels: { le: this.bounds[i] as number },
        value: cumulative,
      });
    }
    values.push({ metricName: `${this.name}_bucket`, labels: { le: "+Inf" }, value: this.count });
    values.push({ metricName: `${this.name}_sum`, labels: {}, value: this.sumUnits / this.unitsPerValue });
    values.push({ metricName: `${this.name}_count`, labels: {}, value: this.count });
    return { name: this.name, help: this.help, type: "histogram", values, aggregator: "sum" };
  }
}

/** `<histogram>_max`: a gauge read (and reset) on each scrape; 0 when nothing was observed. */
class HistogramMax {
  readonly type = "gauge";
  readonly aggregator = "max";
  readonly name: string;
  readonly help: string;

  constructor(private readonly histogram: FrameHistogram) {
    this.name = `${histogram.name}_max`;
    this.help = `Largest ${histogram.name} observation since the previous scrape (reset by each scrape; 0 = none)`;
  }

  async get(): Promise<{
    name: string;
    help: string;
    type: string;
    values: SampleValue[];
    aggregator: string;
  }> {
    const max = this.histogram.takeMax();
    return {
      name: this.name,
      help: this.help,
      type: "gauge",
      values: [{ metricName: this.name, labels: {}, value: max ?? 0 }],
      aggregator: "max",
    };
  }
}

export interface MediaMetrics {
  /** Batch received from the bridge → frame handed to the handlers (includes jitter-buffer hold). */
  frameTransit: FrameHistogram;
  /** A render tick's deadline → the tick actually ran and its batch was handed to the bridge. */
  renderLateness: FrameHistogram;
  /** |interarrival time − expected spacing| of consecutive received frames (RFC 3550's D). */
  interarrivalJitter: FrameHistogram;
  framesReceived: Counter;
  framesSent: Counter;
  /** Frames lost on the way in and replaced by silence. */
  framesConcealed: Counter;
  framesDropped: Counter<"reason">;
  /** Per session per tick, frames waiting to be sent. */
  playoutQueueDepth: FrameHistogram;
  activeSessions: Gauge;
  /** Render ticks skipped after a clock stall. */
  pacerSkippedTicks: Counter;
  /** Recordings being written now. */
  activeRecordings: Gauge;
  /** 1 while the bridge connection is open. */
  bridgeConnected: Gauge;
  /** Calls whose media was lost, by reason (host_lost, host_closed, host_new_session). */
  sessionsLost: Counter<"reason">;
  /** CreateSessions sent again, same media session id, after the connection dropped before the answer. */
  sessionCreateRetries: Counter;
  /**
   * Queued frames discarded on purpose, by reason: a handler's clear() (barge_in) or the end
   * of the call (call_ended). Apart from media_frames_dropped_total, which is for frames lost
   * against someone's will. Preresolved children, for the per-call paths.
   */
  cleared: Record<MediaClearReason, { inc(value?: number): void }>;
  /** Preresolved children of framesDropped, for the per-frame paths. */
  dropped: Record<MediaDropReason, { inc(value?: number): void }>;
  /** CPU time of the media worker thread itself (sampled each second; see WorkerLoadSampler). */
  workerCpuSeconds: Counter;
  /** Share of the last second the worker's event loop was busy (0..1). */
  workerEventLoopUtilization: Gauge;
  /** Call handler callbacks that threw or whose promise rejected, by callback. */
  handlerErrors: Counter<"callback">;
  /** DTMF tones not in the handlers' vocabulary (DtmfTone), ignored, by origin. */
  tonesIgnored: Counter<"origin">;
  /** Promises rejected with no handler in the media worker (the worker goes on). */
  unhandledRejections: Counter;
  /** Exceptions nothing caught in the media worker, e.g. from a handler's timer (the worker goes on). */
  uncaughtExceptions: Counter;
  /**
   * The V8 heap of the thread this registry lives in (the media worker thread in the bot):
   * read at each scrape, so /metrics shows the worker's own heap beside the main thread's.
   */
  workerHeapUsed: Gauge;
  workerHeapTotal: Gauge;
}

export function createMediaMetrics(registry: Registry): MediaMetrics {
  const registers = [registry];
  const framesDropped = new Counter({
    name: "media_frames_dropped_total",
    help: "Audio frames dropped, by reason (received: bad_size, bad_context, unknown_session, late, duplicate, bad_unmixed, handler_error, malformed; sent: playout_overflow, not_active, backpressure, bridge_down, latency_trim); barge-in clears are in media_frames_cleared_total",
    labelNames: ["reason"],
    registers,
  });
  const dropped = {} as Record<MediaDropReason, { inc(value?: number): void }>;
  for (const reason of MEDIA_DROP_REASONS) {
    const child = framesDropped.labels(reason);
    // Present from the start (0), so dashboards see every reason before the first drop.
    child.inc(0);
    dropped[reason] = child;
  }
  const framesCleared = new Counter({
    name: "media_frames_cleared_total",
    help: "Queued audio frames discarded on purpose, not drops, by reason (barge_in: a handler's clear(); call_ended: still queued when the call ended)",
    labelNames: ["reason"],
    registers,
  });
  const cleared = {} as Record<MediaClearReason, { inc(value?: number): void }>;
  for (const reason of MEDIA_CLEAR_REASONS) {
    const child = framesCleared.labels(reason);
    child.inc(0);
    cleared[reason] = child;
  }
  return {
    frameTransit: new FrameHistogram(
      "media_frame_transit_seconds",
      "Time from a received batch reaching the media worker to its frame reaching the handlers",
      MEDIA_LATENCY_BUCKETS_SECONDS,
      registry,
      MICROS_PER_SECOND,
    ),
    renderLateness: new FrameHistogram(
      "media_render_lateness_seconds",
      "Time from a 20 ms render deadline to the tick's batch being handed to the bridge",
      MEDIA_LATENCY_BUCKETS_SECONDS,
      registry,
      MICROS_PER_SECOND,
    ),
    interarrivalJitter: new FrameHistogram(
      "media_interarrival_jitter_seconds",
      "Deviation of each received frame's interarrival time from the expected 20 ms spacing",
      MEDIA_LATENCY_BUCKETS_SECONDS,
      registry,
      MICROS_PER_SECOND,
    ),
    framesReceived: new Counter({
      name: "media_frames_received_total",
      help: "Audio frames received from the media host (before validation)",
      registers,
    }),
    framesSent: new Counter({
      name: "media_frames_sent_total",
      help: "Audio frames handed to the bridge for rendering into calls",
      registers,
    }),
    framesConcealed: new Counter({
      name: "media_frames_concealed_total",
      help: "Received frames lost on the way and replaced by silence",
      registers,
    }),
    framesDropped,
    playoutQueueDepth: new FrameHistogram(
      "media_playout_queue_depth_frames",
      "Frames waiting in a session's playout queue, sampled per session every tick",
      QUEUE_DEPTH_BUCKETS_FRAMES,
      registry,
    ),
    activeSessions: new Gauge({
      name: "media_active_sessions",
      help: "Media sessions open in the media worker",
      registers,
    }),
    pacerSkippedTicks: new Counter({
      name: "media_pacer_skipped_ticks_total",
      help: "20 ms render ticks skipped after the media clock stalled",
      registers,
    }),
    activeRecordings: new Gauge({
      name: "media_active_recordings",
      help: "Calls being recorded now, counted until their files are finalized",
      registers,
    }),
    bridgeConnected: new Gauge({
      name: "media_bridge_connected",
      help: "1 while the connection to the media host is open",
      registers,
    }),
    sessionsLost: new Counter({
      name: "media_sessions_lost_total",
      help: "Media sessions lost, by reason: host_lost (media host gone past the grace period or refused the resume), host_closed (closed by the host), host_new_session (the host answered the resume with a new session)",
      labelNames: ["reason"],
      registers,
    }),
    sessionCreateRetries: new Counter({
      name: "media_session_create_retries_total",
      help: "CreateSession requests sent again with the same media session id after the bridge connection dropped before their answer",
      registers,
    }),
    dropped,
    cleared,
    workerCpuSeconds: new Counter({
      name: "media_worker_cpu_seconds_total",
      help: "CPU time used by the media worker thread alone (Linux: /proc thread stats, sampled each second; stays 0 where unavailable)",
      registers,
    }),
    workerEventLoopUtilization: new Gauge({
      name: "media_worker_event_loop_utilization",
      help: "Share of the last second the media worker's event loop spent running callbacks (0..1)",
      registers,
    }),
    handlerErrors: new Counter({
      name: "media_handler_errors_total",
      help: "Call handler callbacks that threw, returned a rejected promise or passed bad input (odd-length PCM), by callback",
      labelNames: ["callback"],
      registers,
    }),
    tonesIgnored: new Counter({
      name: "media_tones_ignored_total",
      help: "DTMF tones not in the handlers' vocabulary (not a Graph or media platform tone), ignored, by origin",
      labelNames: ["origin"],
      registers,
    }),
    unhandledRejections: new Counter({
      name: "media_worker_unhandled_rejections_total",
      help: "Promises rejected with no handler in the media worker (logged, rate-limited; the worker goes on)",
      registers,
    }),
    uncaughtExceptions: new Counter({
      name: "media_worker_uncaught_exceptions_total",
      help: "Exceptions nothing caught in the media worker, e.g. thrown from a call handler's timer (logged, rate-limited; the worker goes on)",
      registers,
    }),
    // Read when scraped, on the thread that scrapes this registry: the media worker answers
    // the "metrics" request itself, so v8 reports the worker isolate's heap, not the main
    // thread's (which nodejs_heap_size_* of the default metrics show). Nothing per frame.
    workerHeapUsed: new Gauge({
      name: "media_worker_heap_used_bytes",
      help: "V8 heap in use by the media worker thread (its own isolate; v8.getHeapStatistics().used_heap_size at scrape)",
      registers,
      collect() {
        this.set(v8.getHeapStatistics().used_heap_size);
      },
    }),
    workerHeapTotal: new Gauge({
      name: "media_worker_heap_total_bytes",
      help: "V8 heap allocated for the media worker thread (its own isolate; v8.getHeapStatistics().total_heap_size at scrape)",
      registers,
      collect() {
        this.set(v8.getHeapStatistics().total_heap_size);
      },
    }),
  };
}
