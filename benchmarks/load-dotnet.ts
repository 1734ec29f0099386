/**
 * `npm run bench:load:dotnet -- [--calls N] [--seconds T]`: bench:load with the .NET media host
 * (native-bridge, fake platform, Release build) as the far end instead of the TypeScript media
 * platform emulator. N concurrent echo calls between the host (its own process) and the media
 * worker thread (this process) for T seconds; in the same run and for the same N, the
 * TypeScript emulator as the baseline far end. Without --calls, a short sweep: 100, 300, 600,
 * 1000 calls.
 *
 * Measured per call count: the host's CPU per frame (/proc/<pid>/stat of the host process over
 * the window, divided by the frames it sent and received), the TypeScript emulator's CPU per
 * frame (its process.cpuUsage() over the same kind of window), the bot side's CPU per frame
 * and the worker's frame transit and render lateness p99 (runs.ts, as bench:load measures
 * them), and drops on both sides.
 *
 * Other flags: --warmup S (default 2), --results-dir DIR (default benchmarks/results),
 * --no-baseline (skip the TypeScript emulator run), --debug (use the Debug build of the host).
 */

import { ensureHostBuilt } from "../test/cross-language/dotnet-host.js";
import { writeResultIn } from "./lib/result-file.js";
import { formatTable, intArg, parseArgs } from "./lib/results.js";
import { DotnetFarEnd } from "./load/dotnet-host-process.js";
import { FarEndProcess } from "./load/far-end-process.js";
import { type RunOptions, runWorker, type WorkerRun } from "./load/runs.js";

const SWEEP = [100, 300, 600, 1000];

const args = parseArgs();
const known = new Set(["calls", "seconds", "warmup", "results-dir", "no-baseline", "debug"]);
for (const name of args.keys()) if (!known.has(name)) throw new Error(`unknown flag --${name}`);
const fixedCalls = args.has("calls") ? intArg(args, "calls", 100) : undefined;
const seconds = intArg(args, "seconds", 8);
const warmupSeconds = intArg(args, "warmup", 2, 0);
const resultsDir = args.get("results-dir");
const baseline = !args.has("no-baseline");
const configuration = args.has("debug") ? "Debug" : "Release";
const counts = fixedCalls !== undefined ? [fixedCalls] : SWEEP;

/** One bench:load:dotnet run (one call count), as written to benchmarks/results/load-dotnet-*.json. */
interface LoadDotnetResult {
  calls: number;
  seconds: number;
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
  transitP99Ms: number | null;
  latenessP99Ms: number | null;
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
    "utime + stime of the .NET host process (/proc/<pid>/stat, 10 ms ticks) over the window, not less its idle rate (hostIdleCpuUsPerSecond is recorded beside it), divided by the frames it forwarded to the worker plus the render frames it queued",
  tsEmulatorCpu:
    "process.cpuUsage() of the TypeScript far-end process (media platform emulator) over the window, not less its idle rate, divided by the frames it sent plus the frames it received back; same N, same worker, same tone",
  workerCpu:
    "process.cpuUsage() of the bot process (this one: the media worker thread + main thread) less its idle rate, per frame received + sent (runs.ts)",
  transitAndLateness:
    "worker histograms media_frame_transit_seconds and media_render_lateness_seconds against the .NET host; upper bound of the bucket holding p99",
  framesLostInTransit:
    "host bridge_received_frames_total{outcome=forwarded} minus the worker's media_frames_received_total over the window (frames in messages the worker refused whole)",
  drops:
    "worker media_frames_dropped_total (all reasons) + host drops: FrameBatches dropped x sessions, received before SessionCreated or of a bad size, render frames dropped (queue full, before ACTIVE, latency trim), refused or rejected",
};

let far: DotnetFarEnd | undefined;
let tsFar: FarEndProcess | undefined;
const perCountSeconds = (calls: number) => (6 + warmupSeconds + seconds + calls / 300) * (baseline ? 2 : 1);
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
    console.log(`\n== ${calls} calls, ${seconds} s (warm-up ${warmupSeconds} s) ==`);
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
    const result = buildResult(calls, dotnet, ts, hostIdle);
    results.push(result);
    printRun(result);
    console.log(`written ${writeResultIn(resultsDir, "load-dotnet", result)}`);
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
  dotnet: WorkerRun,
  ts: WorkerRun | null,
  hostIdleCpuUsPerSecond: number | null,
): LoadDotnetResult {
  const host = dotnet.farEnd;
  const workerDrops = Object.values(dotnet.workerDrops).reduce((a, b) => a + b, 0);
  const hostCpu = perFrame(host.cpuUs, host.framesSent + host.framesReceived);
  const tsCpu = ts ? perFrame(ts.farEnd.cpuUs, ts.farEnd.framesSent + ts.farEnd.framesReceived) : null;
  return {
    calls,
    seconds,
    framesSent: dotnet.workerFramesSent,
    framesReceived: dotnet.workerFramesReceived,
    framesDropped: workerDrops + host.framesDropped,
    framesLostInTransit: Math.max(0, host.framesSent - dotnet.workerFramesReceived),
    framesConcealed: dotnet.framesConcealed,
    transitP99Ms: dotnet.transit.p99Ms,
    latenessP99Ms: dotnet.lateness.p99Ms,
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

function fmt(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "-";
  if (!Number.isFinite(value)) return ">1000";
  return value.toFixed(digits);
}

function printRun(r: LoadDotnetResult): void {
  const far = (run: WorkerRun) => [
    run.farEnd.framesSent + run.farEnd.framesReceived,
    fmt(perFrame(run.farEnd.cpuUs, run.farEnd.framesSent + run.farEnd.framesReceived)),
    fmt((run.farEnd.cpuUs / 1000 / run.farEnd.wallMs) * 100, 1),
    fmt(run.cpu.cpuUsPerFrame),
    fmt(run.transit.p99Ms, 3),
    fmt(run.lateness.p99Ms, 3),
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
        "transit p99 ≤ ms",
        "lateness p99 ≤ ms",
        "drops",
      ],
      rows,
    ),
  );
  console.log(
    `drops against the .NET host: ${JSON.stringify(r.drops)}; frames lost in transit ${r.framesLostInTransit}, concealed ${r.framesConcealed}; host idle ${fmt(
      r.hostIdleCpuUsPerSecond === null ? null : r.hostIdleCpuUsPerSecond / 10_000,
      1,
    )} % of a core`,
  );
}

function printSummary(all: LoadDotnetResult[]): void {
  if (all.length === 0) return;
  console.log("\nbench:load:dotnet summary (µs of CPU per frame handled; machine shared, single runs)");
  console.log(
    formatTable(
      [
        "calls",
        "frames to/from bot",
        "drops",
        "lost in transit",
        "concealed",
        "transit p99 ≤",
        "lateness p99 ≤",
        ".NET host µs/fr",
        "(less idle)",
        "TS emulator µs/fr",
        "host/TS",
        "bot µs/fr",
      ],
      all.map((r) => [
        r.calls,
        `${r.framesReceived}/${r.framesSent}`,
        r.framesDropped,
        r.framesLostInTransit,
        r.framesConcealed,
        fmt(r.transitP99Ms, 3),
        fmt(r.latenessP99Ms, 3),
        fmt(r.hostCpuUsPerFrame),
        fmt(r.hostCpuUsPerFrameLessIdle),
        fmt(r.tsEmulatorCpuUsPerFrame),
        fmt(r.hostOverTsEmulator),
        fmt(r.workerCpuUsPerFrame),
      ]),
    ),
  );
}
