/**
 * A grouped bar chart (categories along x, one bar per series in each group) as a
 * self-contained SVG, each bar labelled with its value; goal lines across. Linear value axis
 * from zero: bar lengths are only honest from zero.
 */
import {
  axisLines,
  type ChartText,
  LABEL_SIZE,
  LEGEND_ROW,
  type LegendEntry,
  legend,
  legendWidth,
  MUTED,
  NOTE_SIZE,
  noData,
  notesHeight,
  type PlotBox,
  type ReferenceLine,
  referenceEntries,
  referenceLines,
  svgDocument,
  valueAxis,
} from "./chart-parts.js";
import { linearAxis, project } from "./scale.js";
import { el, escapeXml, formatNumber, PALETTE, text } from "./svg.js";

export interface BarSeries {
  name: string;
  /** One value per category; null = not measured (no bar, "n/a" label). */
  values: (number | null)[];
  color?: string;
}

export interface BarChartSpec extends ChartText {
  yLabel: string;
  categories: string[];
  series: BarSeries[];
  references?: ReferenceLine[];
  width?: number;
  height?: number;
}

export function renderBarChart(spec: BarChartSpec): string {
  for (const series of spec.series) {
    if (series.values.length !== spec.categories.length)
      throw new Error(
        `bar series "${series.name}" has ${series.values.length} values for ${spec.categories.length} categories`,
      );
  }
  const width = spec.width ?? 820;
  const styled = spec.series.map((s, i) => ({
    ...s,
    color: s.color ?? (PALETTE[i % PALETTE.length] as string),
  }));
  const entries: LegendEntry[] = [
    ...styled.map((s) => ({ name: s.name, color: s.color, swatch: true })),
    ...referenceEntries(spec.references ?? []),
  ];
  const legendW = legendWidth(entries);
  const height =
    Math.max(spec.height ?? 400, 72 + entries.length * LEGEND_ROW + 48) + notesHeight(spec, width);
  const box: PlotBox = {
    left: 72,
    top: 72,
    right: width - legendW - 28,
    bottom: height - 48 - notesHeight(spec, width),
  };

  const values = styled.flatMap((s) => s.values).filter((v): v is number => v !== null && Number.isFinite(v));
  const axis = linearAxis([...values, ...(spec.references ?? []).map((r) => r.y)], 5, true);
  const body: string[] = [valueAxis(axis, box, spec.yLabel)];

  const groupWidth = (box.right - box.left) / Math.max(1, spec.categories.length);
  const barWidth = (groupWidth * 0.7) / Math.max(1, styled.length);
  const zeroY = project(axis, 0, box.bottom, box.top);
  spec.categories.forEach((category, c) => {
    const groupLeft = box.left + c * groupWidth + groupWidth * 0.15;
    body.push(
      text(box.left + (c + 0.5) * groupWidth, box.bottom + 20, category, {
        "text-anchor": "middle",
        "font-size": LABEL_SIZE,
        fill: MUTED,
      }),
    );
    styled.forEach((series, s) => {
      const value = series.values[c] ?? null;
      const x = groupLeft + s * barWidth;
      const label = value === null || !Number.isFinite(value) ? "n/a" : formatNumber(value);
      const top =
        value === null || !Number.isFinite(value) ? zeroY : project(axis, value, box.bottom, box.top);
      body.push(
        el("g", { class: "bar", "data-series": series.name, "data-category": category }, [
          el(
            "rect",
            {
              x: x + 1,
              y: Math.min(top, zeroY),
              width: Math.max(1, barWidth - 2),
              height: Math.abs(zeroY - top),
              fill: series.color,
            },
            el("title", {}, escapeXml(`${series.name}, ${category}: ${label}`)),
          ),
          text(x + barWidth / 2, Math.min(top, zeroY) - 4, label, {
            "text-anchor": "middle",
            "font-size": NOTE_SIZE,
            fill: MUTED,
          }),
        ]),
      );
    });
  });
  if (values.length === 0) body.push(noData(box, "no data"));
  body.push(axisLines(box));
  body.push(referenceLines(spec.references ?? [], axis, box));
  body.push(legend(entries, box.right + 24, box.top + 6));
  const description = `${spec.title}: ${spec.yLabel} for ${spec.categories.join(", ")}; series ${styled.map((s) => s.name).join(", ")}.`;
  return svgDocument(width, height, spec, description, body);
}
