/**
 * Lines of a few figures against concurrent calls, as Vega-Lite layers: one row per (calls,
 * series) point, a marker on every point, a series' line broken where it has no value, a
 * legend naming each series (with "not measured" when it has no point at all). On a log axis
 * a value <= 0 has no place and counts as missing.
 */
import { CHART_HEIGHT, CHART_WIDTH, type GoalLine, goalLayers, type Layer } from "./chart-style.js";

export interface CallsSeries {
  name: string;
  color: string;
  /** Dashed line (e.g. a p50 beside a solid p99 of the same colour). */
  dashed?: boolean;
  shape: "circle" | "square" | "triangle-up" | "diamond" | "cross" | "triangle-down";
  points: { calls: number; value: number | null }[];
}

export interface CallsChart {
  series: readonly CallsSeries[];
  yTitle: string;
  yScale: "linear" | "log";
  goals?: readonly GoalLine[];
}

export interface CallsRow {
  calls: number;
  series: string;
  value: number | null;
}

const NOT_MEASURED = " (not measured)";

function drawable(value: number | null, scale: CallsChart["yScale"]): value is number {
  return value !== null && Number.isFinite(value) && (scale === "linear" || value > 0);
}

/** The legend name of a series: its name, marked when nothing of it can be drawn. */
export function legendName(series: CallsSeries, scale: CallsChart["yScale"]): string {
  return series.points.some((p) => drawable(p.value, scale)) ? series.name : `${series.name}${NOT_MEASURED}`;
}

/** Every point of every series, a missing value as null (it breaks the line there). */
export function callsRows(chart: CallsChart): CallsRow[] {
  return chart.series.flatMap((s) => {
    const name = legendName(s, chart.yScale);
    return [...s.points]
      .sort((a, b) => a.calls - b.calls)
      .map((p) => ({
        calls: p.calls,
        series: name,
        value: drawable(p.value, chart.yScale) ? p.value : null,
      }));
  });
}

export function callsLayers(chart: CallsChart): { width: number; height: number; layer: Layer[] } {
  const rows = callsRows(chart);
  const names = chart.series.map((s) => legendName(s, chart.yScale));
  const calls = [...new Set(rows.map((r) => r.calls))].sort((a, b) => a - b);
  const legend = { title: null, orient: "bottom" as const, columns: 2, symbolType: "stroke" };
  const color = {
    field: "series",
    type: "nominal" as const,
    scale: { domain: names, range: chart.series.map((s) => s.color) },
    legend,
  };
  const strokeDash = {
    field: "series",
    type: "nominal" as const,
    scale: { domain: names, range: chart.series.map((s) => (s.dashed ? [6, 4] : [1, 0])) },
    legend,
  };
  const shape = {
    field: "series",
    type: "nominal" as const,
    scale: { domain: names, range: chart.series.map((s) => s.shape) },
    legend,
  };
  const x = {
    field: "calls",
    type: "quantitative" as const,
    title: "concurrent calls (echo, duplex, 50 frames/s each way)",
    axis: { values: calls, format: "d" },
    scale: { zero: false, padding: 16 },
  };
  const y = {
    field: "value",
    type: "quantitative" as const,
    title: chart.yTitle,
    scale: chart.yScale === "log" ? { type: "log" as const } : { zero: true },
  };
  return {
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    layer: [
      {
        data: { values: rows },
        mark: { type: "line", strokeWidth: 2, invalid: "break-paths-show-path-domains" },
        encoding: { x, y, color, strokeDash },
      },
      {
        data: { values: rows.filter((r) => r.value !== null) },
        mark: { type: "point", filled: true, size: 50, opacity: 1 },
        encoding: { x, y, color, shape },
      },
      ...goalLayers(chart.goals ?? []),
    ],
  };
}
