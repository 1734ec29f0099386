/**
 * `npm run bench`: the three benchmarks one after another, each in its own process, then the
 * report (summary.md, charts) from exactly the result files this run wrote.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { machineInfo } from "../lib/results.js";
import { buildReport, publishReadme, publishReport, SUMMARY_FILE, writeReport } from "./report.js";
import { BENCHMARKS_DIR, type RunningBenchmark, runBenchmark } from "./run-benchmark.js";
import { MANIFEST_FILE, readManifest, type SuiteFailure, type SuiteManifest } from "./suite-manifest.js";
import { benchmarkRuns, runTimeoutMs, type SuitePlan } from "./suite-plan.js";

export const DOCS_DIR = path.join(BENCHMARKS_DIR, "..", "docs", "benchmarks");
export const README_FILE = path.join(BENCHMARKS_DIR, "..", "README.md");

export interface SuiteOutcome {
  manifest: SuiteManifest;
  /** Files written under the results directory (summary, charts, manifest). */
  written: string[];
  exitCode: number;
}

export interface SuiteIo {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** Where --publish copies to (tests point it at a temporary directory). */
  docsDir?: string;
  /**
   * The README whose headline block --publish rewrites: README.md by default, none (null) when
   * docsDir is given without it, so a test never writes the project's README.
   */
  readmeFile?: string | null;
}

/** Set while a benchmark runs, so a signal to the suite can stop it. */
let current: RunningBenchmark | undefined;

export function stopCurrentBenchmark(): Promise<unknown> {
  const running = current;
  if (!running) return Promise.resolve();
  running.stop();
  return running.done;
}

export async function runSuite(plan: SuitePlan, command: string, io: SuiteIo): Promise<SuiteOutcome> {
  const log = (line: string) => io.out.write(`${line}\n`);
  if (plan.publish && plan.mode === "smoke")
    throw new Error("--publish with --smoke would publish numbers that mean nothing; run without --smoke");
  const dir = plan.resultsDir;
  let manifest: SuiteManifest;
  if (plan.reportOnly) {
    manifest = readManifest(dir);
    log(`rebuilding the report of ${manifest.recordedAt} (${manifest.command}) in ${dir}`);
  } else {
    manifest = await runBenchmarks(plan, command, io);
  }

  const docsDir = io.docsDir ?? DOCS_DIR;
  const report = await buildReport(dir, manifest, {
    joinDir: path.join(docsDir, "join"),
    joinShownAs: "docs/benchmarks/join",
  });
  const written = writeReport(dir, report);
  log(`\n${report.summary}`);
  for (const file of written) log(`written ${file}`);
  let exitCode = manifest.failures.length > 0 ? 1 : 0;
  if (plan.publish) {
    if (manifest.mode === "smoke") {
      io.err.write("not published: a smoke run's numbers mean nothing\n");
      exitCode = 1;
    } else if (manifest.failures.length > 0) {
      io.err.write("not published: some benchmarks failed (see above)\n");
      exitCode = 1;
    } else {
      // The README first: a README without its generated block fails before anything is copied.
      const readme =
        io.readmeFile !== undefined ? io.readmeFile : io.docsDir === undefined ? README_FILE : null;
      if (readme !== null) {
        publishReadme(readme, report, "docs/benchmarks/");
        log(`published the headline table and charts in ${readme}`);
      }
      for (const file of publishReport(dir, report, docsDir)) log(`published ${file}`);
    }
  }
  return { manifest, written, exitCode };
}

async function runBenchmarks(plan: SuitePlan, command: string, io: SuiteIo): Promise<SuiteManifest> {
  const log = (line: string) => io.out.write(`${line}\n`);
  const dir = plan.resultsDir;
  mkdirSync(dir, { recursive: true });
  const started = performance.now();
  const files: SuiteManifest["files"] = { answer: null, frames: null, load: [] };
  const failures: SuiteFailure[] = [];
  const runs = benchmarkRuns(plan);
  const machine = machineInfo();
  log(
    `bench suite (${plan.mode}): ${runs.length} runs on ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, commit ${machine.gitCommit}`,
  );
  log(`results in ${dir}`);

  for (const [i, run] of runs.entries()) {
    log(`\n▶ [${i + 1}/${runs.length}] node --import tsx benchmarks/${run.script} ${run.args.join(" ")}`);
    const timeoutMs = runTimeoutMs(plan, run);
    current = runBenchmark(run.script, run.args, { timeoutMs, out: io.out, err: io.err });
    const exit = await current.done;
    current = undefined;
    const ours = exit.written.filter((file) => path.dirname(file) === dir && !file.endsWith("-latest.json"));
    const fail = (message: string) =>
      failures.push({ benchmark: run.script, args: run.args, exitCode: exit.code, message });
    if (exit.timedOut) fail(`stopped after ${Math.round(timeoutMs / 1000)} s`);
    else if (exit.code !== 0)
      fail(
        exit.signal
          ? `ended by ${exit.signal}`
          : run.benchmark === "answer"
            ? "not every call was answered"
            : "failed",
      );
    // bench:load --repeat N writes a result file per run.
    const expected = run.benchmark === "load" ? plan.load.repeat : 1;
    if (ours.length !== expected) {
      if (exit.code === 0) fail(`reported ${ours.length} result files in ${dir}, expected ${expected}`);
      continue;
    }
    const names = ours.map((file) => path.basename(file));
    if (run.benchmark === "answer") files.answer = names[0] as string;
    else if (run.benchmark === "frames") files.frames = names[0] as string;
    else files.load.push(...names);
  }

  const recordedAt = new Date().toISOString();
  const manifest: SuiteManifest = {
    benchmark: "suite",
    recordedAt,
    mode: plan.mode,
    command,
    durationSeconds: Math.round((performance.now() - started) / 100) / 10,
    files,
    failures,
  };
  const body = `${JSON.stringify({ ...manifest, machine }, null, 2)}\n`;
  writeFileSync(path.join(dir, `suite-${recordedAt.replace(/[:.]/g, "-")}.json`), body);
  writeFileSync(path.join(dir, MANIFEST_FILE), body);
  return manifest;
}

export { SUMMARY_FILE };
