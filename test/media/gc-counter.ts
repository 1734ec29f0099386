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
 * Bytes `work` allocated in the young generation (V8's new space), measured when no
 * collection ran in between (retried a few times otherwise). Catches even small per-frame
 * objects that a GC count would miss (a 32-byte array per frame fills the 16 MB semi-space
 * only every 500k frames).
 */
export async function youngBytesAllocated(work: () => void): Promise<number> {
  const { getHeapSpaceStatistics } = await import("node:v8");
  const used = () => getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_used_size ?? 0;
  let last = Number.NaN;
  for (let attempt = 0; attempt < 5; attempt++) {
    let collected = false;
    const { PerformanceObserver: Observer } = await import("node:perf_hooks");
    const observer = new Observer(() => {
      collected = true;
    });
    observer.observe({ entryTypes: ["gc"] });
    await new Promise((resolve) => setTimeout(resolve, 10));
    collected = false;
    const before = used();
    work();
    const after = used();
    await new Promise((resolve) => setTimeout(resolve, 10));
    observer.disconnect();
    last = after - before;
    if (!collected && last >= 0) return last;
  }
  throw new Error(`could not measure without a collection in between (last delta ${last})`);
}

/** A full garbage collection, also where node was not started with --expose-gc. */
export async function fullGc(): Promise<void> {
  const v8 = await import("node:v8");
  const vm = await import("node:vm");
  v8.setFlagsFromString("--expose-gc");
  (vm.runInNewContext("gc") as () => void)();
}
