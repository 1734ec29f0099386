/**
 * The report printed at the end of the demo and of `teams-media-bot dev`: one place for what is
 * measured and how it is printed, so both show the same figures.
 */
import { readdir } from "node:fs/promises";
import path from "node:path";
import type { SessionStats } from "../emulator/media/emulated-session.js";
import { histogramWindow, quantileUpperBoundMs, type Scrape, sumOf } from "../metrics/prometheus-text.js";

export interface DemoReport {
  /** The call's id (the first call's when there were several). */
  callId: string;
  /** Number of calls placed (1 for the demo). */
  calls: number;
  /** The bot joined a meeting (`dev --meeting`): answerMs is then createCall -> Graph's 201. */
  joined?: boolean;
  /** Notification -> Graph 202, ms (the slowest call's). */
  answerMs: number;
  /** Call placed -> established, ms (the slowest call's). */
  establishedMs: number;
  framesToBot: number;
  framesFromBot: number;
  transitP50Ms: number;
  transitP99Ms: number;
  latenessP50Ms: number;
  latenessP99Ms: number;
  echoRoundTripP50Ms: number;
  framesDropped: number;
  /** Frames the bot's own barge-in clear() discarded: intended, not drops. */
  framesCleared: number;
  recordingPath: string | undefined;
  /** How the call(s) ended: "code/subcode message", one per distinct ending. */
  endedWith: string;
  totalSeconds: number;
}

/** The media figures of a report, from the worker's metrics and the emulator's session stats. */
export function mediaFigures(
  metrics: Scrape,
  sessions: readonly SessionStats[],
): Pick<
  DemoReport,
  | "framesToBot"
  | "framesFromBot"
  | "framesDropped"
  | "framesCleared"
  | "transitP50Ms"
  | "transitP99Ms"
  | "latenessP50Ms"
  | "latenessP99Ms"
  | "echoRoundTripP50Ms"
> {
  const echoed = sessions.filter((s) => s.echo.count > 0);
  return {
    framesToBot: sumOf(metrics, "media_frames_received_total"),
    framesFromBot: sumOf(metrics, "media_frames_sent_total"),
    framesDropped: sumOf(metrics, "media_frames_dropped_total"),
    framesCleared: sumOf(metrics, 'media_frames_cleared_total{reason="barge_in"}'),
    transitP50Ms: percentileMs(metrics, "media_frame_transit_seconds", 0.5),
    transitP99Ms: percentileMs(metrics, "media_frame_transit_seconds", 0.99),
    latenessP50Ms: percentileMs(metrics, "media_render_lateness_seconds", 0.5),
    latenessP99Ms: percentileMs(metrics, "media_render_lateness_seconds", 0.99),
    echoRoundTripP50Ms: round(median(echoed.map((s) => s.echo.p50Ms))),
  };
}

export function formatReport(r: DemoReport): string {
  const rows: [string, string][] = [
    ...(r.calls > 1 ? ([["calls placed", String(r.calls)]] as [string, string][]) : []),
    ...((r.joined
      ? [
          ["time to join accepted (createCall -> Graph 201)", `${r.answerMs} ms`],
          ["time to established (join -> established, lobby included)", `${r.establishedMs} ms`],
        ]
      : [
          [`time to answer (notification -> Graph 202)${r.calls > 1 ? ", slowest" : ""}`, `${r.answerMs} ms`],
          [
            `time to established (call placed -> established)${r.calls > 1 ? ", slowest" : ""}`,
            `${r.establishedMs} ms`,
          ],
        ]) as [string, string][]),
    ["frames received by the bot / sent by the bot", `${r.framesToBot} / ${r.framesFromBot}`],
    ["frame transit p50 / p99 (bridge -> handler)", `<= ${r.transitP50Ms} / <= ${r.transitP99Ms} ms`],
    ["render lateness p50 / p99 (deadline -> sent)", `<= ${r.latenessP50Ms} / <= ${r.latenessP99Ms} ms`],
    [
      "echo round trip p50 (caller -> bot -> caller)",
      Number.isNaN(r.echoRoundTripP50Ms)
        ? "none measured (no caller frame came back)"
        : `${r.echoRoundTripP50Ms} ms`,
    ],
    ["frames dropped", String(r.framesDropped)],
    ["frames cleared (barge-in)", String(r.framesCleared)],
    ["call ended", r.endedWith],
    ["recording", r.recordingPath ?? "none"],
    ["took", `${r.totalSeconds} s`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return ["", "Report", ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)].join("\n");
}

/** Adds what is known once everything has stopped: the recording's path and the run's duration. */
export async function finishReport(
  report: Partial<DemoReport>,
  recordingsDir: string,
  startedAtMs: number,
): Promise<DemoReport> {
  report.recordingPath = await findRecording(recordingsDir, report.callId as string);
  report.totalSeconds = round((performance.now() - startedAtMs) / 1000);
  return report as DemoReport;
}

/** The mixed recording of a call under the recordings folder, if the bot made one. */
export async function findRecording(dir: string, callId: string): Promise<string | undefined> {
  try {
    const files = await readdir(dir, { recursive: true });
    const match = files.find((f) => f.includes(callId) && f.endsWith(".wav") && !/speaker/i.test(f));
    return match ? path.join(dir, match) : undefined;
  } catch {
    return undefined;
  }
}

/** The worker keeps bucket counts: a percentile is reported as its bucket's upper bound. */
function percentileMs(scrape: Scrape, histogram: string, q: number): number {
  const empty: Scrape = new Map();
  return round(quantileUpperBoundMs(histogramWindow(empty, scrape, histogram), q) ?? Number.NaN);
}

function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** How a call ended, from its Graph resultInfo: "code/subcode message". */
export function describeEnding(
  info: { code?: number; subcode?: number; message?: string } | undefined,
): string {
  return `${info?.code}/${info?.subcode} ${info?.message ?? ""}`.trim();
}

export function round(value: number): number {
  return Math.round(value * 10) / 10;
}
