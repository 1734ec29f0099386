/**
 * `npm run bench:load:dotnet -- [--calls N] [--seconds T] [--repeat R]`: bench:load with the .NET media host
 * (native-bridge, fake platform, Release build) as the far end instead of the TypeScript media
 * platform emulator. N concurrent echo calls between the host (its own process) and the media
 * worker thread (this process) for T seconds; in the same run and for the same N, the
 * TypeScript emulator as the baseline far end. Without --calls, a short sweep: 100, 300, 600,
 * 1000 calls.
 *
 * Measured per call count: the echo round trip as the host's fake platform reads it (a
 * watermark in its source frames matched in the render frames the host hands back, exact µs) at
 * two points: when the host received the worker's echo (arrival, comparable to the TypeScript
 * emulator's figure) and when the host's render tick handed it to the platform (played: the
 * host's render queue in the path, up to a tick more); drops on both sides by reason (the
 * host's render trims included); the worker's exact transit, render lateness and per-stage
 * breakdown (its latency probe, as bench:load prints them); the host's CPU per frame
 * (/proc/<pid>/stat of the host process over the window, divided by the frames it sent and
 * received), the TypeScript emulator's CPU per frame and echo round trip (same N, same worker)
 * and the bot side's CPU per frame.
 *
 * Other flags: --repeat R (default 1: R runs per call count, then their medians and worst),
 * --warmup S (default 2), --results-dir DIR (default benchmarks/results), --no-baseline (skip
 * the TypeScript emulator run), --debug (use the Debug build of the host).
 */

import { ensureHostBuilt } from "../test/cross-language/dotnet-host.js";
import { medianOf } from "./lib/median.js";
import { writeResultIn } from "./lib/result-file.js";
import { formatTable, intArg, parseArgs } from "./lib/results.js";
import { breakdownRepeatTable, breakdownTable } from "./load/breakdown-table.js";
import { DotnetFarEnd } from "./load/dotnet-host-process.js";
import type { FarEndWindow } from "./load/far-end-messages.js";
import { FarEndProcess } from "./load/far-end-process.js";
import { buildResult as buildLoadResult, type EchoBreakdown, type LoadResult } from "./load/load-result.js";
import { type RunOptions, runWorker, type WorkerRun } from "./load/runs.js";

const SWEEP = [100, 300, 600, 1000];

const args = parseArgs();
const known = new Set(["calls", "seconds", "warmup", "repeat", "results-dir", "no-baseline", "debug"]);
for (const name of args.keys()) if (!known.has(name)) throw new Error(`unknown flag --${name}`);
const fixedCalls = args.has("calls") ? intArg(args, "calls", 100) : undefined;
const seconds = intArg(args, "seconds", 8);
const warmupSeconds = intArg(args, "warmup", 2, 0);
const repeat = intArg(args, "repeat", 1, 1);
const resultsDir = args.get("results-dir");
const baseline = !args.has("no-baseline");
const configuration = args.has("debug") ? "Debug" : "Release";
const counts = fixedCalls !== undefined ? [fixedCalls] : SWEEP;

type RoundTrip = FarEndWindow["echoRoundTrip"];

/** One bench:load:dotnet run (one call count), as written to benchmarks/results/load-dotnet-*.json. */
interface LoadDotnetResult {
  calls: number;
  seconds: number;
  /** Which of the --repeat runs of this call count (1-based). */
  run: number;
  /** Frames the media worker sent (echoed) to the .NET host in the window. */
  framesSent: number;
  /** Frames the media worker received from the .NET host in the window. */
  framesReceived: number;
  /** Worker media_frames_dropped_total + the host's drops (see method.drops) in the window. */
  framesDropped: number;
  /**
   * Frames the host forwarded that the worker never counted as received: lost in whole
   * messages the worker refused (e.g. oversized FrameBatches, which its metrics count once per
   * message as "malformed"). Scrapes of the two sides are a few ms apart: small values are noise.
   */
  framesLostInTransit: number;
  /** Frames the worker concealed (silence for frames that never came). */
  framesConcealed: number;
  /**
   * Echo round trip against the .NET host, ms (fake platform: source frame produced -> the
   * worker's echo of it queued by the host; exact µs). Comparable to bench:load's figure.
   */
  echoRoundTripArrival: RoundTrip;
  /** The same echoes when the host's render tick handed them to the platform: its render queue in the path. */
  echoRoundTripPlayed: RoundTrip;
  /** Render frames the fake platform could not match (no mark, or none of a recent source frame). */
  echoUnmatched: number;
  /** The TypeScript emulator's echo round trip in the baseline run (same N, same worker); null without it. */
  tsEmulatorEchoRoundTrip: RoundTrip | null;
  /** Transit (host sent_at_us -> worker) and render lateness: exact when transitExact (the worker's probe). */
  transitP50Ms: number | null;
  transitP99Ms: number | null;
  transitMaxMs: number | null;
  latenessP50Ms: number | null;
  latenessP99Ms: number | null;
  latenessMaxMs: number | null;
  transitExact: boolean;
  /** Where the echo's time went (bench:load's breakdown; far-end stages from the fake platform). */
  breakdown: EchoBreakdown;
  /** The .NET host process's CPU per frame it handled (sent + received), µs. */
  hostCpuUsPerFrame: number | null;
  /** The same less the host's idle rate (sampled in its first second, before any session), µs. */
  hostCpuUsPerFrameLessIdle: number | null;
  /** The TypeScript media platform emulator's CPU per frame for the same calls (the baseline), µs. */
  tsEmulatorCpuUsPerFrame: number | null;
  /** The bot process's CPU (idle removed) per frame it handled, against the .NET host, µs. */
  workerCpuUsPerFrame: number | null;
  workerThreadCpuUsPerFrame: number | null;
  /** hostCpuUsPerFrame / tsEmulatorCpuUsPerFrame. */
  hostOverTsEmulator: number | null;
  hostCoreShare: number;
  hostIdleCpuUsPerSecond: number | null;
  drops: {
    worker: Record<string, number>;
    host: Record<string, number>;
    bridgeSendBatches: Record<string, number>;
  };
  configuration: string;
  method: Record<string, string>;
  dotnet: WorkerRun;
  tsEmulator: WorkerRun | null;
}

const METHOD = {
  hostCpu:
    "utime + stime of the .NET host process (/proc/<pid>/stat, 10 ms ticks) over the window, not less its idle rate (hostIdleCpuUsPerSecond is recorded beside it), divided by the frames it forwarded to the worker plus the render frames it queued; the host runs with the fake platform's echo measurement (--fake-echo-stats: a watermark per source frame, a few lock-free counters per frame), which it counts too",
  tsEmulatorCpu:
    "process.cpuUsage() of the TypeScript far-end process (media platform emulator) over the window, not less its idle rate, divided by the frames it sent plus the frames it received back; same N, same worker, same tone",
  workerCpu:
    "process.cpuUsage() of the bot process (this one: the media worker thread + main thread) less its idle rate, per frame received + sent (runs.ts)",
  transitAndLateness:
    "exact: the worker's latency probe over the window (load-result.ts METHOD.transitAndLateness); without it (transitExact false) the upper bound of the Prometheus bucket holding each percentile",
  echoRoundTrip:
    "the .NET host's fake platform (--fake-echo-stats): each audible source frame carries its frame number in the least significant bits of its first 32 samples (the TypeScript emulator's watermark) and its production time on the platform clock; render frames are matched when the bridge queued them (arrival) and when its render tick handed them to the platform (played); exact counts per µs, reset at the window's start (POST /fake-platform/echo-latency/reset) and read at its end (GET /fake-platform/echo-latency). It includes the bridge's wait for its own tick to forward the source frame (its tick and the platform's are not aligned: the breakdown's far-end send stage)",
  breakdown:
    "bench:load's breakdown (load-result.ts): worker stages from its probe (exact); far-end stages from the fake platform (exact): send = a received buffer's platform tick -> the bridge's tick forwarded it, transit worker -> host = batch sent_at_us -> frame queued (two processes' clocks), render queue = echo queued -> played",
  framesLostInTransit:
    "host bridge_received_frames_total{outcome=forwarded} minus the worker's media_frames_received_total over the window (frames in messages the worker refused whole)",
  drops:
    "worker media_frames_dropped_total (all reasons) + host drops: FrameBatches dropped x sessions, received before SessionCreated or of a bad size, render frames dropped (queue full, before ACTIVE, latency trim: renderLatencyTrim), refused or rejected; by reason in drops.worker / drops.host",
};

let far: DotnetFarEnd | undefined;
let tsFar: FarEndProcess | undefined;
const perCountSeconds = (calls: number) =>
  (6 + warmupSeconds + seconds + calls / 300) * (baseline ? 2 : 1) * repeat;
const hardLimitMs = (counts.reduce((sum, calls) => sum + perCountSeconds(calls), 0) * 3 + 400) * 1000;
// Whatever happens, the benchmark ends by itself; the hosts and far ends are killed on exit.
const watchdog = setTimeout(() => {
  console.error(`bench:load:dotnet exceeded its hard limit of ${Math.round(hardLimitMs / 1000)} s; stopping`);
  process.exit(2);
}, hardLimitMs);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));

const results: LoadDotnetResult[] = [];
let exitCode = 0;
try {
  await ensureHostBuilt(configuration, { log: (line) => console.log(line) });
  for (const calls of counts) {
    const options: RunOptions = { calls, seconds, warmupSeconds, idleMs: 1000 };
    const runsOfCount: { result: LoadDotnetResult; load: LoadResult }[] = [];
    for (let run = 1; run <= repeat; run++) {
      const label = repeat > 1 ? `, run ${run} of ${repeat}` : "";
      console.log(`\n== ${calls} calls, ${seconds} s (warm-up ${warmupSeconds} s)${label} ==`);
      far = new DotnetFarEnd({ configuration, maxSessions: 0, maxLifetimeMs: hardLimitMs + 10_000 });
      const dotnet = await runWorker(far, options);
      console.log(`.NET host: pid ${far.pid}`);
      const hostIdle = far.idleCpuUsPerSecond;
      await far.stop();
      far = undefined;

      let ts: WorkerRun | null = null;
      if (baseline) {
        // A fresh far-end process per count: its CPU is that count's alone.
        tsFar = await FarEndProcess.start({ maxLifetimeMs: hardLimitMs + 10_000 });
        console.log(`TypeScript far end: pid ${tsFar.pid}`);
        ts = await runWorker(tsFar, options);
        await tsFar.stop();
        tsFar = undefined;
      }
      const load = buildLoadResult(calls, seconds, dotnet, {
        floor: null,
        protocolEcho: null,
        jsonPerCall: null,
        jsonShared: null,
      });
      const result = buildResult(calls, run, dotnet, ts, hostIdle, load);
      results.push(result);
      runsOfCount.push({ result, load });
      printRun(result, load);
      console.log(`written ${writeResultIn(resultsDir, "load-dotnet", result)}`);
    }
    if (repeat > 1) printRepeat(runsOfCount);
  }
  printSummary(results);
} catch (error) {
  console.error(`bench:load:dotnet failed: ${(error as Error).stack ?? error}`);
  exitCode = 1;
} finally {
  await far?.stop().catch(() => {});
  await tsFar?.stop().catch(() => {});
  clearTimeout(watchdog);
}
process.exit(exitCode);

function perFrame(cpuUs: number, frames: number): number | null {
  return frames > 0 ? Math.round((cpuUs / frames) * 1000) / 1000 : null;
}

function buildResult(
  calls: number,
  run: number,
  dotnet: WorkerRun,
  ts: WorkerRun | null,
  hostIdleCpuUsPerSecond: number | null,
  load: LoadResult,
): LoadDotnetResult {
  const host = dotnet.farEnd;
  const workerDrops = Object.values(dotnet.workerDrops).reduce((a, b) => a + b, 0);
  const hostCpu = perFrame(host.cpuUs, host.framesSent + host.framesReceived);
  const tsCpu = ts ? perFrame(ts.farEnd.cpuUs, ts.farEnd.framesSent + ts.farEnd.framesReceived) : null;
  return {
    calls,
    seconds,
    run,
    framesSent: dotnet.workerFramesSent,
    framesReceived: dotnet.workerFramesReceived,
    framesDropped: workerDrops + host.framesDropped,
    framesLostInTransit: Math.max(0, host.framesSent - dotnet.workerFramesReceived),
    framesConcealed: dotnet.framesConcealed,
    echoRoundTripArrival: host.echoRoundTrip,
    echoRoundTripPlayed: host.dotnetEcho?.played ?? NO_ROUND_TRIP,
    echoUnmatched: host.dotnetEcho?.unmatched ?? 0,
    tsEmulatorEchoRoundTrip: ts ? ts.farEnd.echoRoundTrip : null,
    transitP50Ms: load.transitP50Ms,
    transitP99Ms: load.transitP99Ms,
    transitMaxMs: load.transitMaxMs,
    latenessP50Ms: load.latenessP50Ms,
    latenessP99Ms: load.latenessP99Ms,
    latenessMaxMs: load.latenessMaxMs,
    transitExact: load.transitExact,
    breakdown: load.breakdown,
    hostCpuUsPerFrame: hostCpu,
    hostCpuUsPerFrameLessIdle:
      hostIdleCpuUsPerSecond === null
        ? null
        : perFrame(
            Math.max(0, host.cpuUs - (hostIdleCpuUsPerSecond * host.wallMs) / 1000),
            host.framesSent + host.framesReceived,
          ),
    tsEmulatorCpuUsPerFrame: tsCpu,
    workerCpuUsPerFrame: dotnet.cpu.cpuUsPerFrame,
    workerThreadCpuUsPerFrame: dotnet.workerThreadCpuUsPerFrame,
    hostOverTsEmulator: hostCpu !== null && tsCpu ? Math.round((hostCpu / tsCpu) * 100) / 100 : null,
    hostCoreShare: Math.round((host.cpuUs / 1000 / host.wallMs) * 1000) / 1000,
    hostIdleCpuUsPerSecond,
    drops: { worker: dotnet.workerDrops, host: host.dropDetail, bridgeSendBatches: dotnet.bridgeSendDrops },
    configuration,
    method: METHOD,
    dotnet,
    tsEmulator: ts,
  };
}

const NO_ROUND_TRIP: RoundTrip = { count: 0, p50Ms: Number.NaN, p99Ms: Number.NaN, maxMs: Number.NaN };

function fmt(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "-";
  if (!Number.isFinite(value)) return ">1000";
  return value.toFixed(digits);
}

function printRun(r: LoadDotnetResult, load: LoadResult): void {
  const far = (run: WorkerRun) => [
    run.farEnd.framesSent + run.farEnd.framesReceived,
    fmt(perFrame(run.farEnd.cpuUs, run.farEnd.framesSent + run.farEnd.framesReceived)),
    fmt((run.farEnd.cpuUs / 1000 / run.farEnd.wallMs) * 100, 1),
    fmt(run.cpu.cpuUsPerFrame),
    fmt(run.farEnd.echoRoundTrip.p50Ms, 3),
    fmt(run.farEnd.echoRoundTrip.p99Ms, 3),
    Object.values(run.workerDrops).reduce((a, b) => a + b, 0) + run.farEnd.framesDropped,
  ];
  const rows: (string | number)[][] = [[".NET host (fake platform)", ...far(r.dotnet)]];
  if (r.tsEmulator) rows.push(["TypeScript emulator", ...far(r.tsEmulator)]);
  console.log(
    formatTable(
      [
        "far end",
        "far-end frames",
        "far-end µs/frame",
        "far-end core %",
        "bot µs/frame",
        "echo p50 ms (arrival)",
        "echo p99 ms (arrival)",
        "drops",
      ],
      rows,
    ),
  );
  console.log(`\nagainst the .NET host (${transitLabel(r)}):`);
  console.log(breakdownTable(load));
  const played = r.echoRoundTripPlayed;
  console.log(
    `echo round trip played (source produced -> echo handed to the platform by the host's render tick): ${played.count} samples, p50 ${fmt(played.p50Ms, 3)} ms, p99 ${fmt(played.p99Ms, 3)} ms, max ${fmt(played.maxMs, 3)} ms; unmatched render frames ${r.echoUnmatched}`,
  );
  console.log(
    `drops against the .NET host: ${JSON.stringify(r.drops)}; frames lost in transit ${r.framesLostInTransit}, concealed ${r.framesConcealed}; host idle ${fmt(
      r.hostIdleCpuUsPerSecond === null ? null : r.hostIdleCpuUsPerSecond / 10_000,
      1,
    )} % of a core`,
  );
}

function transitLabel(r: LoadDotnetResult): string {
  return r.transitExact ? "exact µs" : "transit and lateness: bucket upper bounds";
}

/** Over the --repeat runs of one call count: medians and the worst run. */
function printRepeat(runs: readonly { result: LoadDotnetResult; load: LoadResult }[]): void {
  const all = runs.map((r) => r.result);
  const row = (name: string, values: (number | null)[], worst: "max" | "min" = "max") => {
    const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
    const bad = finite.length === 0 ? null : worst === "max" ? Math.max(...finite) : Math.min(...finite);
    return [name, finite.length, fmt(medianOf(values), 3), fmt(bad, 3)];
  };
  console.log(`\n${all[0]?.calls} calls over ${all.length} runs: medians and worst`);
  console.log(
    formatTable(
      ["figure", "runs", "median", "worst"],
      [
        row(
          "echo arrival p50 ms",
          all.map((r) => r.echoRoundTripArrival.p50Ms),
        ),
        row(
          "echo arrival p99 ms",
          all.map((r) => r.echoRoundTripArrival.p99Ms),
        ),
        row(
          "echo arrival max ms",
          all.map((r) => r.echoRoundTripArrival.maxMs),
        ),
        row(
          "echo played p50 ms",
          all.map((r) => r.echoRoundTripPlayed.p50Ms),
        ),
        row(
          "echo played p99 ms",
          all.map((r) => r.echoRoundTripPlayed.p99Ms),
        ),
        row(
          "echo played max ms",
          all.map((r) => r.echoRoundTripPlayed.maxMs),
        ),
        row(
          "drops (worker + host)",
          all.map((r) => r.framesDropped),
        ),
        row(
          "host render latency trims",
          all.map((r) => r.drops.host.renderLatencyTrim ?? 0),
        ),
        row(
          "transit p99 ms",
          all.map((r) => r.transitP99Ms),
        ),
        row(
          "lateness p99 ms",
          all.map((r) => r.latenessP99Ms),
        ),
        row(
          ".NET host µs/frame",
          all.map((r) => r.hostCpuUsPerFrame),
        ),
      ],
    ),
  );
  console.log(`runs with drops: ${all.filter((r) => r.framesDropped > 0).length} of ${all.length}`);
  console.log(breakdownRepeatTable(runs.map((r) => r.load)));
}

function printSummary(all: LoadDotnetResult[]): void {
  if (all.length === 0) return;
  console.log("\nbench:load:dotnet summary (machine shared; single runs unless --repeat)");
  console.log(
    formatTable(
      [
        "calls",
        "run",
        "echo arrival p50/p99 ms",
        "echo played p50/p99 ms",
        "TS emulator echo p50/p99 ms",
        "drops",
        "host trims",
        "lost in transit",
        "concealed",
        "transit p99 ms",
        "lateness p99 ms",
      ],
      all.map((r) => [
        r.calls,
        r.run,
        `${fmt(r.echoRoundTripArrival.p50Ms, 3)} / ${fmt(r.echoRoundTripArrival.p99Ms, 3)}`,
        `${fmt(r.echoRoundTripPlayed.p50Ms, 3)} / ${fmt(r.echoRoundTripPlayed.p99Ms, 3)}`,
        r.tsEmulatorEchoRoundTrip
          ? `${fmt(r.tsEmulatorEchoRoundTrip.p50Ms, 3)} / ${fmt(r.tsEmulatorEchoRoundTrip.p99Ms, 3)}`
          : "-",
        r.framesDropped,
        r.drops.host.renderLatencyTrim ?? 0,
        r.framesLostInTransit,
        r.framesConcealed,
        `${r.transitExact ? "" : "≤ "}${fmt(r.transitP99Ms, 3)}`,
        `${r.transitExact ? "" : "≤ "}${fmt(r.latenessP99Ms, 3)}`,
      ]),
    ),
  );
  console.log("\nCPU (µs of CPU per frame handled)");
  console.log(
    formatTable(
      [
        "calls",
        "run",
        "frames to/from bot",
        ".NET host µs/fr",
        "(less idle)",
        "TS emulator µs/fr",
        "host/TS",
        "bot µs/fr",
      ],
      all.map((r) => [
        r.calls,
        r.run,
        `${r.framesReceived}/${r.framesSent}`,
        fmt(r.hostCpuUsPerFrame),
        fmt(r.hostCpuUsPerFrameLessIdle),
        fmt(r.tsEmulatorCpuUsPerFrame),
        fmt(r.hostOverTsEmulator),
        fmt(r.workerCpuUsPerFrame),
      ]),
    ),
  );
}
