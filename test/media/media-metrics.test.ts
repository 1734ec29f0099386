import { describe, expect, it } from "vitest";
import { createMediaMetrics } from "../../src/metrics/media-metrics.js";
import { createRegistry } from "../../src/metrics/registry.js";
import { youngBytesAllocated } from "./gc-counter.js";

describe("media metrics", () => {
  it("exposes the frame histograms in Prometheus text with cumulative buckets", async () => {
    const registry = createRegistry();
    const metrics = createMediaMetrics(registry);
    metrics.renderLateness.observe(0.0004);
    metrics.renderLateness.observe(0.003);
    metrics.renderLateness.observe(5);
    metrics.dropped.bad_size.inc();
    const text = await registry.metrics();
    expect(text).toContain("# TYPE media_render_lateness_seconds histogram");
    expect(text).toContain('media_render_lateness_seconds_bucket{le="0.0005"} 1');
    expect(text).toContain('media_render_lateness_seconds_bucket{le="0.003"} 2');
    expect(text).toContain('media_render_lateness_seconds_bucket{le="1"} 2');
    expect(text).toContain('media_render_lateness_seconds_bucket{le="+Inf"} 3');
    expect(text).toContain("media_render_lateness_seconds_count 3");
    expect(text).toContain('media_frames_dropped_total{reason="bad_size"} 1');
    expect(text).toContain('media_frames_dropped_total{reason="late"} 0');
    for (const name of [
      "media_frame_transit_seconds",
      "media_interarrival_jitter_seconds",
      "media_frames_received_total",
      "media_frames_sent_total",
      "media_playout_queue_depth_frames",
      "media_active_sessions",
    ]) {
      expect(text).toContain(`# TYPE ${name}`);
    }
  });

  it("observes without allocating", async () => {
    const metrics = createMediaMetrics(createRegistry());
    const values = Float64Array.from({ length: 100 }, (_, i) => i / 1000);
    const work = (count: number) => (_attempt?: number) => {
      for (let i = 0; i < count; i++) metrics.frameTransit.observe(values[i % 100] as number);
    };
    work(50_000)();
    expect(await youngBytesAllocated(work(20_000))).toBeLessThan(100_000);
    expect(metrics.frameTransit.observations).toBeGreaterThanOrEqual(70_000);
  });

  it("keeps the exact largest observation beside each histogram, reset by each scrape", async () => {
    const registry = createRegistry();
    const metrics = createMediaMetrics(registry);
    metrics.frameTransit.observeUnits(1234); // µs
    metrics.frameTransit.observe(0.0042);
    metrics.frameTransit.observeUnits(17);
    metrics.playoutQueueDepth.observe(7);
    const text = await registry.metrics();
    expect(text).toContain("# TYPE media_frame_transit_seconds_max gauge");
    expect(text).toContain("media_frame_transit_seconds_max 0.0042");
    expect(text).toContain("media_playout_queue_depth_frames_max 7");
    expect(text).toContain("media_render_lateness_seconds_max 0");
    // Sum and buckets in seconds although observed in microseconds.
    expect(text).toContain("media_frame_transit_seconds_sum 0.005451");
    expect(text).toContain('media_frame_transit_seconds_bucket{le="0.0001"} 1');
    expect(text).toContain('media_frame_transit_seconds_bucket{le="0.002"} 2');
    // The next scrape reports what happened since this one.
    metrics.frameTransit.observeUnits(300);
    const next = await registry.metrics();
    expect(next).toContain("media_frame_transit_seconds_max 0.0003");
    expect(next).toContain("media_playout_queue_depth_frames_max 0");
    expect(next).toContain("media_frame_transit_seconds_count 4");
  });

  it("defines the worker load metrics and the latency_trim drop reason", async () => {
    const registry = createRegistry();
    createMediaMetrics(registry);
    const text = await registry.metrics();
    expect(text).toContain("# TYPE media_worker_cpu_seconds_total counter");
    expect(text).toContain("# TYPE media_worker_event_loop_utilization gauge");
    expect(text).toContain('media_frames_dropped_total{reason="latency_trim"} 0');
  });
});
