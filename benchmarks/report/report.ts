/**
 * Turns one suite run's result files into summary.md and the SVG charts in the same results
 * directory, and (with --publish) copies them to docs/benchmarks/ for the README.
 */
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { combineLoadRuns } from "./load-medians.js";
import { type ChartFile, suiteCharts } from "./suite-charts.js";
import type { SuiteManifest } from "./suite-manifest.js";
import {
  type AnswerResult,
  type FramesResult,
  type LoadPoint,
  readAnswerResult,
  readFramesResult,
  readLoadPoint,
} from "./suite-results.js";
import { renderSummary } from "./summary-markdown.js";

export const SUMMARY_FILE = "summary.md";

export interface SuiteReport {
  answer: AnswerResult | null;
  frames: FramesResult | null;
  load: LoadPoint[];
  charts: ChartFile[];
  summary: string;
}

/** Reads the manifest's result files and renders the summary and charts (nothing written). */
export function buildReport(dir: string, manifest: SuiteManifest): SuiteReport {
  const answer = manifest.files.answer === null ? null : readAnswerResult(dir, manifest.files.answer);
  const frames = manifest.files.frames === null ? null : readFramesResult(dir, manifest.files.frames);
  // Repeated runs of a call count (--repeat) become one point: the median of each figure.
  const load = combineLoadRuns(manifest.files.load.map((file) => readLoadPoint(dir, file)));
  const charts = suiteCharts({ answer, frames, load });
  const summary = renderSummary({ manifest, answer, frames, load, charts });
  return { answer, frames, load, charts, summary };
}

/** Writes summary.md and charts/*.svg under `dir`; returns the paths written. */
export function writeReport(dir: string, report: SuiteReport): string[] {
  const written: string[] = [];
  mkdirSync(path.join(dir, "charts"), { recursive: true });
  for (const chart of report.charts) {
    const file = path.join(dir, chart.file);
    writeFileSync(file, chart.svg);
    written.push(file);
  }
  const summary = path.join(dir, SUMMARY_FILE);
  writeFileSync(summary, report.summary);
  written.push(summary);
  return written;
}

/** Copies summary.md and the charts to `target` (docs/benchmarks), same layout. */
export function publishReport(dir: string, report: SuiteReport, target: string): string[] {
  mkdirSync(path.join(target, "charts"), { recursive: true });
  const copied: string[] = [];
  for (const relative of [SUMMARY_FILE, ...report.charts.map((c) => c.file)]) {
    const to = path.join(target, relative);
    copyFileSync(path.join(dir, relative), to);
    copied.push(to);
  }
  return copied;
}
