/**
 * Turns one suite run's result files into summary.md and the SVG charts in the same results
 * directory, and (with --publish) copies them, with the result files they came from, to
 * docs/benchmarks/ and writes the headline table and charts into README.md.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { combineLoadRuns } from "./load-medians.js";
import { type ChartFile, suiteCharts } from "./suite-charts.js";
import { MANIFEST_FILE, type SuiteManifest } from "./suite-manifest.js";
import {
  type AnswerResult,
  type FramesResult,
  type JoinResult,
  type LoadPoint,
  readAnswerResult,
  readFramesResult,
  readJoinResult,
  readLoadPoint,
} from "./suite-results.js";
import { headlineTable, renderSummary } from "./summary-markdown.js";

export const SUMMARY_FILE = "summary.md";
/** Where --publish puts the run's result files, under docs/benchmarks/. */
export const PUBLISHED_RESULTS_DIR = "results";
/** The README's generated block: --publish replaces what is between these lines. */
export const README_START = "<!-- benchmark-headline:start (written by npm run bench -- --publish) -->";
export const README_END = "<!-- benchmark-headline:end -->";

export interface SuiteReport {
  manifest: SuiteManifest;
  answer: AnswerResult | null;
  frames: FramesResult | null;
  load: LoadPoint[];
  join: { result: JoinResult; shownAs: string } | null;
  charts: ChartFile[];
  summary: string;
}

export interface ReportSources {
  /**
   * A directory of published join-latency results (docs/benchmarks/join): the suite does not
   * run meeting joins, so the headline's join row is the newest file there.
   */
  joinDir?: string;
  /** How to show that directory in the table (e.g. "docs/benchmarks/join"). */
  joinShownAs?: string;
}

const JOIN_FILE = /^join-latency-.+\.json$/;

/** The newest join-latency result in `dir` (names carry their ISO time, so they sort). */
function newestJoin(sources: ReportSources): SuiteReport["join"] {
  const dir = sources.joinDir;
  if (dir === undefined || !existsSync(dir)) return null;
  const newest = readdirSync(dir)
    .filter((f) => JOIN_FILE.test(f))
    .sort()
    .at(-1);
  if (newest === undefined) return null;
  return { result: readJoinResult(dir, newest), shownAs: `${sources.joinShownAs ?? dir}/${newest}` };
}

/** Reads the manifest's result files and renders the summary and charts (nothing written). */
export async function buildReport(
  dir: string,
  manifest: SuiteManifest,
  sources: ReportSources = {},
): Promise<SuiteReport> {
  const answer = manifest.files.answer === null ? null : readAnswerResult(dir, manifest.files.answer);
  const frames = manifest.files.frames === null ? null : readFramesResult(dir, manifest.files.frames);
  // Repeated runs of a call count (--repeat) become one point: the median of each figure.
  const load = combineLoadRuns(manifest.files.load.map((file) => readLoadPoint(dir, file)));
  const join = newestJoin(sources);
  const charts = await suiteCharts({ answer, frames, load });
  const summary = renderSummary({ manifest, answer, frames, load, join, charts });
  return { manifest, answer, frames, load, join, charts, summary };
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

/**
 * Copies summary.md, the charts and the run's result files (with its manifest) to `target`
 * (docs/benchmarks): the charts under charts/, the result files under results/, which holds
 * only the latest published run's. Returns the paths written.
 */
export function publishReport(dir: string, report: SuiteReport, target: string): string[] {
  mkdirSync(path.join(target, "charts"), { recursive: true });
  const copied: string[] = [];
  for (const relative of [SUMMARY_FILE, ...report.charts.map((c) => c.file)]) {
    const to = path.join(target, relative);
    copyFileSync(path.join(dir, relative), to);
    copied.push(to);
  }
  const results = path.join(target, PUBLISHED_RESULTS_DIR);
  rmSync(results, { recursive: true, force: true });
  mkdirSync(results, { recursive: true });
  const files = report.manifest.files;
  for (const name of [MANIFEST_FILE, files.answer, files.frames, ...files.load]) {
    if (name === null) continue;
    const to = path.join(results, name);
    copyFileSync(path.join(dir, name), to);
    copied.push(to);
  }
  return copied;
}

/** The README's generated block: the headline table and the charts, paths as the README sees them. */
export function readmeBlock(report: SuiteReport, chartsPrefix: string): string {
  const m = report.manifest;
  const commits = [
    ...new Set(
      [report.answer, report.frames, ...report.load].flatMap((r) => (r ? [r.machine.gitCommit] : [])),
    ),
  ];
  const machine = (report.load[0] ?? report.answer ?? report.frames)?.machine;
  const lines = [
    README_START,
    `From \`${m.command}\`, finished ${m.recordedAt}${machine ? ` on ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}` : ""}; commit ${commits.map((c) => `\`${c}\``).join(", ")}. Result files: \`${chartsPrefix}${PUBLISHED_RESULTS_DIR}/\`.`,
    "",
    headlineTable(report),
    "",
    ...report.charts.flatMap((c) => [`![${c.title}](${chartsPrefix}${c.file})`, ""]),
    README_END,
  ];
  return lines.join("\n");
}

/** Replaces the generated block of `readmeFile` with this report's; fails when the markers are missing. */
export function publishReadme(readmeFile: string, report: SuiteReport, chartsPrefix: string): void {
  const text = readFileSync(readmeFile, "utf8");
  const start = text.indexOf(README_START);
  const end = text.indexOf(README_END);
  if (start < 0 || end < start)
    throw new Error(
      `${readmeFile}: no "${README_START}" ... "${README_END}" block to write the headline into`,
    );
  writeFileSync(
    readmeFile,
    `${text.slice(0, start)}${readmeBlock(report, chartsPrefix)}${text.slice(end + README_END.length)}`,
  );
}
