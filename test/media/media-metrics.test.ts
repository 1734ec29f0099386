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

  it("counts runs of one value exactly as observing each value: buckets, sum, count and max at every scrape", async () => {
    const registry = createRegistry();
    const metrics = createMediaMetrics(registry);
    const histogram = metrics.frameTransit;
    const seen: number[] = [];
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const scrape = async () => {
      const text = await registry.metrics();
      const line = (name: string) =>
        Number(
          text
            .split("\n")
            .find((l) => l.startsWith(`${name} `))
            ?.split(" ")
            .at(-1),
        );
      return {
        text,
        count: line("media_frame_transit_seconds_count"),
        sum: line("media_frame_transit_seconds_sum"),
        max: line("media_frame_transit_seconds_max"),
      };
    };
    let sinceScrape: number[] = [];
    for (let round = 0; round < 40; round++) {
      // Runs of 1 to 30 equal values (a batch's frames), some values repeated after a change.
      const value = [0, 17, 100, 101, 250, 1234, 20_000, 2_000_000][Math.floor(random() * 8)] as number;
      const run = 1 + Math.floor(random() * 30);
      for (let i = 0; i < run; i++) histogram.observeUnits(value);
      for (let i = 0; i < run; i++) seen.push(value);
      for (let i = 0; i < run; i++) sinceScrape.push(value);
      expect(histogram.observations).toBe(seen.length);
      if (round % 7 === 6) {
        const { text, count, sum, max } = await scrape();
        expect(count).toBe(seen.length);
        expect(sum).toBeCloseTo(seen.reduce((a, b) => a + b, 0) / 1e6, 9);
        expect(max).toBe(Math.max(...sinceScrape) / 1e6);
        for (const le of [0.0001, 0.00025, 0.0015, 0.02, 1]) {
          const expected = seen.filter((v) => v <= le * 1e6).length;
          expect(text).toContain(`media_frame_transit_seconds_bucket{le="${le}"} ${expected}\n`);
        }
        expect(text).toContain(`media_frame_transit_seconds_bucket{le="+Inf"} ${seen.length}\n`);
        sinceScrape = [];
      }
    }
    // A run still being counted is in the next scrape, its max included.
    histogram.observeUnits(5);
    histogram.observeUnits(5);
    const last = await scrape();
    expect(last.count).toBe(seen.length + 2);
    expect(last.max).toBe(Math.max(5, ...sinceScrape) / 1e6);
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
