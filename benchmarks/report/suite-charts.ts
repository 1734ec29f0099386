/**
 * The suite's charts, from its results: latency percentiles and CPU per frame against
 * concurrent calls (bench:load), answer latency percentiles (bench:answer) and per-frame cost
 * by design (bench:frames).
 */
import { GOALS } from "../load/load-result.js";
import { type BarChartSpec, renderBarChart } from "./bar-chart.js";
import { type LineChartSpec, renderLineChart } from "./line-chart.js";
import type { AnswerResult, FramesResult, LoadPoint, Machine } from "./suite-results.js";
import { PALETTE } from "./svg.js";

const BLUE = PALETTE[0] as string;
const VERMILLION = PALETTE[1] as string;
const GREEN = PALETTE[2] as string;
const PINK = PALETTE[3] as string;
const ORANGE = PALETTE[4] as string;
const DASHED = "6 4";

/** "AMD EPYC · 2 cores · Node v20.20.2 · commit 41f32b0cfcff" */
export function machineLine(machine: Machine): string {
  return `${machine.cpuModel} · ${machine.cores} cores · Node ${machine.node} · commit ${machine.gitCommit}`;
}

function seconds(load: readonly LoadPoint[]): string {
  const distinct = [...new Set(load.map((p) => p.seconds))];
  return distinct.length === 1 ? `${distinct[0]} s per point` : `${distinct.join("/")} s per point`;
}

export function loadLatencyChart(load: readonly LoadPoint[]): LineChartSpec {
  const points = (pick: (p: LoadPoint) => number | null) => load.map((p) => ({ x: p.calls, y: pick(p) }));
  return {
    title: "Media worker latency vs concurrent calls",
    subtitle: load[0] ? `${machineLine(load[0].machine)} · ${seconds(load)}` : undefined,
    xLabel: "concurrent calls (echo, duplex, 50 frames/s each way)",
    yLabel: "milliseconds (log scale)",
    yScale: "log",
    series: [
      {
        name: "frame transit p50 (≤)",
        points: points((p) => p.transitP50Ms),
        color: BLUE,
        dash: DASHED,
        marker: "circle",
      },
      { name: "frame transit p99 (≤)", points: points((p) => p.transitP99Ms), color: BLUE, marker: "square" },
      {
        name: "render lateness p99 (≤)",
        points: points((p) => p.latenessP99Ms),
        color: GREEN,
        marker: "triangle",
      },
      {
        name: "echo round trip p50",
        points: points((p) => p.echoRoundTripP50Ms),
        color: VERMILLION,
        dash: DASHED,
        marker: "diamond",
      },
      {
        name: "echo round trip p99",
        points: points((p) => p.echoRoundTripP99Ms),
        color: VERMILLION,
        marker: "cross",
      },
    ],
    references: [
      { label: `goal: transit p99 ≤ ${GOALS.transitP99Ms} ms`, y: GOALS.transitP99Ms, color: BLUE },
      { label: `goal: lateness p99 ≤ ${GOALS.latenessP99Ms} ms`, y: GOALS.latenessP99Ms, color: GREEN },
    ],
    notes: [
      "Transit and lateness (≤): upper bounds of the worker's Prometheus histogram buckets; a missing point had no observation or exceeded 1 s.",
      "Echo round trip: HDR histogram at the far end (media platform emulator, its own process): frame sent → its echo received.",
    ],
  };
}

export function loadCpuChart(load: readonly LoadPoint[]): LineChartSpec {
  const points = (pick: (p: LoadPoint) => number | null) => load.map((p) => ({ x: p.calls, y: pick(p) }));
  return {
    title: "Bot CPU per frame vs concurrent calls",
    subtitle: load[0] ? `${machineLine(load[0].machine)} · ${seconds(load)}` : undefined,
    xLabel: "concurrent calls (echo, duplex, 50 frames/s each way)",
    yLabel: "CPU µs per frame (received + sent)",
    series: [
      {
        name: "media worker (this project)",
        points: points((p) => p.workerCpuUsPerFrame),
        color: BLUE,
        marker: "circle",
      },
      {
        name: "protocol echo, no engine",
        points: points((p) => p.protocolEchoCpuUsPerFrame),
        color: BLUE,
        dash: DASHED,
        marker: "square",
      },
      {
        name: "floor: raw batched WebSocket",
        points: points((p) => p.floorCpuUsPerFrame),
        color: GREEN,
        marker: "square",
      },
      {
        name: "JSON + base64, a socket per call (peer)",
        points: points((p) => p.jsonBase64PerCallCpuUsPerFrame),
        color: VERMILLION,
        marker: "triangle",
      },
      {
        name: "JSON + base64, one shared socket",
        points: points((p) => p.jsonBase64SharedCpuUsPerFrame),
        color: VERMILLION,
        dash: DASHED,
        marker: "diamond",
      },
    ],
    notes: [
      "CPU of the bot process over the window less its idle rate, per frame received + sent; the far end runs in its own process and is not counted.",
      `Goals: worker ≤ ${GOALS.maxWorkerOverFloor}× the floor; JSON + base64 with a socket per call (the closest peer's design) ≥ ${GOALS.minJsonOverWorker}× the worker. The shared socket (dashed) is cheaper for JSON: the stricter comparison, for information.`,
    ],
  };
}

export function answerChart(answer: AnswerResult): BarChartSpec {
  const row = (p: { p50Ms: number; p99Ms: number; maxMs: number }) =>
    answer.answered === 0 ? [null, null, null] : [p.p50Ms, p.p99Ms, p.maxMs];
  const calls =
    answer.answered === answer.calls
      ? `${answer.calls} incoming calls`
      : `${answer.answered} of ${answer.calls} calls answered`;
  return {
    title: `Answer latency: ${calls} at ${answer.ratePerSecond}/s`,
    subtitle: machineLine(answer.machine),
    yLabel: "milliseconds",
    categories: ["p50", "p99", "max"],
    series: [
      { name: "notification → answer sent", values: row(answer.toSent), color: BLUE },
      { name: "notification → Graph's 202", values: row(answer.to202), color: ORANGE },
    ],
    references:
      answer.goalP99Ms === null
        ? []
        : [{ label: `goal: answer sent p99 ≤ ${answer.goalP99Ms} ms`, y: answer.goalP99Ms, color: BLUE }],
    notes: ["HDR histograms in the bot; the Graph emulator runs in its own process."],
  };
}

export function framesChart(frames: FramesResult): BarChartSpec {
  const stage = (pick: (p: FramesResult["pipelines"][number]) => number) => frames.pipelines.map(pick);
  return {
    title: `Per-frame cost by design: ${frames.sessions} frames a tick, ${frames.ticks} ticks`,
    subtitle: machineLine(frames.machine),
    yLabel: "ns per frame",
    categories: frames.pipelines.map((p) => p.name),
    series: [
      { name: "decode", values: stage((p) => p.decodeNsPerFrame), color: BLUE },
      { name: "dispatch (echo)", values: stage((p) => p.dispatchNsPerFrame), color: GREEN },
      { name: "encode", values: stage((p) => p.encodeNsPerFrame), color: PINK },
      { name: "total", values: stage((p) => p.totalNsPerFrame), color: "#000000" },
    ],
  };
}

export interface ChartFile {
  /** Path under the results directory, e.g. "charts/load-latency.svg". */
  file: string;
  title: string;
  svg: string;
}

/** Every chart the results allow (load charts need at least one load point). */
export function suiteCharts(results: {
  answer: AnswerResult | null;
  frames: FramesResult | null;
  load: readonly LoadPoint[];
}): ChartFile[] {
  const charts: ChartFile[] = [];
  const line = (file: string, spec: LineChartSpec) =>
    charts.push({ file, title: spec.title, svg: renderLineChart(spec) });
  const bar = (file: string, spec: BarChartSpec) =>
    charts.push({ file, title: spec.title, svg: renderBarChart(spec) });
  if (results.load.length > 0) {
    line("charts/load-latency.svg", loadLatencyChart(results.load));
    line("charts/load-cpu.svg", loadCpuChart(results.load));
  }
  if (results.answer) bar("charts/answer-latency.svg", answerChart(results.answer));
  if (results.frames) bar("charts/frames.svg", framesChart(results.frames));
  return charts;
}
