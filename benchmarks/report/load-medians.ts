/**
 * Several bench:load runs of one call count (`npm run bench -- --repeat N`) as one point: the
 * median of each figure, so one noisy run on a shared machine neither makes nor breaks a goal.
 */
import { medianOf, upperMedianBoundOf } from "../lib/median.js";
import type { LoadPoint } from "./suite-results.js";

/** Goals every run must meet (a drop in any run is a drop). */
const EVERY_RUN = new Set(["noDrops", "callsAtLeast1000WithoutDrops"]);

/**
 * One point per call count, ascending. A count run once stays as it is; a count run several
 * times becomes the median of each figure, except dropped frames, refused batches and skipped
 * ticks, which are the worst run's. The bucket-bound figures (transit and lateness, "≤ a bucket
 * bound") take the upper-middle run (upperMedianBoundOf: always a real bound, a run beyond the
 * last bucket counting as above every bound); the continuous ones (CPU, ratios, the echo round
 * trip, rates) the plain median. A goal is met when more than half of the runs met it (the
 * same as judging the median figure against the threshold, for an odd number of runs), the
 * drop goals only when every run met them; null when no run measured it.
 */
export function combineLoadRuns(points: readonly LoadPoint[]): LoadPoint[] {
  const byCalls = new Map<number, LoadPoint[]>();
  for (const point of points) byCalls.set(point.calls, [...(byCalls.get(point.calls) ?? []), point]);
  return [...byCalls.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, runs]) => (runs.length === 1 ? (runs[0] as LoadPoint) : medianPoint(runs)));
}

function medianPoint(runs: readonly LoadPoint[]): LoadPoint {
  const first = runs[0] as LoadPoint;
  const median = (pick: (p: LoadPoint) => number | null) => medianOf(runs.map(pick));
  // Infinity (the upper-middle run was beyond the last bucket) is shown as "-", like one run's.
  const bound = (pick: (p: LoadPoint) => number | null) => {
    const value = upperMedianBoundOf(runs.map(pick));
    return value === null || Number.isFinite(value) ? value : null;
  };
  const worst = (pick: (p: LoadPoint) => number) => Math.max(...runs.map(pick));
  const goals: Record<string, boolean | null> = {};
  for (const key of new Set(runs.flatMap((p) => Object.keys(p.goals)))) {
    const verdicts = runs.map((p) => p.goals[key]).filter((v): v is boolean => v === true || v === false);
    const met = verdicts.filter(Boolean).length;
    goals[key] =
      verdicts.length === 0 ? null : EVERY_RUN.has(key) ? met === runs.length : met > verdicts.length / 2;
  }
  return {
    ...first,
    file: runs.map((p) => p.file).join(", "),
    runs: runs.length,
    seconds: median((p) => p.seconds) ?? first.seconds,
    framesDropped: worst((p) => p.framesDropped),
    bridgeSendDropBatches: worst((p) => p.bridgeSendDropBatches),
    skippedTicks: worst((p) => p.skippedTicks),
    transitP50Ms: bound((p) => p.transitP50Ms),
    transitP99Ms: bound((p) => p.transitP99Ms),
    latenessP99Ms: bound((p) => p.latenessP99Ms),
    echoRoundTripP50Ms: median((p) => p.echoRoundTripP50Ms) ?? first.echoRoundTripP50Ms,
    echoRoundTripP99Ms: median((p) => p.echoRoundTripP99Ms) ?? first.echoRoundTripP99Ms,
    workerCpuUsPerFrame: median((p) => p.workerCpuUsPerFrame),
    floorCpuUsPerFrame: median((p) => p.floorCpuUsPerFrame),
    protocolEchoCpuUsPerFrame: median((p) => p.protocolEchoCpuUsPerFrame),
    jsonBase64CpuUsPerFrame: median((p) => p.jsonBase64CpuUsPerFrame),
    jsonBase64OverWorker: median((p) => p.jsonBase64OverWorker),
    jsonBase64PerCallCpuUsPerFrame: median((p) => p.jsonBase64PerCallCpuUsPerFrame),
    jsonBase64PerCallOverWorker: median((p) => p.jsonBase64PerCallOverWorker),
    jsonBase64SharedCpuUsPerFrame: median((p) => p.jsonBase64SharedCpuUsPerFrame),
    jsonBase64SharedOverWorker: median((p) => p.jsonBase64SharedOverWorker),
    workerOverFloor: median((p) => p.workerOverFloor),
    ratePercent: {
      worker: median((p) => p.ratePercent.worker),
      floor: median((p) => p.ratePercent.floor),
      protocolEcho: median((p) => p.ratePercent.protocolEcho),
      jsonPerCall: median((p) => p.ratePercent.jsonPerCall),
      jsonShared: median((p) => p.ratePercent.jsonShared),
    },
    runRates: runs.flatMap((p) => p.runRates),
    runFigures: runs.flatMap((p) => p.runFigures),
    goals,
  };
}
