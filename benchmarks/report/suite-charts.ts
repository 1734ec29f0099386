/**
 * The suite's charts, from its results: Vega-Lite specs (one builder per chart, under
 * charts/) rendered to SVG in Node. Round trip and timing, CPU per frame and drops per run
 * against concurrent calls (bench:load), answer latency (bench:answer) and per-frame cost by
 * design (bench:frames).
 */
import type { TopLevelSpec } from "vega-lite";
import { answerChart, answerTitle } from "./charts/answer-chart.js";
import { framesChart, framesTitle } from "./charts/frames-chart.js";
import { LOAD_CPU_TITLE, loadCpuChart } from "./charts/load-cpu-chart.js";
import { LOAD_DROPS_TITLE, loadDropsChart } from "./charts/load-drops-chart.js";
import { LOAD_LATENCY_TITLE, loadLatencyChart } from "./charts/load-latency-chart.js";
import { renderSvg } from "./charts/render-svg.js";
import type { AnswerResult, FramesResult, LoadPoint } from "./suite-results.js";

export interface ChartFile {
  /** Path under the results directory, e.g. "charts/load-latency.svg". */
  file: string;
  title: string;
  svg: string;
}

export interface ChartSpec {
  file: string;
  title: string;
  spec: TopLevelSpec;
}

/** The spec of every chart the results allow (load charts need at least one load point). */
export function suiteChartSpecs(results: {
  answer: AnswerResult | null;
  frames: FramesResult | null;
  load: readonly LoadPoint[];
}): ChartSpec[] {
  const specs: ChartSpec[] = [];
  if (results.load.length > 0) {
    specs.push({
      file: "charts/load-latency.svg",
      title: LOAD_LATENCY_TITLE,
      spec: loadLatencyChart(results.load),
    });
    specs.push({ file: "charts/load-cpu.svg", title: LOAD_CPU_TITLE, spec: loadCpuChart(results.load) });
    specs.push({
      file: "charts/load-drops.svg",
      title: LOAD_DROPS_TITLE,
      spec: loadDropsChart(results.load),
    });
  }
  if (results.answer)
    specs.push({
      file: "charts/answer-latency.svg",
      title: answerTitle(results.answer),
      spec: answerChart(results.answer),
    });
  if (results.frames)
    specs.push({
      file: "charts/frames.svg",
      title: framesTitle(results.frames),
      spec: framesChart(results.frames),
    });
  return specs;
}

/** Every chart the results allow, rendered. */
export async function suiteCharts(results: {
  answer: AnswerResult | null;
  frames: FramesResult | null;
  load: readonly LoadPoint[];
}): Promise<ChartFile[]> {
  const charts: ChartFile[] = [];
  for (const { file, title, spec } of suiteChartSpecs(results))
    charts.push({ file, title, svg: await renderSvg(spec) });
  return charts;
}
