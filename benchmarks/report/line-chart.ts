/**
 * A line chart of a few series over a numeric x (concurrent calls), as a self-contained SVG:
 * gridlines, ticks, legend, goal lines, a polyline per series with a marker on every point.
 * A missing value (null, non-finite, or <= 0 on a log axis) breaks the line there.
 */
import {
  axisLines,
  type ChartText,
  GRID,
  LABEL_SIZE,
  LEGEND_ROW,
  type LegendEntry,
  legend,
  legendWidth,
  MARKERS,
  type MarkerShape,
  MUTED,
  marker,
  noData,
  notesHeight,
  type PlotBox,
  type ReferenceLine,
  referenceEntries,
  referenceLines,
  svgDocument,
  valueAxis,
  xAxisTitle,
} from "./chart-parts.js";
import { type Axis, type AxisKind, linearAxis, logAxis, project } from "./scale.js";
import { el, formatNumber, PALETTE, px, text, textWidth } from "./svg.js";

export interface LinePoint {
  x: number;
  y: number | null;
}

export interface LineSeries {
  name: string;
  points: LinePoint[];
  color?: string;
  /** stroke-dasharray, e.g. "6 4" for a p50 line beside a solid p99 line. */
  dash?: string;
  marker?: MarkerShape;
}

export interface LineChartSpec extends ChartText {
  xLabel: string;
  yLabel: string;
  yScale?: AxisKind;
  series: LineSeries[];
  references?: ReferenceLine[];
  width?: number;
  height?: number;
}

/** Whether a value can be drawn on the axis. */
function drawable(axis: AxisKind, y: number | null): y is number {
  return y !== null && Number.isFinite(y) && (axis === "linear" || y > 0);
}

/** The x ticks: the data's own x values when they are few and far enough apart, round values otherwise. */
function xTicks(xs: number[], axis: Axis, box: PlotBox): number[] {
  const distinct = [...new Set(xs)].sort((a, b) => a - b);
  if (distinct.length === 0 || distinct.length > 12) return axis.ticks;
  const positions = distinct.map((x) => project(axis, x, box.left, box.right));
  const widest = Math.max(...distinct.map((x) => textWidth(formatNumber(x), LABEL_SIZE)));
  for (let i = 1; i < positions.length; i++) {
    if ((positions[i] as number) - (positions[i - 1] as number) < widest + 8) return axis.ticks;
  }
  return distinct;
}

export function renderLineChart(spec: LineChartSpec): string {
  const kind = spec.yScale ?? "linear";
  const width = spec.width ?? 820;
  const styled = spec.series.map((series, i) => ({
    ...series,
    color: series.color ?? (PALETTE[i % PALETTE.length] as string),
    marker: series.marker ?? (MARKERS[i % MARKERS.length] as MarkerShape),
  }));
  const entries: LegendEntry[] = styled.map((s) => ({
    name: s.points.some((p) => drawable(kind, p.y)) ? s.name : `${s.name} (no data)`,
    color: s.color,
    dash: s.dash,
    marker: s.marker,
  }));
  entries.push(...referenceEntries(spec.references ?? []));
  const legendW = legendWidth(entries);
  const minHeight = 72 + entries.length * LEGEND_ROW + 64;
  const height = Math.max(spec.height ?? 440, minHeight) + notesHeight(spec, width);
  const box: PlotBox = {
    left: 72,
    top: 72,
    right: width - legendW - 28,
    bottom: height - 64 - notesHeight(spec, width),
  };

  const xs = styled.flatMap((s) => s.points.map((p) => p.x)).filter(Number.isFinite);
  const ys = styled.flatMap((s) => s.points.map((p) => p.y)).filter((y): y is number => drawable(kind, y));
  const refYs = (spec.references ?? []).map((r) => r.y).filter((y) => drawable(kind, y));
  const yAxis = kind === "log" ? logAxis([...ys, ...refYs]) : linearAxis([...ys, ...refYs]);
  const xAxis = linearAxis(xs, 6, true);

  const body: string[] = [];
  body.push(valueAxis(yAxis, box, spec.yLabel));
  const ticks = xTicks(xs, xAxis, box);
  body.push(
    el(
      "g",
      { class: "x-axis" },
      ticks.map((tick) => {
        const x = project(xAxis, tick, box.left, box.right);
        return [
          el("line", { x1: x, y1: box.top, x2: x, y2: box.bottom, stroke: GRID, "stroke-width": 1 }),
          el("line", { x1: x, y1: box.bottom, x2: x, y2: box.bottom + 5, stroke: MUTED, "stroke-width": 1 }),
          text(x, box.bottom + 20, formatNumber(tick), {
            "text-anchor": "middle",
            "font-size": LABEL_SIZE,
            fill: MUTED,
          }),
        ].join("");
      }),
    ),
  );
  body.push(axisLines(box));
  body.push(xAxisTitle(box, box.bottom + 44, spec.xLabel));
  body.push(referenceLines(spec.references ?? [], yAxis, box));

  if (ys.length === 0) body.push(noData(box, "no data"));
  for (const series of styled) {
    const segments: string[][] = [];
    let current: string[] = [];
    const markers: string[] = [];
    for (const point of [...series.points].sort((a, b) => a.x - b.x)) {
      if (!Number.isFinite(point.x) || !drawable(kind, point.y)) {
        if (current.length > 0) segments.push(current);
        current = [];
        continue;
      }
      const x = project(xAxis, point.x, box.left, box.right);
      const y = project(yAxis, point.y, box.bottom, box.top);
      current.push(`${px(x)},${px(y)}`);
      markers.push(
        marker(
          series.marker,
          x,
          y,
          series.color,
          `${series.name}: ${formatNumber(point.x)} → ${formatNumber(point.y)}`,
        ),
      );
    }
    if (current.length > 0) segments.push(current);
    const lines = segments
      .filter((segment) => segment.length > 1)
      .map((segment) =>
        el("polyline", {
          points: segment.join(" "),
          fill: "none",
          stroke: series.color,
          "stroke-width": 2,
          "stroke-dasharray": series.dash,
          "stroke-linejoin": "round",
        }),
      );
    body.push(el("g", { class: "series", "data-series": series.name }, [...lines, ...markers]));
  }
  body.push(legend(entries, box.right + 24, box.top + 6));

  const description = `${spec.title}: ${spec.yLabel} against ${spec.xLabel} for ${styled.map((s) => s.name).join(", ")}.`;
  return svgDocument(width, height, spec, description, body);
}
