/**
 * Bot CPU per frame by design against concurrent calls, on a log axis (the floor is under a
 * microsecond where JSON + base64 is tens), with the goal drawn as its own line: 1.5× the
 * protocol echo measured in the same run.
 */
import type { TopLevelSpec } from "vega-lite";
import { HEADLINE_GOALS } from "../headline-goals.js";
import type { LoadPoint } from "../suite-results.js";
import { type CallsSeries, callsLayers } from "./calls-series.js";
import { CHART_CONFIG, COLORS, chartTitle, machineLine } from "./chart-style.js";
import { loadRunsText } from "./load-latency-chart.js";

export const LOAD_CPU_TITLE = "Bot CPU per frame vs concurrent calls";

export function loadCpuSeries(load: readonly LoadPoint[]): CallsSeries[] {
  const points = (pick: (p: LoadPoint) => number | null) =>
    load.map((p) => ({ calls: p.calls, value: pick(p) }));
  const goal = HEADLINE_GOALS.maxWorkerOverProtocolEcho;
  return [
    {
      name: "media worker (this project)",
      color: COLORS.blue,
      shape: "circle",
      points: points((p) => p.workerCpuUsPerFrame),
    },
    {
      name: "protocol echo, no engine",
      color: COLORS.black,
      shape: "square",
      points: points((p) => p.protocolEchoCpuUsPerFrame),
    },
    {
      name: `goal: ${goal} × the protocol echo`,
      color: COLORS.black,
      dashed: true,
      shape: "cross",
      points: points((p) =>
        p.protocolEchoCpuUsPerFrame === null ? null : p.protocolEchoCpuUsPerFrame * goal,
      ),
    },
    {
      name: "floor: raw batched WebSocket",
      color: COLORS.green,
      shape: "triangle-up",
      points: points((p) => p.floorCpuUsPerFrame),
    },
    {
      name: "JSON + base64, a socket per call (peer's design)",
      color: COLORS.vermillion,
      shape: "diamond",
      points: points((p) => p.jsonBase64PerCallCpuUsPerFrame),
    },
    {
      name: "JSON + base64, one shared socket",
      color: COLORS.vermillion,
      dashed: true,
      shape: "triangle-down",
      points: points((p) => p.jsonBase64SharedCpuUsPerFrame),
    },
  ];
}

export function loadCpuChart(load: readonly LoadPoint[]): TopLevelSpec {
  const first = load[0];
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    description: `${LOAD_CPU_TITLE}: CPU µs per frame on a log axis`,
    title: chartTitle(
      LOAD_CPU_TITLE,
      first ? `${machineLine(first.machine)} · ${loadRunsText(load)}` : undefined,
      [
        "CPU of the bot process over the window less its idle rate, per frame received + sent; the far end runs in its own process and is not counted.",
      ],
    ),
    config: CHART_CONFIG,
    ...callsLayers({ series: loadCpuSeries(load), yTitle: "CPU µs per frame (log scale)", yScale: "log" }),
  };
}
