/**
 * `npm run bench:load -- [--calls N] [--seconds T] [--no-baselines]`: N concurrent duplex
 * calls (echo) between the media platform emulator (its own process) and the media worker
 * thread (this process) over loopback for T seconds. Without --calls, a sweep from 100 calls
 * up to the first count that drops frames (or until --budget seconds are spent).
 *
 * In the same run and over the same kind of socket (ws on loopback, no compression), with the
 * far end in the same child process, baselines move the same streams: the floor (one binary
 * message per tick with every 640-byte frame, echoed back batched) and JSON + base64 (a JSON
 * message per frame) in two layouts: a WebSocket per call, the closest peer's design and the
 * one the goal is judged on, and one shared socket with a stream id per message, cheaper for
 * JSON and so the stricter comparison, always shown beside it. One more design, the protocol
 * echo, runs the worker's own transport and protocol against the same emulator with no media
 * engine (protocol-echo-bot.ts), splitting the worker's cost into protocol and engine. CPU per
 * frame is measured the same way for all: this process's CPU less its idle rate, over frames
 * received + sent.
 *
 * Other flags: --warmup S (default 2), --json-layout both|per-call|shared (default both),
 * --budget S (sweep time budget, default 900), --results-dir DIR (default benchmarks/results),
 * --repeat N (default 1): each call count runs N times (every design each time, one result
 * file per run) and the summary adds the median and range of each figure, because one run on
 * a shared or virtual machine can be off by a third. --live-target F (default: the worker's,
 * 2): the most live audio (the echo) may stand in a playout queue, in frames; by default each
 * call's target adapts below it, --fixed-live-target keeps it at F (lower shortens the echo
 * round trip and trims more often, counted as latency_trim drops). --stall-evidence: the worker
 * run also records GCs, event-loop stalls, late ticks and batch gaps in the worker thread, the
 * bot's main thread and the far end, and matches each latency_trim with them
 * (load/stall-evidence.ts; printed, and in the result's worker.stallEvidence). --memory: instead
 * of the sweep, the bot's RSS and heaps at 0, N/2 and N calls (--calls, default 1000; each step
 * settles --memory-settle S, default 10) and over --memory-minutes M (default 10) at N: bytes per
 * call and growth per minute (load/memory-steps.ts, result file load-memory).
 */

import { DEFAULTS } from "../src/config/config.js";
import { medianOf, upperMedianBoundOf } from "./lib/median.js";
import { writeResultIn } from "./lib/result-file.js";
import { formatTable, intArg, parseArgs } from "./lib/results.js";
import { breakdownRepeatTable, breakdownTable } from "./load/breakdown-table.js";
import { FarEndProcess } from "./load/far-end-process.js";
import {
  allGoalsMet,
  type BaselineRuns,
  buildResult,
  GOALS,
  type LoadResult,
  ratePercentOf,
} from "./load/load-result.js";
import { memoryCommand } from "./load/memory-steps.js";
import {
  jsonLayoutsOf,
  type LoadRunShape,
  loadHardLimitSeconds,
  loadRunSeconds,
} from "./load/run-estimate.js";
import { type RunOptions, runBaseline, runProtocolEcho, runWorker } from "./load/runs.js";
import { formatStallEvidence } from "./load/stall-evidence.js";

const SWEEP = [100, 200, 400, 700, 1000, 1400, 2000, 2800, 4000];

const args = parseArgs();
const fixedCalls = args.has("calls") ? intArg(args, "calls", 1000) : undefined;
const seconds = intArg(args, "seconds", 10);
const warmupSeconds = intArg(args, "warmup", 2, 0);
const budgetSeconds = intArg(args, "budget", 900);
const baselines = !args.has("no-baselines");
const jsonLayouts = jsonLayoutsOf(args.get("json-layout") ?? "both");
const resultsDir = args.get("results-dir");
const repeat = intArg(args, "repeat", 1);
// The worker's live playout target (frames): the echo's standing queue depth, traded against drops.
const liveTarget = args.has("live-target")
  ? intArg(args, "live-target", DEFAULTS.livePlayoutTargetFrames, 0)
  : undefined;
// The target fixed at --live-target instead of adapting per call below it (the worker's default).
const fixedLiveTarget = args.has("fixed-live-target");
// GCs, loop stalls, late ticks and gaps of worker, main thread and far end, matched with trims.
const stallEvidence = args.has("stall-evidence");
const known = new Set([
  "live-target",
  "fixed-live-target",
  "stall-evidence",
  "memory",
  "memory-minutes",
  "memory-settle",
  "calls",
  "seconds",
  "warmup",
  "budget",
  "no-baselines",
  "json-layout",
  "results-dir",
  "repeat",
]);
for (const name of args.keys()) if (!known.has(name)) throw new Error(`unknown flag --${name}`);
// The bot's memory at 0, N/2 and N calls and over a long run at N (load/memory-steps.ts), instead of the sweep.
if (args.has("memory"))
  await memoryCommand((maxLifetimeMs) => FarEndProcess.start({ maxLifetimeMs }), {
    calls: fixedCalls ?? 1000,
    minutes: intArg(args, "memory-minutes", 10, 0),
    settleSeconds: intArg(args, "memory-settle", 10, 0),
    stepSamples: 5,
    resultsDir,
  });

const started = performance.now();
const counts = fixedCalls !== undefined ? [fixedCalls] : SWEEP;
const shape = (calls: number): LoadRunShape => ({ calls, seconds, warmupSeconds, baselines, jsonLayouts });
const hardLimitMs =
  (fixedCalls !== undefined ? loadHardLimitSeconds(shape(fixedCalls)) * repeat : budgetSeconds + 300) * 1000;

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
    if (
      fixedCalls === undefined &&
      results.length > 0 &&
      elapsed + loadRunSeconds(shape(calls)) * repeat > budgetSeconds
    ) {
      console.log(`\nsweep stopped before ${calls} calls: the ${budgetSeconds} s budget would be exceeded`);
      break;
    }
    const options: RunOptions = {
      calls,
      seconds,
      warmupSeconds,
      idleMs: 1000,
      liveTarget,
      adaptiveLiveTarget: fixedLiveTarget ? false : undefined,
      stallEvidence,
    };
    let dropped = false;
    for (let round = 1; round <= repeat; round++) {
      const of = repeat > 1 ? `, run ${round} of ${repeat}` : "";
      console.log(`\n== ${calls} calls, ${seconds} s (warm-up ${warmupSeconds} s${of}) ==`);
      const worker = await runWorker(far, options);
      const runs: BaselineRuns = { floor: null, protocolEcho: null, jsonPerCall: null, jsonShared: null };
      if (baselines) {
        runs.protocolEcho = await runProtocolEcho(far, options);
        runs.floor = await runBaseline(far, "floor", "shared", options);
        // The peer's layout first, then the shared socket (jsonLayoutsOf keeps that order).
        for (const layout of jsonLayouts) {
          const run = await runBaseline(far, "jsonBase64", layout, options);
          if (layout === "perCall") runs.jsonPerCall = run;
          else runs.jsonShared = run;
        }
      }
      const result = buildResult(calls, seconds, worker, runs);
      results.push(result);
      printRun(result);
      if (result.worker.stallEvidence) console.log(formatStallEvidence(result.worker.stallEvidence));
      console.log(`written ${writeResultIn(resultsDir, "load", result)}`);
      dropped ||= result.framesDropped > 0 || result.bridgeSendDropBatches > 0 || result.skippedTicks > 0;
    }
    if (fixedCalls === undefined && dropped) {
      console.log(`\nsweep stopped at ${calls} calls: frames dropped or ticks skipped`);
      break;
    }
  }
  printSummary(results);
  if (repeat > 1) printRepeatSummary(results);
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

/** The JSON + base64 figures of a result by layout (the goal's layout is in jsonBase64Layout). */
function jsonByLayout(r: LoadResult) {
  const perCall = r.jsonBase64Layout === "perCall";
  return {
    perCallCpu: perCall ? r.jsonBase64CpuUsPerFrame : null,
    perCallOverWorker: perCall ? r.jsonBase64OverWorker : null,
    sharedCpu: r.jsonBase64SharedCpuUsPerFrame,
    sharedOverWorker: r.jsonBase64SharedOverWorker,
  };
}

function printRun(r: LoadResult): void {
  // Every call's frames both ways at 50 a second: a design below 100 % did not keep the pace
  // (usually its far end or the machine was saturated), so its µs/frame is at a lower rate.
  const row = (
    design: string,
    sockets: number,
    cpu: { cpuUsPerFrame: number | null; coreShare: number; framesHandled: number; wallMs: number },
    farEnd: { echoRoundTrip: { p50Ms: number; p99Ms: number; maxMs: number }; skippedTicks: number },
    drops: number,
  ) => [
    design,
    sockets,
    cpu.framesHandled,
    fmt(ratePercentOf(r.calls, cpu), 0),
    farEnd.skippedTicks,
    fmt(cpu.cpuUsPerFrame),
    fmt(cpu.coreShare * 100, 1),
    fmt(farEnd.echoRoundTrip.p50Ms),
    fmt(farEnd.echoRoundTrip.p99Ms),
    fmt(farEnd.echoRoundTrip.maxMs),
    drops,
  ];
  const rows = [row("media worker (echo)", 1, r.worker.cpu, r.worker.farEnd, r.framesDropped)];
  const baselineRow = (design: string, run: NonNullable<LoadResult["floor"]>) =>
    row(design, run.sockets, run.cpu, run.farEnd, run.farEnd.framesDropped + run.botFramesDropped);
  if (r.protocolEcho) rows.push(baselineRow("protocol echo, no engine", r.protocolEcho));
  if (r.floor) rows.push(baselineRow("floor: raw batched ws", r.floor));
  if (r.jsonBase64 && r.jsonBase64.layout === "perCall")
    rows.push(baselineRow("JSON+base64, socket per call (peer)", r.jsonBase64));
  if (r.jsonBase64Shared) rows.push(baselineRow("JSON+base64, one shared socket", r.jsonBase64Shared));
  console.log(
    formatTable(
      [
        "design",
        "sockets",
        "frames",
        "% of 50/s",
        "far-end skipped ticks",
        "bot CPU µs/frame",
        "bot core %",
        "echo p50 ms",
        "p99 ms",
        "max ms",
        "drops",
      ],
      rows,
    ),
  );
  if (r.transitExact) console.log(breakdownTable(r));
  else
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
  const json = jsonByLayout(r);
  if (r.jsonBase64?.layout === "perCall")
    console.log(
      `JSON+base64 socket per call: ${r.jsonBase64.sockets} sockets opened in ${r.jsonBase64.connectMs} ms`,
    );
  console.log(
    `ratios: worker/protocol echo ${fmt(r.workerOverProtocolEcho)} (goal ≤ ${GOALS.maxWorkerOverProtocolEcho}); worker/floor ${fmt(r.workerOverFloor)} = protocol echo/floor ${fmt(r.protocolEchoOverFloor)} × worker/protocol echo; JSON+base64/worker: socket per call ${fmt(json.perCallOverWorker)}, shared socket ${fmt(json.sharedOverWorker)} (goal ≥ ${GOALS.minJsonOverWorker}, judged on ${layoutName(r.jsonBase64Layout)})`,
  );
}

function layoutName(layout: LoadResult["jsonBase64Layout"]): string {
  return layout === "perCall"
    ? "a socket per call, the peer's design"
    : layout === "shared"
      ? "the shared socket"
      : "-";
}

function printSummary(all: LoadResult[]): void {
  if (all.length === 0) return;
  const yes = (value: boolean | null | undefined) =>
    value === null || value === undefined ? "-" : value ? "yes" : "NO";
  console.log(
    `\nbench:load summary (goals: ≥1000 calls without drops, echo round trip p50 ≤ ${GOALS.echoP50Ms} ms and p99 ≤ ${GOALS.echoP99Ms} ms, worker ≤ ${GOALS.maxWorkerOverProtocolEcho}× the protocol echo's CPU per frame, transit p99 < ${GOALS.transitP99Ms} ms, lateness p99 < ${GOALS.latenessP99Ms} ms, ≥ 3× cheaper than JSON+base64 with a socket per call as the peer does; worker ÷ floor and the shared-socket ratio are shown for information)`,
  );
  console.log(
    formatTable(
      [
        "calls",
        "drops",
        "transit p99",
        "lateness p99",
        "echo p50/p99 ms",
        "worker µs/fr",
        "floor µs/fr",
        "proto µs/fr",
        "json/call µs/fr",
        "json shared µs/fr",
        "w/proto",
        "w/floor",
        "json/call ÷ w",
        "json shared ÷ w",
        "all goals",
      ],
      all.map((r) => {
        const json = jsonByLayout(r);
        return [
          r.calls,
          r.framesDropped + r.bridgeSendDropBatches + r.skippedTicks,
          fmt(r.transitP99Ms, 3),
          fmt(r.latenessP99Ms, 3),
          `${fmt(r.echoRoundTripP50Ms, 1)}/${fmt(r.echoRoundTripP99Ms, 1)}`,
          fmt(r.workerCpuUsPerFrame),
          fmt(r.floorCpuUsPerFrame),
          fmt(r.protocolEchoCpuUsPerFrame),
          fmt(json.perCallCpu),
          fmt(json.sharedCpu),
          fmt(r.workerOverProtocolEcho),
          fmt(r.workerOverFloor),
          fmt(json.perCallOverWorker),
          fmt(json.sharedOverWorker),
          yes(allGoalsMet(r.goals)),
        ];
      }),
    ),
  );
}

/**
 * Per call count over its repeated runs: the median of each figure and its range. Transit and
 * lateness are bucket bounds: their "median" is the upper-middle run's bound (a run beyond the
 * last bucket counting as above every bound), as in summary.md (report/load-medians.ts).
 */
function printRepeatSummary(all: LoadResult[]): void {
  const counts = [...new Set(all.map((r) => r.calls))];
  const figures: [string, (r: LoadResult) => number | null, number][] = [
    ["drops", (r) => r.framesDropped + r.bridgeSendDropBatches + r.skippedTicks, 0],
    ["trims (latency_trim)", (r) => r.worker.workerDrops.latency_trim ?? 0, 0],
    ["transit p99 ms", (r) => r.transitP99Ms, 3],
    ["lateness p99 ms", (r) => r.latenessP99Ms, 3],
    ["lateness max ms", (r) => r.latenessMaxMs, 3],
    ["echo round trip p50 ms", (r) => r.echoRoundTripP50Ms, 2],
    ["echo round trip p99 ms", (r) => r.echoRoundTripP99Ms, 2],
    ["echo round trip max ms", (r) => r.echoRoundTripMaxMs, 2],
    ["worker µs/fr", (r) => r.workerCpuUsPerFrame, 2],
    ["floor µs/fr", (r) => r.floorCpuUsPerFrame, 2],
    ["protocol echo µs/fr", (r) => r.protocolEchoCpuUsPerFrame, 2],
    ["w/floor", (r) => r.workerOverFloor, 2],
    ["protocol echo/floor", (r) => r.protocolEchoOverFloor, 2],
    ["w/protocol echo", (r) => r.workerOverProtocolEcho, 2],
    ["json/call ÷ w", (r) => jsonByLayout(r).perCallOverWorker, 2],
    ["json shared ÷ w", (r) => jsonByLayout(r).sharedOverWorker, 2],
  ];
  // Runs without the worker's exact probe report bucket bounds: their median is a bound too.
  const bounds = new Set(
    all.some((r) => !r.transitExact) ? ["transit p99 ms", "lateness p99 ms", "lateness max ms"] : [],
  );
  console.log(
    "\nrepeated runs: median (min-max) of each figure; for the ≤ bucket bounds, the upper-middle run's bound",
  );
  const rows: (string | number)[][] = [];
  for (const calls of counts) {
    const runs = all.filter((r) => r.calls === calls);
    for (const [name, pick, digits] of figures) {
      const values = runs.map(pick).filter((v): v is number => v !== null && Number.isFinite(v));
      if (values.length === 0) continue;
      const middle = bounds.has(name) ? upperMedianBoundOf(runs.map(pick)) : medianOf(values);
      rows.push([
        calls,
        runs.length,
        name,
        middle !== null && Number.isFinite(middle) ? fmt(middle, digits) : "> 1000",
        `${fmt(Math.min(...values), digits)}-${fmt(Math.max(...values), digits)}`,
      ]);
    }
  }
  console.log(formatTable(["calls", "runs", "figure", "median", "range (worst is the larger)"], rows));
  for (const calls of counts) {
    console.log(`\n${calls} calls: echo breakdown over the runs`);
    console.log(breakdownRepeatTable(all.filter((r) => r.calls === calls)));
  }
}
