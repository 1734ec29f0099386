/**
 * `npm run bench:load -- --memory [--calls N] [--memory-minutes M]`: the bot's memory with
 * N duplex echo calls against the far end: the bot process's RSS, its main thread's heap and the
 * media worker thread's own heap at 0, N/2 and N calls (after each step settles), then every
 * few seconds over an M-minute run at N calls. Prints bytes per call (from the steps) and
 * growth per minute (a line fitted through the run's second half, soak/growth.ts), and writes
 * a `load-memory` result file. Defaults: N = 1000, M = 10.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createLogger } from "../../src/log/logger.js";
import { BridgeMediaSessionProvider } from "../../src/media/bridge-media-session-provider.js";
import { parseExposition } from "../../src/metrics/prometheus-text.js";
import { medianOf } from "../lib/median.js";
import { type ProcessMemory, processMemory } from "../lib/memory-probe.js";
import { writeResultIn } from "../lib/result-file.js";
import { formatTable } from "../lib/results.js";
import { fitWindow, type Growth, growthOver, type Point } from "../soak/growth.js";
import type { FarEndProcess } from "./far-end-process.js";

/** One reading of the bot's memory (bytes). */
export interface BotMemorySample {
  /** Seconds since the long run started (steps: since the benchmark started). */
  t: number;
  calls: number;
  /** The bot process (all its threads): RSS; its main thread's heap. */
  rssBytes: number;
  mainHeapUsedBytes: number;
  /** The media worker thread's own isolate (media_worker_heap_used_bytes / _total_bytes). */
  workerHeapUsedBytes: number | null;
  workerHeapTotalBytes: number | null;
  /** Buffers outside the heaps (process.memoryUsage().arrayBuffers: every isolate of the process). */
  arrayBuffersBytes: number;
}

export interface MemoryStep {
  calls: number;
  /** RSS: the median of the step's samples (bytes). */
  rssBytes: number;
  /**
   * Heaps: the smallest of the step's samples (bytes), the nearest to the heap's level after a
   * collection without forcing one (a heap read at a random point of its GC saw-tooth can be
   * megabytes above it).
   */
  mainHeapUsedBytes: number;
  workerHeapUsedBytes: number | null;
  samples: BotMemorySample[];
}

export interface MemoryResult {
  calls: number;
  minutes: number;
  settleSeconds: number;
  steps: MemoryStep[];
  /** (step at N − step at 0) / N, per measure (bytes per call). */
  bytesPerCall: { rss: number; mainHeap: number; workerHeap: number | null };
  /** The same from 0 to N/2 (how straight the per-call cost is). */
  bytesPerCallHalf: { rss: number; mainHeap: number; workerHeap: number | null };
  run: BotMemorySample[];
  /** Fitted over the run's second half, through every sample. */
  growth: { rss: Growth; mainHeap: Growth; workerHeap: Growth };
  /**
   * Heaps' floors: a line through the smallest sample of each group of FLOOR_GROUP samples, over
   * the whole run (the level the heap comes back to after collections: a leak raises it).
   */
  floorGrowth: { mainHeap: Growth; workerHeap: Growth };
  /** The far end's process after the run (informative). */
  farEnd: ProcessMemory | null;
  method: string[];
}

export interface MemoryOptions {
  calls: number;
  minutes: number;
  /** How long each step runs before its samples (s). */
  settleSeconds: number;
  /** Samples per step, one a second; the step's figure is their median. */
  stepSamples: number;
  resultsDir?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How long runMemorySteps may take (s): setup, steps, the run, closing. */
export function memoryRunSeconds(options: MemoryOptions): number {
  return 60 + 3 * (options.settleSeconds + options.stepSamples) + options.minutes * 60 + options.calls / 20;
}

export async function runMemorySteps(far: FarEndProcess, options: MemoryOptions): Promise<MemoryResult> {
  const secret = randomBytes(24).toString("base64url");
  const { url } = await far.request({ op: "startEmulator", secret });
  const recordingsDir = await mkdtemp(path.join(tmpdir(), "bench-load-memory-"));
  const provider = await BridgeMediaSessionProvider.start({
    bridge: { url, secret, reconnectGraceMs: 5000 },
    media: { fqdn: "media.bench.local", publicPort: 8445, unmixedAudio: false, recordingsDir },
    handlers: [{ builtin: "echo" }],
    logger: createLogger({ level: process.env.BOT_LOG_LEVEL ?? "warn", name: "bench-load-memory" }),
    maxSessions: options.calls,
    requestTimeoutMs: 30_000,
  });
  const started = performance.now();
  const sample = async (calls: number, since = started): Promise<BotMemorySample> => {
    const scrape = parseExposition(await provider.metrics());
    const own = processMemory();
    return {
      t: Math.round((performance.now() - since) / 100) / 10,
      calls,
      rssBytes: own.rssBytes,
      mainHeapUsedBytes: own.heapUsedBytes,
      workerHeapUsedBytes: scrape.get("media_worker_heap_used_bytes") ?? null,
      workerHeapTotalBytes: scrape.get("media_worker_heap_total_bytes") ?? null,
      arrayBuffersBytes: own.arrayBuffersBytes,
    };
  };
  let open = 0;
  const addCalls = async (count: number) => {
    const ids: string[] = [];
    for (let first = 0; first < count; first += 100) {
      const group = Array.from({ length: Math.min(100, count - first) }, () => randomUUID());
      const sessions = await Promise.all(
        group.map((callId) => provider.createSession({ callId, direction: "sendRecv", unmixedAudio: false })),
      );
      ids.push(...sessions.map((s) => s.mediaSessionId));
    }
    const { connected } = await far.request({ op: "connectMedia", mediaSessionIds: ids, timeoutMs: 10_000 });
    if (connected !== count) throw new Error(`only ${connected} of ${count} sessions connected`);
    open += count;
  };
  const step = async (): Promise<MemoryStep> => {
    await sleep(options.settleSeconds * 1000);
    const samples: BotMemorySample[] = [];
    for (let i = 0; i < options.stepSamples; i++) {
      samples.push(await sample(open));
      await sleep(1000);
    }
    const step: MemoryStep = {
      calls: open,
      rssBytes: medianOf(samples.map((s) => s.rssBytes)) ?? 0,
      mainHeapUsedBytes: smallestOf(samples.map((s) => s.mainHeapUsedBytes)) ?? 0,
      workerHeapUsedBytes: smallestOf(samples.map((s) => s.workerHeapUsedBytes)),
      samples,
    };
    console.log(
      `${open} calls: bot RSS ${mib(step.rssBytes)}, main heap ${mib(step.mainHeapUsedBytes)}, worker heap ${mib(step.workerHeapUsedBytes)}`,
    );
    return step;
  };
  try {
    await provider.waitUntilConnected(10_000);
    const half = Math.floor(options.calls / 2);
    const steps = [await step()];
    await addCalls(half);
    steps.push(await step());
    await addCalls(options.calls - half);
    steps.push(await step());

    const runStart = performance.now();
    const runMs = options.minutes * 60_000;
    // About 30 samples over the run, at most one every 10 s, at least one every 2 s.
    const everyMs = Math.min(10_000, Math.max(2000, runMs / 30));
    const run: BotMemorySample[] = [];
    console.log(`${options.calls} calls for ${options.minutes} min, a sample every ${everyMs / 1000} s`);
    while (performance.now() - runStart < runMs) {
      run.push(await sample(open, runStart));
      await sleep(Math.min(everyMs, Math.max(0, runMs - (performance.now() - runStart))));
    }
    run.push(await sample(open, runStart));
    const runS = (performance.now() - runStart) / 1000;
    const window = fitWindow(runS, 0);
    const series = (pick: (s: BotMemorySample) => number | null): Point[] =>
      run.flatMap((s) => {
        const value = pick(s);
        return value === null ? [] : [{ t: s.t, value }];
      });
    const growth = (pick: (s: BotMemorySample) => number | null) =>
      growthOver(series(pick), window.fromS, window.toS, []);
    const floorGrowth = (pick: (s: BotMemorySample) => number | null) =>
      growthOver(floorsOf(series(pick), FLOOR_GROUP), 0, runS, []);
    const [zero, middle, full] = steps as [MemoryStep, MemoryStep, MemoryStep];
    const perCall = (to: MemoryStep, calls: number) => ({
      rss: Math.round((to.rssBytes - zero.rssBytes) / calls),
      mainHeap: Math.round((to.mainHeapUsedBytes - zero.mainHeapUsedBytes) / calls),
      workerHeap:
        to.workerHeapUsedBytes === null || zero.workerHeapUsedBytes === null
          ? null
          : Math.round((to.workerHeapUsedBytes - zero.workerHeapUsedBytes) / calls),
    });
    return {
      calls: options.calls,
      minutes: options.minutes,
      settleSeconds: options.settleSeconds,
      steps,
      bytesPerCall: perCall(full, Math.max(1, options.calls)),
      bytesPerCallHalf: perCall(middle, Math.max(1, half)),
      run,
      growth: {
        rss: growth((s) => s.rssBytes),
        mainHeap: growth((s) => s.mainHeapUsedBytes),
        workerHeap: growth((s) => s.workerHeapUsedBytes),
      },
      floorGrowth: {
        mainHeap: floorGrowth((s) => s.mainHeapUsedBytes),
        workerHeap: floorGrowth((s) => s.workerHeapUsedBytes),
      },
      farEnd: await far.memory().catch(() => null),
      method: [
        "The bot side is this process: BridgeMediaSessionProvider (the media worker thread, echo handler) as in bench:load's worker run, against the media platform emulator in the far-end process.",
        "Steps: 0 calls (worker connected), N/2, N; each runs settleSeconds, then stepSamples samples a second apart, the step's figure their median. RSS and main-thread heap by process.memoryUsage() (RSS covers every thread and this benchmark's own state); the worker's heap by media_worker_heap_used_bytes (v8.getHeapStatistics() on the worker thread). No GC is forced: heaps are read as they stand.",
        "Step figures: RSS the median of the step's samples; heaps the smallest (the nearest to the level after a collection, none being forced). bytesPerCall: (figure at N − figure at 0) / N. floorGrowth: a line through the smallest heap sample of each group of 6, over the whole run. growth: a least-squares line through the run's samples over its second half (soak/growth.ts), bytesPerMinute its slope, r² how straight the samples are (GC makes heaps saw-toothed); first/last/peak are measured, not fitted.",
      ],
    };
  } finally {
    await provider.close();
    await far.request({ op: "stopEmulator" }).catch(() => {});
    await rm(recordingsDir, { recursive: true, force: true });
  }
}

/** The printed summary of a memory run. */
export function formatMemory(r: MemoryResult): string {
  const rows = r.steps.map((s) => [
    s.calls,
    mib(s.rssBytes),
    mib(s.mainHeapUsedBytes),
    mib(s.workerHeapUsedBytes),
  ]);
  const last = r.run.at(-1);
  if (last)
    rows.push([
      `${r.calls} after ${r.minutes} min`,
      mib(last.rssBytes),
      mib(last.mainHeapUsedBytes),
      mib(last.workerHeapUsedBytes),
    ]);
  const kb = (bytes: number | null) => (bytes === null ? "-" : (bytes / 1024).toFixed(1));
  const perMin = (g: Growth) =>
    g.bytesPerMinute === null
      ? "-"
      : `${kb(g.bytesPerMinute)} (r² ${g.r2 === null ? "-" : g.r2.toFixed(2)}, ${g.samples} samples)`;
  return [
    `\nbench:load --memory: ${r.calls} calls (steps settle ${r.settleSeconds} s; RSS the median of ${r.steps[0]?.samples.length ?? 0} samples, heaps the smallest; the run ${r.minutes} min)`,
    formatTable(["calls", "bot RSS MiB", "main heap MiB", "worker heap MiB"], rows),
    formatTable(
      ["", "bot RSS", "main heap", "worker heap"],
      [
        [
          `KiB per call (0 → ${r.calls})`,
          kb(r.bytesPerCall.rss),
          kb(r.bytesPerCall.mainHeap),
          kb(r.bytesPerCall.workerHeap),
        ],
        [
          `KiB per call (0 → ${Math.floor(r.calls / 2)})`,
          kb(r.bytesPerCallHalf.rss),
          kb(r.bytesPerCallHalf.mainHeap),
          kb(r.bytesPerCallHalf.workerHeap),
        ],
        [
          `KiB per minute (fit, ${r.growth.rss.fromS}-${r.growth.rss.toS} s)`,
          perMin(r.growth.rss),
          perMin(r.growth.mainHeap),
          perMin(r.growth.workerHeap),
        ],
        [
          "KiB per minute (heap floors, whole run)",
          "",
          perMin(r.floorGrowth.mainHeap),
          perMin(r.floorGrowth.workerHeap),
        ],
      ],
    ),
  ].join("\n");
}

/**
 * The --memory command of bench:load: its own far end and watchdog, the run, the printout and
 * the result file; exits the process when done.
 */
export async function memoryCommand(
  startFarEnd: (maxLifetimeMs: number) => Promise<FarEndProcess>,
  options: MemoryOptions,
): Promise<never> {
  const hardLimitMs = memoryRunSeconds(options) * 1000 + 120_000;
  const watchdog = setTimeout(() => {
    console.error(
      `bench:load --memory exceeded its hard limit of ${Math.round(hardLimitMs / 1000)} s; stopping`,
    );
    process.exit(2);
  }, hardLimitMs);
  let far: FarEndProcess | undefined;
  let exitCode = 0;
  try {
    far = await startFarEnd(hardLimitMs + 10_000);
    console.log(`far end: pid ${far.pid}`);
    const result = await runMemorySteps(far, options);
    console.log(formatMemory(result));
    console.log(`written ${writeResultIn(options.resultsDir, "load-memory", result)}`);
  } catch (error) {
    console.error(`bench:load --memory failed: ${(error as Error).stack ?? error}`);
    exitCode = 1;
  } finally {
    await far?.stop().catch(() => {});
    clearTimeout(watchdog);
  }
  process.exit(exitCode);
}

/** Samples per group whose smallest is a heap floor point. */
const FLOOR_GROUP = 6;

/** The smallest point of each group of `size` consecutive points (a last partial group included). */
export function floorsOf(points: readonly Point[], size: number): Point[] {
  const floors: Point[] = [];
  for (let first = 0; first < points.length; first += size) {
    const group = points.slice(first, first + size);
    let low = group[0] as Point;
    for (const point of group) if (point.value < low.value) low = point;
    floors.push(low);
  }
  return floors;
}

function smallestOf(values: readonly (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length > 0 ? Math.min(...known) : null;
}

function mib(bytes: number | null | undefined): string {
  return bytes === null || bytes === undefined ? "-" : (bytes / 1048576).toFixed(1);
}
