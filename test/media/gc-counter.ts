import { PerformanceObserver } from "node:perf_hooks";

/**
 * Runs `work` and counts the garbage collections it caused. A hot path that allocates per
 * frame triggers young-generation collections every few thousand frames; one that does not
 * runs 100k+ frames without any.
 */
export async function countGcs(work: () => void): Promise<number> {
  let count = 0;
  const observer = new PerformanceObserver((list) => {
    count += list.getEntries().length;
  });
  observer.observe({ entryTypes: ["gc"] });
  // Let collections of earlier work be reported before counting starts.
  await new Promise((resolve) => setTimeout(resolve, 20));
  count = 0;
  work();
  await new Promise((resolve) => setTimeout(resolve, 20));
  observer.disconnect();
  return count;
}

/**
 * Bytes `work` allocated in the young generation (V8's new space), measured while no
 * collection ran. Catches even small per-frame objects that a GC count would miss (a 32-byte
 * array per frame fills the 16 MB semi-space only every 500k frames). `work` runs `attempts`
 * times (it gets the attempt number, to feed fresh input) and the smallest clean measurement
 * counts: on a busy machine the optimizing compiler may finish late, and unoptimized code boxes
 * numbers that optimized code does not.
 */
export async function youngBytesAllocated(work: (attempt: number) => void, attempts = 4): Promise<number> {
  const { getHeapSpaceStatistics } = await import("node:v8");
  const { PerformanceObserver: Observer } = await import("node:perf_hooks");
  const used = () => getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_used_size ?? 0;
  let best = Number.POSITIVE_INFINITY;
  for (let attempt = 0; attempt < attempts; attempt++) {
    let collected = false;
    const observer = new Observer(() => {
      collected = true;
    });
    observer.observe({ entryTypes: ["gc"] });
    await new Promise((resolve) => setTimeout(resolve, 10));
    collected = false;
    const before = used();
    work(attempt);
    const after = used();
    await new Promise((resolve) => setTimeout(resolve, 10));
    observer.disconnect();
    if (!collected && after >= before) best = Math.min(best, after - before);
  }
  if (!Number.isFinite(best)) throw new Error("every measurement was disturbed by a collection");
  return best;
}

/** A full garbage collection, also where node was not started with --expose-gc. */
export async function fullGc(): Promise<void> {
  const v8 = await import("node:v8");
  const vm = await import("node:vm");
  v8.setFlagsFromString("--expose-gc");
  (vm.runInNewContext("gc") as () => void)();
}
