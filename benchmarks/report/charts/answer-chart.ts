/**
 * Answer latency percentiles as dots on a log axis: p50 is a few milliseconds where the
 * maximum is hundreds, and on a linear axis from zero the p50 bar was too short to see.
 * Each dot is labelled with its value; the goals are lines.
 */
import type { TopLevelSpec } from "vega-lite";
import type { AnswerResult } from "../suite-results.js";
import {
  CHART_CONFIG,
  CHART_HEIGHT,
  COLORS,
  chartTitle,
  type GoalLine,
  goalLayers,
  machineLine,
} from "./chart-style.js";

export interface AnswerRow {
  percentile: string;
  interval: string;
  ms: number;
}

const SENT = "notification → answer sent (the bot's own cost)";
const TO_202 = "notification → Graph's 202 (includes the emulator)";

export function answerTitle(answer: AnswerResult): string {
  const calls =
    answer.answered === answer.calls
      ? `${answer.calls} incoming calls`
      : `${answer.answered} of ${answer.calls} calls answered`;
  return `Answer latency: ${calls} at ${answer.ratePerSecond}/s`;
}

/** Percentiles of nothing are not zeros: no rows when no call was answered. */
export function answerRows(answer: AnswerResult): AnswerRow[] {
  if (answer.answered === 0) return [];
  return [
    [SENT, answer.toSent],
    [TO_202, answer.to202],
  ].flatMap(([interval, p]) => {
    const figures = p as AnswerResult["toSent"];
    return [
      { percentile: "p50", interval: interval as string, ms: figures.p50Ms },
      { percentile: "p99", interval: interval as string, ms: figures.p99Ms },
      { percentile: "max", interval: interval as string, ms: figures.maxMs },
    ].filter((row) => row.ms > 0);
  });
}

export function answerChart(answer: AnswerResult): TopLevelSpec {
  const goals: GoalLine[] = [];
  if (answer.goalP99Ms !== null)
    goals.push({
      label: `goal: answer sent p99 ≤ ${answer.goalP99Ms} ms`,
      value: answer.goalP99Ms,
      color: COLORS.blue,
    });
  if (answer.goalP50Ms !== null)
    goals.push({
      label: `goal: answer sent p50 ≤ ${answer.goalP50Ms} ms`,
      value: answer.goalP50Ms,
      color: COLORS.blue,
    });
  const x = {
    field: "percentile",
    type: "ordinal" as const,
    title: null,
    scale: { domain: ["p50", "p99", "max"] },
    axis: { labelAngle: 0 },
  };
  const xOffset = { field: "interval", type: "nominal" as const, scale: { domain: [SENT, TO_202] } };
  const y = {
    field: "ms",
    type: "quantitative" as const,
    title: "milliseconds (log scale)",
    scale: { type: "log" as const },
  };
  const rows = answerRows(answer);
  const data = { values: rows };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    description: `${answerTitle(answer)}: p50, p99 and max in milliseconds on a log axis`,
    title: chartTitle(answerTitle(answer), machineLine(answer.machine), [
      "HDR histograms in the bot; the Graph emulator runs in its own process.",
    ]),
    config: CHART_CONFIG,
    width: 420,
    height: CHART_HEIGHT,
    layer: [
      {
        data,
        mark: { type: "point", filled: true, size: 90, opacity: 1 },
        encoding: {
          x,
          xOffset,
          y,
          color: {
            field: "interval",
            type: "nominal",
            title: null,
            scale: { domain: [SENT, TO_202], range: [COLORS.blue, COLORS.orange] },
            legend: { orient: "bottom", columns: 1 },
          },
        },
      },
      {
        data,
        mark: { type: "text", align: "left", dx: 8, fontSize: 10 },
        encoding: { x, xOffset, y, text: { field: "ms", type: "quantitative", format: ".3~r" } },
      },
      ...goalLayers(goals),
      ...(rows.length > 0
        ? []
        : [
            {
              data: { values: [{}] },
              mark: {
                type: "text" as const,
                text: "no call answered: no latency to show",
                x: { expr: "width / 2" },
                y: { expr: "height / 2" },
                fontSize: 13,
              },
            },
          ]),
    ],
  };
}
