import { Counter, Gauge, type Metric, type Registry } from "prom-client";

interface SampleValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/** Sub-millisecond resolution where it matters for a 20 ms clock, up to a second. */
export const MEDIA_LATENCY_BUCKETS_SECONDS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.04, 0.06, 0.08, 0.1,
  0.15, 0.2, 0.3, 0.5, 1,
];

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
  "cleared",
  "bridge_down",
] as const;
export type MediaDropReason = (typeof MEDIA_DROP_REASONS)[number];

/**
 * A Prometheus histogram whose observe() allocates nothing, for per-frame measurements
 * (prom-client's Histogram builds a label object and a hash string on every observation).
 * Counts live in a preallocated array; the exposition is built only when scraped.
 */
export class FrameHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  private readonly bounds: Float64Array;
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    buckets: readonly number[],
    registry: Registry,
  ) {
    this.bounds = Float64Array.from([...buckets].sort((a, b) => a - b));
    this.counts = new Float64Array(this.bounds.length + 1);
    registry.registerMetric(this as unknown as Metric);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count++;
  }

  /** Observations so far (for tests and stats). */
  get observations(): number {
    return this.count;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }

  async get(): Promise<{
    name: string;
    help: string;
    type: string;
    values: SampleValue[];
    aggregator: string;
  }> {
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
    values.push({ metricName: `${this.name}_sum`, labels: {}, value: this.sum });
    values.push({ metricName: `${this.name}_count`, labels: {}, value: this.count });
    return { name: this.name, help: this.help, type: "histogram", values, aggregator: "sum" };
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
  /** Calls whose media was lost, by reason. */
  sessionsLost: Counter<"reason">;
  /** Preresolved children of framesDropped, for the per-frame paths. */
  dropped: Record<MediaDropReason, { inc(value?: number): void }>;
}

export function createMediaMetrics(registry: Registry): MediaMetrics {
  const registers = [registry];
  const framesDropped = new Counter({
    name: "media_frames_dropped_total",
    help: "Audio frames dropped, by reason (received: bad_size, bad_context, unknown_session, late, duplicate, bad_unmixed, handler_error, malformed; sent: playout_overflow, not_active, backpressure, cleared, bridge_down)",
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
  return {
    frameTransit: new FrameHistogram(
      "media_frame_transit_seconds",
      "Time from a received batch reaching the media worker to its frame reaching the handlers",
      MEDIA_LATENCY_BUCKETS_SECONDS,
      registry,
    ),
    renderLateness: new FrameHistogram(
      "media_render_lateness_seconds",
      "Time from a 20 ms render deadline to the tick's batch being handed to the bridge",
      MEDIA_LATENCY_BUCKETS_SECONDS,
      registry,
    ),
    interarrivalJitter: new FrameHistogram(
      "media_interarrival_jitter_seconds",
      "Deviation of each received frame's interarrival time from the expected 20 ms spacing",
      MEDIA_LATENCY_BUCKETS_SECONDS,
      registry,
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
      help: "Calls being recorded now",
      registers,
    }),
    bridgeConnected: new Gauge({
      name: "media_bridge_connected",
      help: "1 while the connection to the media host is open",
      registers,
    }),
    sessionsLost: new Counter({
      name: "media_sessions_lost_total",
      help: "Media sessions lost (media host gone past the grace period, closed by the host), by reason",
      labelNames: ["reason"],
      registers,
    }),
    dropped,
  };
}
