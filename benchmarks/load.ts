/**
 * `npm run bench:load -- [--calls N] [--seconds T] [--no-baselines]`: N concurrent duplex
 * calls (echo) between the media platform emulator (its own process) and the media worker
 * thread (this process) over loopback for T seconds. Without --calls, a sweep from 100 calls
 * up to the first count that drops frames (or until --budget seconds are spent).
 *
 * In the same run and over the same kind of socket (ws on loopback, no compression), with the
 * far end in the same child process, two baselines move the same streams: the floor (one
 * binary message per tick with every 640-byte frame, echoed back batched) and JSON + base64
 * (a JSON message per frame, the closest peer's design). CPU per frame is measured the same
 * way for all three: this process's CPU less its idle rate, over frames received + sent.
 *
 * Other flags: --warmup S (default 2), --json-layout shared|per-call (default shared: one
 * socket, a stream id per message; per-call: one socket per call, as the peer does),
 * --budget S (sweep time budget, default 900), --results-dir DIR (default benchmarks/results).
 */

import { writeResultIn } from "./lib/result-file.js";
import { formatTable, intArg, parseArgs } from "./lib/results.js";
import type { JsonLayout } from "./load/far-end-messages.js";
import { FarEndProcess } from "./load/far-end-process.js";
import { buildResult, GOALS, type LoadResult } from "./load/load-result.js";
import { type BaselineRun, type RunOptions, runBaseline, runWorker } from "./load/runs.js";

const SWEEP = [100, 200, 400, 700, 1000, 1400, 2000, 2800, 4000];

const args = parseArgs();
const fixedCalls = args.has("calls") ? intArg(args, "calls", 1000) : undefined;
const seconds = intArg(args, "seconds", 10);
const warmupSeconds = intArg(args, "warmup", 2, 0);
const budgetSeconds = intArg(args, "budget", 900);
const baselines = !args.has("no-baselines");
const layoutArg = args.get("json-layout") ?? "shared";
if (layoutArg !== "shared" && layoutArg !== "per-call")
  throw new Error(`--json-layout must be shared or per-call, got "${layoutArg}"`);
const layout: JsonLayout = layoutArg === "shared" ? "shared" : "perCall";
const resultsDir = args.get("results-dir");
const known = new Set(["calls", "seconds", "warmup", "budget", "no-baselines", "json-layout", "results-dir"]);
for (const name of args.keys()) if (!known.has(name)) throw new Error(`unknown flag --${name}`);

const started = performance.now();
const counts = fixedCalls !== undefined ? [fixedCalls] : SWEEP;
// Each run: session set-up, idle sample, warm-up and window, for the worker and each baseline.
const perDesignSeconds = (calls: number) => 4 + warmupSeconds + seconds + calls / 500;
const runSeconds = (calls: number) => perDesignSeconds(calls) * (baselines ? 3 : 1);
const hardLimitMs =
  (fixedCalls !== undefined ? runSeconds(fixedCalls) * 3 + 120 : budgetSeconds + 300) * 1000;

let far: FarEndProcess | undefined;
// Whatever happens, the benchmark ends by itself and takes its far end with it.
const watchdog = setTimeout(() => {
  console.error(`bench:load exceeded its hard limit of ${Math.round(hardLimitMs / 1000)} s; stopping`);
  process.exit(2);
}, hardLimitMs);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));

const results: LoadResult[] = [];
let exitCode = 0;
try {
  far = await FarEndProcess.start({ maxLifetimeMs: hardLimitMs + 10_000 });
  console.log(`far end: pid ${far.pid}`);
  for (const calls of counts) {
    const elapsed = (performance.now() - started) / 1000;
    if (fixedCalls === undefined && results.length > 0 && elapsed + runSeconds(calls) > budgetSeconds) {
      console.log(`\nsweep stopped before ${calls} calls: the ${budgetSeconds} s budget would be exceeded`);
      break;
    }
    const options: RunOptions = { calls, seconds, warmupSeconds, idleMs: 1000 };
    console.log(`\n== ${calls} calls, ${seconds} s (warm-up ${warmupSeconds} s) ==`);
    const worker = await runWorker(far, options);
    let floor: BaselineRun | null = null;
    let json: BaselineRun | null = null;
    if (baselines) {
      floor = await runBaseline(far, "floor", layout, options);
      json = await runBaseline(far, "jsonBase64", layout, options);
    }
    const result = buildResult(calls, seconds, worker, floor, json);
    results.push(result);
    printRun(result);
    console.log(`written ${writeResultIn(resultsDir, "load", result)}`);
    const dropped = result.framesDropped > 0 || result.bridgeSendDropBatches > 0 || result.skippedTicks > 0;
    if (fixedCalls === undefined && dropped) {
      console.log(`\nsweep stopped at ${calls} calls: frames dropped or ticks skipped`);
      break;
    }
  }
  printSummary(results);
} catch (error) {
  console.error(`bench:load failed: ${(error as Error).stack ?? error}`);
  exitCode = 1;
} finally {
  await far?.stop().catch(() => {});
  clearTimeout(watchdog);
}
process.exit(exitCode);

function fmt(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined) return "-";
  if (!Number.isFinite(value)) return ">1000";
  return value.toFixed(digits);
}

function printRun(r: LoadResult): void {
  const row = (
    design: string,
    cpu: { cpuUsPerFrame: number | null; coreShare: number; framesHandled: number },
    echo: { p50Ms: number; p99Ms: number; maxMs: number },
    drops: number,
  ) => [
    design,
    cpu.framesHandled,
    fmt(cpu.cpuUsPerFrame),
    fmt(cpu.coreShare * 100, 1),
    fmt(echo.p50Ms),
    fmt(echo.p99Ms),
    fmt(echo.maxMs),
    drops,
  ];
  const rows = [row("media worker (echo)", r.worker.cpu, r.worker.farEnd.echoRoundTrip, r.framesDropped)];
  if (r.floor)
    rows.push(
      row(
        "floor: raw batched ws",
        r.floor.cpu,
        r.floor.farEnd.echoRoundTrip,
        r.floor.farEnd.framesDropped + r.floor.botFramesDropped,
      ),
    );
  if (r.jsonBase64)
    rows.push(
      row(
        `JSON+base64 (${r.jsonBase64.layout})`,
        r.jsonBase64.cpu,
        r.jsonBase64.farEnd.echoRoundTrip,
        r.jsonBase64.farEnd.framesDropped + r.jsonBase64.botFramesDropped,
      ),
    );
  console.log(
    formatTable(
      ["design", "frames", "bot CPU µs/frame", "bot core %", "echo p50 ms", "p99 ms", "max ms", "drops"],
      rows,
    ),
  );
  console.log(
    formatTable(
      ["media worker", "p50 ms ≤", "p99 ms ≤", "max ms ≤"],
      [
        ["frame transit", fmt(r.transitP50Ms, 3), fmt(r.transitP99Ms, 3), fmt(r.transitMaxMs, 3)],
        ["render lateness", fmt(r.latenessP50Ms, 3), fmt(r.latenessP99Ms, 3), fmt(r.latenessMaxMs, 3)],
      ],
    ),
  );
  console.log(
    `worker thread alone: ${fmt(r.workerThreadCpuUsPerFrame)} µs/frame; playout queue depth p50/p99 ≤ ${fmt(r.worker.playoutQueueDepth.p50Frames, 0)}/${fmt(r.worker.playoutQueueDepth.p99Frames, 0)} frames; far end CPU: ${fmt(
      (r.worker.farEnd.cpuUs / r.worker.farEnd.wallMs) * 0.1,
      1,
    )} % of a core; drops ${JSON.stringify({ worker: r.worker.workerDrops, farEnd: r.worker.farEnd.dropDetail, bridgeBatches: r.worker.bridgeSendDrops })}; skipped ticks ${r.skippedTicks}`,
  );
  console.log(
    `ratios: worker/floor ${fmt(r.workerOverFloor)} (goal ≤ ${GOALS.maxWorkerOverFloor}), JSON+base64/worker ${fmt(r.jsonBase64OverWorker)} (goal ≥ ${GOALS.minJsonOverWorker})`,
  );
}

function printSummary(all: LoadResult[]): void {
  if (all.length === 0) return;
  const yes = (value: boolean | null | undefined) =>
    value === null || value === undefined ? "-" : value ? "yes" : "NO";
  console.log(
    "\nbench:load summary (goals: ≥1000 calls without drops, transit p99 < 5 ms, lateness p99 < 2 ms, worker ≤ 1.5× floor, ≥ 3× cheaper than JSON+base64)",
  );
  console.log(
    formatTable(
      [
        "calls",
        "drops",
        "transit p99 ≤",
        "lateness p99 ≤",
        "worker µs/fr",
        "floor µs/fr",
        "json µs/fr",
        "w/floor",
        "json/w",
        "all goals",
      ],
      all.map((r) => [
        r.calls,
        r.framesDropped + r.bridgeSendDropBatches + r.skippedTicks,
        fmt(r.transitP99Ms, 3),
        fmt(r.latenessP99Ms, 3),
        fmt(r.workerCpuUsPerFrame),
        fmt(r.floorCpuUsPerFrame),
        fmt(r.jsonBase64CpuUsPerFrame),
        fmt(r.workerOverFloor),
        fmt(r.jsonBase64OverWorker),
        yes(Object.values(r.goals).every((g) => g === true)),
      ]),
    ),
  );
}
