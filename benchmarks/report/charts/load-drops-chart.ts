/**
 * Frames dropped or trimmed in every bench:load run, a bar per run grouped by call count and
 * split by reason (the worker's media_frames_dropped_total reasons, latency_trim among them,
 * and the far end's own drops), each bar labelled with its total so a clean run reads "0".
 * Linear from zero: counts of frames, where a bar's length is only honest from zero.
 */
import type { TopLevelSpec } from "vega-lite";
import { HEADLINE_GOALS } from "../headline-goals.js";
import type { LoadPoint } from "../suite-results.js";
import { CHART_CONFIG, CHART_HEIGHT, CHART_WIDTH, COLORS, chartTitle, machineLine } from "./chart-style.js";

export const LOAD_DROPS_TITLE = "Frames dropped or trimmed, every run";

export interface DropRow {
  calls: string;
  run: string;
  reason: string;
  frames: number;
}

export interface DropTotal {
  calls: string;
  run: string;
  frames: number;
  file: string;
}

const FAR_END = "far end (backpressure, overflow, before ACTIVE)";
const UNSPLIT = "not split by reason (older file)";

/** One row per (run, reason) with frames > 0, and one total per run (0 included). */
export function dropRows(load: readonly LoadPoint[]): { rows: DropRow[]; totals: DropTotal[] } {
  const rows: DropRow[] = [];
  const totals: DropTotal[] = [];
  for (const point of load) {
    const calls = String(point.calls);
    point.runFigures.forEach((figures, i) => {
      const run = `run ${i + 1}`;
      totals.push({ calls, run, frames: figures.framesDropped, file: figures.file });
      let split = 0;
      for (const [reason, frames] of Object.entries(figures.workerDropsByReason)) {
        if (frames <= 0) continue;
        rows.push({ calls, run, reason: `worker: ${reason}`, frames });
        split += frames;
      }
      if (figures.farEndFramesDropped !== null && figures.farEndFramesDropped > 0) {
        rows.push({ calls, run, reason: FAR_END, frames: figures.farEndFramesDropped });
        split += figures.farEndFramesDropped;
      }
      if (figures.framesDropped > split)
        rows.push({ calls, run, reason: UNSPLIT, frames: figures.framesDropped - split });
    });
  }
  return { rows, totals };
}

/** A fixed colour per reason in first-seen order; latency_trim always vermillion. */
function reasonColors(reasons: readonly string[]): string[] {
  const others = [COLORS.blue, COLORS.pink, COLORS.orange, COLORS.sky, COLORS.green, COLORS.black];
  let next = 0;
  return reasons.map((reason) => {
    if (reason === "worker: latency_trim") return COLORS.vermillion;
    if (reason === FAR_END) return COLORS.grey;
    return others[next++ % others.length] as string;
  });
}

export function loadDropsChart(load: readonly LoadPoint[]): TopLevelSpec {
  const { rows, totals } = dropRows(load);
  const reasons = [...new Set(rows.map((r) => r.reason))];
  const callsOrder = [...new Set(totals.map((t) => t.calls))];
  const runsOrder = [...new Set(totals.map((t) => t.run))];
  const first = load[0];
  const x = {
    field: "calls",
    type: "ordinal" as const,
    title: "concurrent calls (a bar per run)",
    scale: { domain: callsOrder },
    axis: { labelAngle: 0 },
  };
  const xOffset = {
    field: "run",
    type: "nominal" as const,
    scale: { domain: runsOrder, paddingInner: 0.15 },
  };
  const atCalls = HEADLINE_GOALS.noDropsAtCalls.join(" and ");
  // From zero to the largest run's total, at least 1: a sweep without a drop still has an axis.
  const yScale = { domain: [0, Math.max(1, ...totals.map((t) => t.frames))], nice: true };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    description: `${LOAD_DROPS_TITLE}: frames by run and reason`,
    title: chartTitle(LOAD_DROPS_TITLE, first ? machineLine(first.machine) : undefined, [
      `Goal: no frame dropped or trimmed in any run at ${atCalls} calls. Worker: media_frames_dropped_total by reason over the window (latency_trim: live frames cut to the live target after a stall); far end: the media platform emulator's own drops.`,
    ]),
    config: CHART_CONFIG,
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    layer: [
      {
        data: { values: rows },
        mark: { type: "bar" },
        encoding: {
          x,
          xOffset,
          y: {
            field: "frames",
            type: "quantitative",
            aggregate: "sum",
            stack: "zero",
            title: "frames dropped in the run",
            scale: yScale,
            axis: { tickMinStep: 1, format: "d" },
          },
          color: {
            field: "reason",
            type: "nominal",
            title: null,
            scale: { domain: reasons, range: reasonColors(reasons) },
            legend: { orient: "bottom", columns: 1 },
          },
        },
      },
      {
        data: { values: totals },
        mark: { type: "text", baseline: "bottom", dy: -3, fontSize: 10 },
        encoding: {
          x,
          xOffset,
          y: { field: "frames", type: "quantitative", scale: yScale },
          text: { field: "frames", type: "quantitative", format: "d" },
        },
      },
    ],
  };
}
