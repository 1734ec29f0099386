/**
 * What the line and bar charts share: the document (viewBox, background, title, subtitle,
 * accessible title/description), the value axis with its gridlines, the legend, point
 * markers and reference (goal) lines. All sizes in the SVG's own pixels.
 */
import { type Axis, project } from "./scale.js";
import {
  type Attributes,
  el,
  escapeXml,
  FONT_FAMILY,
  formatNumber,
  px,
  text,
  textWidth,
  wrapText,
} from "./svg.js";

export interface ChartText {
  title: string;
  /** A second, smaller line under the title: what the chart was measured on. */
  subtitle?: string;
  /** Lines under the chart (e.g. "bucket upper bounds"), smallest type. */
  notes?: string[];
}

/** A horizontal line at a goal value, labelled on the plot. */
export interface ReferenceLine {
  label: string;
  y: number;
  color?: string;
}

export type MarkerShape = "circle" | "square" | "triangle" | "diamond" | "cross";
export const MARKERS: MarkerShape[] = ["circle", "square", "triangle", "diamond", "cross"];

export interface LegendEntry {
  name: string;
  color: string;
  /** stroke-dasharray of the entry's line; none = solid. */
  dash?: string;
  marker?: MarkerShape;
  /** A filled swatch (bars) instead of a line sample. */
  swatch?: boolean;
}

export interface PlotBox {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

const INK = "#222222";
const MUTED = "#555555";
const GRID = "#dddddd";
export const TITLE_SIZE = 18;
export const LABEL_SIZE = 12;
export const NOTE_SIZE = 11;
export const LEGEND_ROW = 20;

/** The outer document: fixed size with a viewBox so it scales, a white background for dark themes. */
export function svgDocument(
  width: number,
  height: number,
  chart: ChartText,
  description: string,
  body: string[],
): string {
  const head = [
    el("title", { id: "chart-title" }, escapeXml(chart.title)),
    el("desc", { id: "chart-desc" }, escapeXml(description)),
    el("rect", { x: 0, y: 0, width, height, fill: "#ffffff" }),
    text(width / 2, 28, chart.title, {
      "text-anchor": "middle",
      "font-size": TITLE_SIZE,
      "font-weight": "bold",
      fill: INK,
    }),
  ];
  if (chart.subtitle)
    head.push(
      text(width / 2, 48, chart.subtitle, { "text-anchor": "middle", "font-size": LABEL_SIZE, fill: MUTED }),
    );
  const lines = noteLines(chart, width);
  const notes = lines.map((note, i) =>
    text(12, height - 10 - (lines.length - 1 - i) * (NOTE_SIZE + 4), note, {
      "font-size": NOTE_SIZE,
      fill: MUTED,
    }),
  );
  const root: Attributes = {
    xmlns: "http://www.w3.org/2000/svg",
    viewBox: `0 0 ${px(width)} ${px(height)}`,
    width,
    height,
    role: "img",
    "aria-labelledby": "chart-title chart-desc",
    "font-family": FONT_FAMILY,
  };
  return `<?xml version="1.0" encoding="UTF-8"?>\n${el("svg", root, ["\n", ...head, ...body, ...notes, "\n"].join(""))}\n`;
}

function noteLines(chart: ChartText, width: number): string[] {
  return (chart.notes ?? []).flatMap((note) => wrapText(note, width - 24, NOTE_SIZE));
}

/** Height the notes (wrapped to the width) take at the bottom of the document. */
export function notesHeight(chart: ChartText, width: number): number {
  const count = noteLines(chart, width).length;
  return count === 0 ? 0 : count * (NOTE_SIZE + 4) + 6;
}

/** Value axis on the left: gridlines across the plot, tick labels, and the rotated axis title. */
export function valueAxis(axis: Axis, box: PlotBox, label: string): string {
  const parts: string[] = [];
  for (const tick of axis.ticks) {
    const y = project(axis, tick, box.bottom, box.top);
    parts.push(el("line", { x1: box.left, y1: y, x2: box.right, y2: y, stroke: GRID, "stroke-width": 1 }));
    parts.push(
      text(box.left - 8, y + 4, formatNumber(tick), {
        "text-anchor": "end",
        "font-size": LABEL_SIZE,
        fill: MUTED,
      }),
    );
  }
  const middle = (box.top + box.bottom) / 2;
  parts.push(
    text(18, middle, label, {
      "text-anchor": "middle",
      "font-size": LABEL_SIZE,
      fill: INK,
      transform: `rotate(-90 18 ${px(middle)})`,
    }),
  );
  return el("g", { class: "y-axis" }, parts);
}

/** The plot's frame (left and bottom axis lines). */
export function axisLines(box: PlotBox): string {
  return el("g", { class: "axis-lines", stroke: INK, "stroke-width": 1 }, [
    el("line", { x1: box.left, y1: box.top, x2: box.left, y2: box.bottom }),
    el("line", { x1: box.left, y1: box.bottom, x2: box.right, y2: box.bottom }),
  ]);
}

export function xAxisTitle(box: PlotBox, y: number, label: string): string {
  return text((box.left + box.right) / 2, y, label, {
    "text-anchor": "middle",
    "font-size": LABEL_SIZE,
    fill: INK,
  });
}

/** Dotted horizontal lines at goals; their labels go in the legend (see referenceEntries). */
export function referenceLines(lines: readonly ReferenceLine[], axis: Axis, box: PlotBox): string {
  const parts = lines.map((line) => {
    const y = project(axis, line.y, box.bottom, box.top);
    if (!Number.isFinite(y)) return "";
    return el("line", {
      class: "reference",
      "data-reference": line.label,
      x1: box.left,
      y1: y,
      x2: box.right,
      y2: y,
      stroke: line.color ?? MUTED,
      "stroke-width": 1.5,
      "stroke-dasharray": REFERENCE_DASH,
    });
  });
  return el("g", { class: "references" }, parts);
}

const REFERENCE_DASH = "2 4";

/** Legend rows for goal lines, drawn like the lines themselves. */
export function referenceEntries(lines: readonly ReferenceLine[]): LegendEntry[] {
  return lines.map((line) => ({ name: line.label, color: line.color ?? MUTED, dash: REFERENCE_DASH }));
}

/** A point marker centred on (x, y); `title` becomes its hover text in a browser. */
export function marker(shape: MarkerShape, x: number, y: number, color: string, title?: string): string {
  const r = 4;
  const hover = title === undefined ? "" : el("title", {}, escapeXml(title));
  const paint = { fill: color, stroke: "#ffffff", "stroke-width": 1 };
  switch (shape) {
    case "circle":
      return el("circle", { cx: x, cy: y, r, ...paint }, hover);
    case "square":
      return el("rect", { x: x - r, y: y - r, width: 2 * r, height: 2 * r, ...paint }, hover);
    case "triangle":
      return el(
        "path",
        {
          d: `M${px(x)} ${px(y - r - 1)}L${px(x + r + 1)} ${px(y + r)}L${px(x - r - 1)} ${px(y + r)}Z`,
          ...paint,
        },
        hover,
      );
    case "diamond":
      return el(
        "path",
        {
          d: `M${px(x)} ${px(y - r - 1)}L${px(x + r + 1)} ${px(y)}L${px(x)} ${px(y + r + 1)}L${px(x - r - 1)} ${px(y)}Z`,
          ...paint,
        },
        hover,
      );
    case "cross":
      return el(
        "path",
        {
          d: `M${px(x - r)} ${px(y - r)}L${px(x + r)} ${px(y + r)}M${px(x - r)} ${px(y + r)}L${px(x + r)} ${px(y - r)}`,
          stroke: color,
          "stroke-width": 2,
          fill: "none",
        },
        hover,
      );
  }
}

/** Width the legend needs for its longest entry. */
export function legendWidth(entries: readonly LegendEntry[]): number {
  const longest = Math.max(0, ...entries.map((e) => textWidth(e.name, LABEL_SIZE)));
  return 36 + longest;
}

/** One row per entry: a line sample (with its marker) or a swatch, then the name. */
export function legend(entries: readonly LegendEntry[], x: number, y: number): string {
  const rows = entries.map((entry, i) => {
    const rowY = y + i * LEGEND_ROW;
    const sample = entry.swatch
      ? el("rect", { x, y: rowY - 6, width: 24, height: 12, fill: entry.color })
      : [
          el("line", {
            x1: x,
            y1: rowY,
            x2: x + 24,
            y2: rowY,
            stroke: entry.color,
            "stroke-width": 2,
            "stroke-dasharray": entry.dash,
          }),
          entry.marker ? marker(entry.marker, x + 12, rowY, entry.color) : "",
        ].join("");
    return el("g", { class: "legend-entry", "data-series": entry.name }, [
      sample,
      text(x + 32, rowY + 4, entry.name, { "font-size": LABEL_SIZE, fill: INK }),
    ]);
  });
  return el("g", { class: "legend" }, rows);
}

/** Centred text in the plot when there is nothing to draw. */
export function noData(box: PlotBox, message: string): string {
  return text((box.left + box.right) / 2, (box.top + box.bottom) / 2, message, {
    "text-anchor": "middle",
    "font-size": LABEL_SIZE + 2,
    fill: MUTED,
  });
}

export { GRID, INK, MUTED };
