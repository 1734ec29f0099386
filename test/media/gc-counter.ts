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
