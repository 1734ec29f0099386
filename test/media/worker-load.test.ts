import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../src/log/logger.js";
import { parseStatCpuSeconds, threadCpuReader, WorkerLoadSampler } from "../../src/media/worker-load.js";
import { createMediaMetrics } from "../../src/metrics/media-metrics.js";
import { createRegistry } from "../../src/metrics/registry.js";

function busy(ms: number): void {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  if (x < 0) throw new Error("unreachable");
}

async function metricValue(registry: ReturnType<typeof createRegistry>, name: string): Promise<number> {
  const line = (await registry.metrics()).split("\n").find((l) => l.startsWith(`${name} `));
  return Number(line?.split(" ").at(-1));
}

describe("worker load sampler", () => {
  it("parses utime + stime of a thread's stat line, whatever its name holds", () => {
    const fields = ["S", ...Array.from({ length: 10 }, (_, i) => String(i)), "250", "50", "0", "0"];
    expect(parseStatCpuSeconds(`1234 (node (worker) 1) ${fields.join(" ")}`)).toBe(3);
    expect(parseStatCpuSeconds("garbage")).toBeNull();
    expect(parseStatCpuSeconds("1 (x) S 1 2")).toBeNull();
  });

  it("reports the event loop utilization of the last interval", async () => {
    const registry = createRegistry();
    const metrics = createMediaMetrics(registry);
    const sampler = new WorkerLoadSampler({
      cpuSeconds: metrics.workerCpuSeconds,
      eventLoopUtilization: metrics.workerEventLoopUtilization,
      log: silentLogger(),
      readCpu: null,
    });
    // A callback that keeps the loop busy, then a sample from the next one.
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        busy(60);
        setTimeout(resolve, 5);
      }, 1),
    );
    await sampler.sample();
    expect(await metricValue(registry, "media_worker_event_loop_utilization")).toBeGreaterThan(0.3);
    await new Promise((resolve) => setTimeout(resolve, 80));
    await sampler.sample();
    expect(await metricValue(registry, "media_worker_event_loop_utilization")).toBeLessThan(0.5);
  });

  it("counts this thread's CPU seconds where /proc tells them", async () => {
    const reader = threadCpuReader();
    if (!existsSync("/proc/thread-self")) {
      expect(reader).toBeNull();
      return;
    }
    expect(reader).not.toBeNull();
    const registry = createRegistry();
    const metrics = createMediaMetrics(registry);
    const sampler = new WorkerLoadSampler({
      cpuSeconds: metrics.workerCpuSeconds,
      eventLoopUtilization: metrics.workerEventLoopUtilization,
      log: silentLogger(),
      readCpu: reader,
    });
    await sampler.sample(); // first reading: the base
    busy(150);
    await sampler.sample();
    const cpu = await metricValue(registry, "media_worker_cpu_seconds_total");
    // 150 ms of spinning on a shared machine: at least some of it on a core, never more.
    expect(cpu).toBeGreaterThan(0.01);
    expect(cpu).toBeLessThan(1);
  });

  it("falls back to nothing where there is no /proc", () => {
    expect(threadCpuReader("/nonexistent-proc")).toBeNull();
  });
});
