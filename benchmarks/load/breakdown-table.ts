import type { StageFigures } from "../lib/latency-histogram.js";
import { medianOf } from "../lib/median.js";
import { formatTable } from "../lib/results.js";
import type { EchoBreakdown, LoadResult } from "./load-result.js";

/** The breakdown's stages in the order a frame passes them, with the names printed. */
const STAGES: [BreakdownStage, string][] = [
  ["hostSend", "far end: tick's work (source sent, render played)"],
  ["hostToWorker", "transit: host -> worker socket"],
  ["batchHandled", "worker: batch through jitter buffers + handlers"],
  ["liveSend", "worker: handlers done -> live batch sent"],
  ["receiveToLiveSent", "worker total: delivered -> live batch sent"],
  ["botToHost", "transit: worker -> far end"],
  ["hostRenderQueue", "far end: render queue until played (after)"],
  ["renderLateness", "worker tick: deadline -> batch sent"],
];

export const BREAKDOWN_STAGES = [
  "hostSend",
  "hostToWorker",
  "batchHandled",
  "liveSend",
  "receiveToLiveSent",
  "botToHost",
  "hostRenderQueue",
  "renderLateness",
] as const satisfies readonly (keyof EchoBreakdown)[];
export type BreakdownStage = (typeof BREAKDOWN_STAGES)[number];

/** What each stage is, for tables (bench:load's output and summary.md). */
export function stageName(stage: BreakdownStage): string {
  return (STAGES.find(([key]) => key === stage) as [BreakdownStage, string])[1];
}

const ms = (value: number | undefined) => (value === undefined ? "-" : value.toFixed(3));

/** One run's breakdown: each stage's own percentiles (ms), which do not add up. */
export function breakdownTable(r: LoadResult): string {
  const rows = STAGES.map(([key, name]) => {
    const stage = r.breakdown[key] as StageFigures | null;
    return [name, stage?.count ?? 0, ms(stage?.p50Ms), ms(stage?.p90Ms), ms(stage?.p99Ms), ms(stage?.maxMs)];
  });
  rows.push([
    "echo round trip (far end: source sent -> echo arrived)",
    r.worker.farEnd.echoRoundTrip.count,
    ms(r.echoRoundTripP50Ms),
    "-",
    ms(r.echoRoundTripP99Ms),
    ms(r.echoRoundTripMaxMs),
  ]);
  const live = r.breakdown.framesSentLive;
  const tick = r.breakdown.framesSentAtTick;
  const split =
    live === null || tick === null
      ? ""
      : `\nframes sent right after their batch: ${live}; at a render tick: ${tick}`;
  return `${formatTable(["stage (exact µs in the worker, HDR at the far end)", "samples", "p50 ms", "p90 ms", "p99 ms", "max ms"], rows)}${split}`;
}

/** Over repeated runs of one call count: each stage's median p50 and p99, and the worst p99 and max. */
export function breakdownRepeatTable(runs: readonly LoadResult[]): string {
  const rows = STAGES.map(([key, name]) => {
    const stages = runs.map((r) => r.breakdown[key] as StageFigures | null).filter((s) => s !== null);
    if (stages.length === 0) return [name, 0, "-", "-", "-", "-"];
    return [
      name,
      stages.length,
      ms(medianOf(stages.map((s) => s.p50Ms)) ?? undefined),
      ms(medianOf(stages.map((s) => s.p99Ms)) ?? undefined),
      ms(Math.max(...stages.map((s) => s.p99Ms))),
      ms(Math.max(...stages.map((s) => s.maxMs))),
    ];
  });
  return formatTable(
    ["stage", "runs", "median p50 ms", "median p99 ms", "worst p99 ms", "worst max ms"],
    rows,
  );
}
