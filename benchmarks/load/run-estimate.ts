import type { JsonLayout } from "./far-end-messages.js";

/**
 * How long one bench:load call count takes, for its own sweep budget and watchdog and for the
 * suite's time limit per run: the worker, then (with baselines) the protocol echo, the floor and JSON + base64 in
 * each layout asked for, each with session or socket set-up, an idle sample, warm-up and window.
 */
export interface LoadRunShape {
  calls: number;
  seconds: number;
  warmupSeconds: number;
  baselines: boolean;
  /** JSON + base64 layouts run after the floor (empty: none). */
  jsonLayouts: readonly JsonLayout[];
}

/** Seconds for one design: set-up, idle sample, warm-up, window, tear-down. */
function designSeconds(shape: LoadRunShape, setUpPerCallSeconds: number): number {
  return 4 + shape.warmupSeconds + shape.seconds + shape.calls * setUpPerCallSeconds;
}

/**
 * The number of designs one call count measures: the worker, then with baselines the protocol
 * echo, the floor and one per JSON layout.
 */
export function designCount(shape: Pick<LoadRunShape, "baselines" | "jsonLayouts">): number {
  return shape.baselines ? 3 + shape.jsonLayouts.length : 1;
}

/** Expected seconds for one call count (not a bound: the watchdogs allow a multiple of it). */
export function loadRunSeconds(shape: LoadRunShape): number {
  // Sessions (worker) and sockets are set up in groups of 100: about 2 ms a call. A socket per
  // call (1000 handshakes each side) costs about twice that, and its close as much again.
  let total = designSeconds(shape, 0.002);
  if (!shape.baselines) return total;
  // The protocol echo (sessions, like the worker's), then the floor.
  total += 2 * designSeconds(shape, 0.002);
  for (const layout of shape.jsonLayouts) total += designSeconds(shape, layout === "perCall" ? 0.004 : 0.002);
  return total;
}

/** bench:load --calls N stops itself past this (3x the estimate plus start-up and slack). */
export function loadHardLimitSeconds(shape: LoadRunShape): number {
  return loadRunSeconds(shape) * 3 + 120;
}

/** "shared" | "per-call" | "both" (the --json-layout flag) -> the layouts to run, per call first. */
export function jsonLayoutsOf(flag: string): JsonLayout[] {
  switch (flag) {
    case "both":
      return ["perCall", "shared"];
    case "per-call":
      return ["perCall"];
    case "shared":
      return ["shared"];
    default:
      throw new Error(`--json-layout must be both, per-call or shared, got "${flag}"`);
  }
}
