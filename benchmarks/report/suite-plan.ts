/**
 * What `npm run bench` runs, from its flags: a preset (smoke, default, long) and overrides.
 * Every flag is checked; an unknown or malformed one stops the suite before anything runs.
 */
import path from "node:path";
import { intArg } from "../lib/results.js";
import { jsonLayoutsOf, loadHardLimitSeconds } from "../load/run-estimate.js";
import type { SuiteMode } from "./suite-manifest.js";

export type BenchmarkName = "answer" | "frames" | "load";
const BENCHMARKS: BenchmarkName[] = ["answer", "frames", "load"];

export interface SuitePlan {
  mode: SuiteMode;
  resultsDir: string;
  publish: boolean;
  reportOnly: boolean;
  only: BenchmarkName[];
  answer: { calls: number; rate: number; warmup: number };
  frames: { sessions: number; ticks: number; warmup: number };
  load: {
    counts: number[];
    seconds: number;
    warmup: number;
    baselines: boolean;
    /** The --json-layout flag passed to bench:load: both, per-call or shared. */
    jsonLayout: string;
    /** Runs of each call count; the summary shows each figure's median (load-medians.ts). */
    repeat: number;
  };
}

type Preset = Pick<SuitePlan, "answer" | "frames" | "load">;

/** Sizes per mode on the 2-core machine: smoke well under a minute, default a few minutes. */
export const PRESETS: Record<SuiteMode, Preset> = {
  smoke: {
    answer: { calls: 20, rate: 50, warmup: 5 },
    frames: { sessions: 20, ticks: 20, warmup: 5 },
    load: { counts: [5, 10], seconds: 1, warmup: 0, baselines: true, jsonLayout: "both", repeat: 1 },
  },
  default: {
    answer: { calls: 1000, rate: 200, warmup: 50 },
    frames: { sessions: 1000, ticks: 300, warmup: 100 },
    load: {
      counts: [100, 200, 400, 700, 1000],
      seconds: 8,
      warmup: 2,
      baselines: true,
      jsonLayout: "both",
      repeat: 1,
    },
  },
  long: {
    answer: { calls: 5000, rate: 200, warmup: 200 },
    frames: { sessions: 1000, ticks: 3000, warmup: 300 },
    load: {
      counts: [100, 200, 400, 700, 1000, 1400, 2000],
      seconds: 30,
      warmup: 5,
      baselines: true,
      jsonLayout: "both",
      repeat: 1,
    },
  },
};

export const USAGE = `npm run bench -- [options]

  --smoke | --long          preset sizes (default: a few minutes; smoke: under a minute; long: about 25 minutes)
  --only LIST               benchmarks to run, comma-separated: answer,frames,load (default all)
  --calls LIST              bench:load concurrent call counts, e.g. 100,400,1000
  --seconds T               bench:load measured seconds per call count
  --load-warmup S           bench:load warm-up seconds per run
  --no-baselines            bench:load without the protocol echo, floor and JSON+base64 baselines
  --json-layout L           bench:load JSON+base64 layouts: both (default), per-call (the peer's) or shared
  --repeat N                bench:load runs each call count N times; the summary shows medians (default 1)
  --answer-calls N          bench:answer calls measured
  --rate R                  bench:answer calls placed per second
  --sessions S, --ticks N   bench:frames frames a tick, ticks measured
  --results-dir DIR         where results, summary.md and charts/ go (default benchmarks/results)
  --report-only             rebuild summary.md and charts from DIR/suite-latest.json without running
  --publish                 copy summary.md and charts/ to docs/benchmarks/
  --help`;

const KNOWN = new Set([
  "smoke",
  "long",
  "only",
  "calls",
  "seconds",
  "load-warmup",
  "no-baselines",
  "json-layout",
  "repeat",
  "answer-calls",
  "rate",
  "sessions",
  "ticks",
  "results-dir",
  "report-only",
  "publish",
  "help",
]);

/** "100,400,1000" -> [100, 400, 1000]: positive integers, ascending, no repeats. */
export function countList(name: string, value: string): number[] {
  const parts = value.split(",").map((part) => part.trim());
  const counts = parts.map(Number);
  if (parts.some((part) => part === "") || counts.some((c) => !Number.isInteger(c) || c < 1))
    throw new Error(`--${name} must be comma-separated positive integers, got "${value}"`);
  if (new Set(counts).size !== counts.length) throw new Error(`--${name} repeats a count: "${value}"`);
  return [...counts].sort((a, b) => a - b);
}

/** Checked here, so a typo stops the suite before anything runs rather than in the first load run. */
function jsonLayoutFlag(value: string): string {
  jsonLayoutsOf(value);
  return value;
}

function flag(args: Map<string, string>, name: string): boolean {
  const value = args.get(name);
  if (value === undefined) return false;
  if (value !== "true") throw new Error(`--${name} takes no value, got "${value}"`);
  return true;
}

export function planFromArgs(args: Map<string, string>, defaultResultsDir: string): SuitePlan {
  for (const name of args.keys()) if (!KNOWN.has(name)) throw new Error(`unknown flag --${name}\n\n${USAGE}`);
  const smoke = flag(args, "smoke");
  const long = flag(args, "long");
  if (smoke && long) throw new Error("--smoke and --long cannot be combined");
  const mode: SuiteMode = smoke ? "smoke" : long ? "long" : "default";
  const preset = PRESETS[mode];
  const onlyArg = args.get("only");
  const only = onlyArg === undefined ? BENCHMARKS : onlyArg.split(",").map((s) => s.trim());
  for (const name of only)
    if (!BENCHMARKS.includes(name as BenchmarkName))
      throw new Error(`--only takes ${BENCHMARKS.join(", ")}; got "${name}"`);
  const dir = args.get("results-dir");
  if (dir === "true") throw new Error("--results-dir needs a directory");
  return {
    mode,
    resultsDir: path.resolve(dir ?? defaultResultsDir),
    publish: flag(args, "publish"),
    reportOnly: flag(args, "report-only"),
    only: BENCHMARKS.filter((b) => only.includes(b)),
    answer: {
      calls: intArg(args, "answer-calls", preset.answer.calls),
      rate: intArg(args, "rate", preset.answer.rate),
      warmup: preset.answer.warmup,
    },
    frames: {
      sessions: intArg(args, "sessions", preset.frames.sessions),
      ticks: intArg(args, "ticks", preset.frames.ticks),
      warmup: preset.frames.warmup,
    },
    load: {
      counts: args.has("calls") ? countList("calls", args.get("calls") as string) : preset.load.counts,
      seconds: intArg(args, "seconds", preset.load.seconds),
      warmup: intArg(args, "load-warmup", preset.load.warmup, 0),
      baselines: !flag(args, "no-baselines") && preset.load.baselines,
      jsonLayout: jsonLayoutFlag(args.get("json-layout") ?? preset.load.jsonLayout),
      repeat: intArg(args, "repeat", preset.load.repeat),
    },
  };
}

/** The benchmark runs of a plan, in order: script and its arguments. */
export function benchmarkRuns(
  plan: SuitePlan,
): { benchmark: BenchmarkName; script: string; args: string[] }[] {
  const dir = ["--results-dir", plan.resultsDir];
  const runs: { benchmark: BenchmarkName; script: string; args: string[] }[] = [];
  if (plan.only.includes("answer")) {
    const a = plan.answer;
    runs.push({
      benchmark: "answer",
      script: "answer-latency.ts",
      args: ["--calls", String(a.calls), "--rate", String(a.rate), "--warmup", String(a.warmup), ...dir],
    });
  }
  if (plan.only.includes("frames")) {
    const f = plan.frames;
    runs.push({
      benchmark: "frames",
      script: "frames.ts",
      args: [
        "--sessions",
        String(f.sessions),
        "--ticks",
        String(f.ticks),
        "--warmup",
        String(f.warmup),
        ...dir,
      ],
    });
  }
  if (plan.only.includes("load")) {
    const l = plan.load;
    // One process per call count: a fresh far end and worker each time, and a sweep that
    // goes on past a count that drops frames (the chart shows where it degrades).
    for (const calls of l.counts)
      runs.push({
        benchmark: "load",
        script: "load.ts",
        args: [
          "--calls",
          String(calls),
          "--seconds",
          String(l.seconds),
          "--warmup",
          String(l.warmup),
          ...(l.baselines ? ["--json-layout", l.jsonLayout] : ["--no-baselines"]),
          ...(l.repeat > 1 ? ["--repeat", String(l.repeat)] : []),
          ...dir,
        ],
      });
  }
  return runs;
}

/** A generous wall-clock limit for one run, beyond which the suite stops it. */
export function runTimeoutMs(plan: SuitePlan, run: { benchmark: BenchmarkName; args: string[] }): number {
  switch (run.benchmark) {
    case "answer":
      // Start-up (TLS, emulator process), placing the calls, and the benchmark's own 60 s wait.
      return (
        (90 + (plan.answer.calls + plan.answer.warmup) / plan.answer.rate + plan.answer.calls * 0.02 + 60) *
        1000
      );
    case "frames":
      return (60 + (plan.frames.sessions * (plan.frames.ticks + plan.frames.warmup) * 3 * 50) / 1e6) * 1000;
    case "load": {
      const calls = Number(run.args[run.args.indexOf("--calls") + 1]);
      const l = plan.load;
      // bench:load stops itself at its own hard limit (per run, times --repeat); this is a
      // backstop 60 s beyond that.
      return (
        (loadHardLimitSeconds({
          calls,
          seconds: l.seconds,
          warmupSeconds: l.warmup,
          baselines: l.baselines,
          jsonLayouts: jsonLayoutsOf(l.jsonLayout),
        }) *
          l.repeat +
          60) *
        1000
      );
    }
  }
}
