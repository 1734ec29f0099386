/**
 * What every chart of the suite shares: the look (fonts, colours that survive colour-vision
 * deficiencies, a white background for dark themes), the title block (the machine and commit
 * under the title, then notes such as "bucket upper bounds"), and goal lines.
 */
import type { Config, TopLevelSpec } from "vega-lite";
import type { Machine } from "../suite-results.js";

/** Okabe-Ito colours: told apart with the common colour-vision deficiencies. */
export const COLORS = {
  blue: "#0072B2",
  vermillion: "#D55E00",
  green: "#009E73",
  pink: "#CC79A7",
  orange: "#E69F00",
  sky: "#56B4E9",
  black: "#000000",
  grey: "#777777",
} as const;

export const CHART_WIDTH = 640;
export const CHART_HEIGHT = 300;

export const CHART_CONFIG: Config = {
  font: "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif",
  background: "white",
  padding: 12,
  title: { anchor: "start", fontSize: 16, subtitleFontSize: 11, subtitleColor: "#555555", offset: 12 },
  axis: {
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: "normal",
    gridColor: "#e5e5e5",
    labelLimit: 640,
  },
  legend: { labelFontSize: 11, titleFontSize: 11, labelLimit: 640, symbolStrokeWidth: 2 },
  view: { stroke: null },
};

/** "AMD EPYC · 2 cores · Node v20.20.2 · commit 41f32b0cfcff" */
export function machineLine(machine: Machine): string {
  return `${machine.cpuModel} · ${machine.cores} cores · Node ${machine.node} · commit ${machine.gitCommit}`;
}

/** Vega estimates text widths without a font (generously): longer lines widen the SVG past the plot. */
const NOTE_COLUMNS = 84;

/** Splits a note into lines of at most NOTE_COLUMNS characters, at spaces (a subtitle does not wrap). */
export function wrapNote(note: string, columns = NOTE_COLUMNS): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of note.split(/\s+/).filter((w) => w !== "")) {
    if (line !== "" && line.length + 1 + word.length > columns) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines;
}

/** The title block: the title, then the machine line and the notes under it. */
export function chartTitle(title: string, subtitle: string | undefined, notes: readonly string[] = []) {
  const lines = [...(subtitle === undefined ? [] : [subtitle]), ...notes.flatMap((n) => wrapNote(n))];
  return { text: title, subtitle: lines };
}

/** A horizontal goal line across the plot, labelled at its right end. */
export interface GoalLine {
  label: string;
  value: number;
  color: string;
}

/** One layer of a layered chart. */
export type Layer = Extract<TopLevelSpec, { layer: unknown }>["layer"][number];

/** A rule and its label for each goal, on the chart's quantitative y axis. */
export function goalLayers(goals: readonly GoalLine[]): Layer[] {
  // A layer needs a row to draw a mark from, even when its position is a constant.
  const data = { values: [{}] };
  return goals.flatMap((g): Layer[] => [
    {
      data,
      mark: { type: "rule", color: g.color, strokeDash: [2, 3], strokeWidth: 1.5 },
      encoding: { y: { datum: g.value, type: "quantitative" } },
    },
    {
      data,
      mark: {
        type: "text",
        color: g.color,
        align: "right",
        baseline: "bottom",
        dy: -2,
        x: "width",
        fontSize: 10,
        text: g.label,
      },
      encoding: { y: { datum: g.value, type: "quantitative" } },
    },
  ]);
}
