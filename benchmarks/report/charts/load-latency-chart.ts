/**
 * Echo round trip (this project and the protocol echo) with frame transit and render lateness,
 * against concurrent calls, on a log axis: the round trip is tens of milliseconds where
 * transit is tenths, and a linear axis would flatten one of them.
 */
import type { TopLevelSpec } from "vega-lite";
import { medianOf } from "../../lib/median.js";
import { GOALS } from "../../load/load-result.js";
import { HEADLINE_GOALS } from "../headline-goals.js";
import type { LoadPoint } from "../suite-results.js";
import { type CallsSeries, callsLayers } from "./calls-series.js";
import { CHART_CONFIG, COLORS, chartTitle, machineLine } from "./chart-style.js";

export const LOAD_LATENCY_TITLE = "Echo round trip and frame timing vs concurrent calls";

/** "8 s per point, median of 3 runs" */
export function loadRunsText(load: readonly LoadPoint[]): string {
  const seconds = [...new Set(load.map((p) => p.seconds))].join("/");
  const runs = [...new Set(load.map((p) => p.runs))];
  const median = runs.length === 1 && runs[0] === 1 ? "" : `, median of ${runs.join("/")} runs`;
  return `${seconds} s per point${median}`;
}

/** The protocol echo's round trip of a point: the median of its runs (null: not recorded). */
function protocolEchoRoundTrip(p: LoadPoint, pick: "p50" | "p99"): number | null {
  return medianOf(
    p.runFigures.map((r) => (pick === "p50" ? r.protocolEchoRoundTripP50Ms : r.protocolEchoRoundTripP99Ms)),
  );
}

export function loadLatencySeries(load: readonly LoadPoint[]): CallsSeries[] {
  const points = (pick: (p: LoadPoint) => number | null) =>
    load.map((p) => ({ calls: p.calls, value: pick(p) }));
  return [
    {
      name: "echo round trip p99",
      color: COLORS.vermillion,
      shape: "circle",
      points: points((p) => p.echoRoundTripP99Ms),
    },
    {
      name: "echo round trip p50",
      color: COLORS.vermillion,
      dashed: true,
      shape: "square",
      points: points((p) => p.echoRoundTripP50Ms),
    },
    {
      name: "protocol echo (no engine) round trip p99",
      color: COLORS.black,
      shape: "diamond",
      points: points((p) => protocolEchoRoundTrip(p, "p99")),
    },
    {
      name: "protocol echo (no engine) round trip p50",
      color: COLORS.black,
      dashed: true,
      shape: "cross",
      points: points((p) => protocolEchoRoundTrip(p, "p50")),
    },
    {
      name: "frame transit p99 (≤ bucket bound)",
      color: COLORS.blue,
      shape: "triangle-up",
      points: points((p) => p.transitP99Ms),
    },
    {
      name: "render lateness p99 (≤ bucket bound)",
      color: COLORS.green,
      shape: "triangle-down",
      points: points((p) => p.latenessP99Ms),
    },
  ];
}

export function loadLatencyChart(load: readonly LoadPoint[]): TopLevelSpec {
  const first = load[0];
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    description: `${LOAD_LATENCY_TITLE}: milliseconds on a log axis`,
    title: chartTitle(
      LOAD_LATENCY_TITLE,
      first ? `${machineLine(first.machine)} · ${loadRunsText(load)}` : undefined,
      [
        "Echo round trip: HDR histogram at the far end (media platform emulator, its own process), frame sent → its echo received; the protocol echo is the same transport with no media engine, same run.",
        "Transit and lateness: upper bounds of the worker's Prometheus histogram buckets (the value is at most this); no point: no observation or beyond 1 s.",
      ],
    ),
    config: CHART_CONFIG,
    ...callsLayers({
      series: loadLatencySeries(load),
      yTitle: "milliseconds (log scale)",
      yScale: "log",
      goals: [
        {
          label: `goal: echo p99 ≤ ${HEADLINE_GOALS.echoRoundTripP99Ms} ms at ${HEADLINE_GOALS.atCalls} calls`,
          value: HEADLINE_GOALS.echoRoundTripP99Ms,
          color: COLORS.vermillion,
        },
        {
          label: `goal: echo p50 ≤ ${HEADLINE_GOALS.echoRoundTripP50Ms} ms`,
          value: HEADLINE_GOALS.echoRoundTripP50Ms,
          color: COLORS.vermillion,
        },
        {
          label: `goal: transit p99 ≤ ${GOALS.transitP99Ms} ms`,
          value: GOALS.transitP99Ms,
          color: COLORS.blue,
        },
        {
          label: `goal: lateness p99 ≤ ${GOALS.latenessP99Ms} ms`,
          value: GOALS.latenessP99Ms,
          color: COLORS.green,
        },
      ],
    }),
  };
}
