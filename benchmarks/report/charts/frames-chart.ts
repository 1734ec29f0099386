/**
 * Per-frame cost by design (bench:frames): a horizontal bar per design split into decode,
 * dispatch and encode, labelled with its total. Linear from zero: the designs are within one
 * order of magnitude, and stacked lengths only add up on a linear axis.
 */
import type { TopLevelSpec } from "vega-lite";
import type { FramesResult } from "../suite-results.js";
import { CHART_CONFIG, CHART_WIDTH, COLORS, chartTitle, machineLine } from "./chart-style.js";

const STAGES = ["decode", "dispatch (echo)", "encode"];

export function framesTitle(frames: FramesResult): string {
  return `Per-frame cost by design: ${frames.sessions} frames a tick, ${frames.ticks} ticks`;
}

export function framesChart(frames: FramesResult): TopLevelSpec {
  const designs = frames.pipelines.map((p, i) => (i === 0 ? `${p.name} (this project)` : p.name));
  const rows = frames.pipelines.flatMap((p, i) => [
    { design: designs[i], stage: "decode", ns: p.decodeNsPerFrame },
    { design: designs[i], stage: "dispatch (echo)", ns: p.dispatchNsPerFrame },
    { design: designs[i], stage: "encode", ns: p.encodeNsPerFrame },
  ]);
  const totals = frames.pipelines.map((p, i) => ({ design: designs[i], ns: p.totalNsPerFrame }));
  const y = { field: "design", type: "nominal" as const, title: null, scale: { domain: designs } };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    description: `${framesTitle(frames)}: nanoseconds per frame by stage`,
    title: chartTitle(framesTitle(frames), machineLine(frames.machine), [
      "One process, no sockets; the bar's label is the total measured, the stages are timed separately.",
    ]),
    config: CHART_CONFIG,
    width: CHART_WIDTH,
    height: { step: 36 },
    layer: [
      {
        data: { values: rows },
        mark: { type: "bar" },
        encoding: {
          y,
          x: { field: "ns", type: "quantitative", aggregate: "sum", stack: "zero", title: "ns per frame" },
          color: {
            field: "stage",
            type: "nominal",
            title: null,
            scale: { domain: STAGES, range: [COLORS.blue, COLORS.green, COLORS.pink] },
            legend: { orient: "bottom" },
          },
          order: { field: "stage", sort: "ascending" },
        },
      },
      {
        data: { values: totals },
        mark: { type: "text", align: "left", dx: 4, fontSize: 10 },
        encoding: {
          y,
          x: { field: "ns", type: "quantitative" },
          text: { field: "ns", type: "quantitative", format: "d" },
        },
      },
    ],
  };
}
