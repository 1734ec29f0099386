import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DEFAULTS } from "../../src/config/config.js";
import { createLogger } from "../../src/log/logger.js";
import { BridgeMediaSessionProvider } from "../../src/media/bridge-media-session-provider.js";
import type { LatencyProbeSnapshot } from "../../src/media/latency-probe.js";
import {
  deltaOf,
  histogramWindow,
  labelDeltas,
  maxUpperBoundMs,
  parseExposition,
  quantileUpperBoundMs,
  type Scrape,
} from "../../src/metrics/prometheus-text.js";
import { BaselineBotThread, type BotKind } from "./baseline-bot-thread.js";
import { CpuWindow, idleCpuUsPerSecond, threadIds } from "./cpu.js";
import type { BaselineKind, FarEndWindow, JsonLayout } from "./far-end-messages.js";
import type { FarEndProcess } from "./far-end-process.js";
import { RECORD_AHEAD_MS, type StallEvidenceReport, StallEvidenceRun } from "./stall-evidence.js";

export interface RunOptions {
  calls: number;
  seconds: number;
  warmupSeconds: number;
  /** How long the idle CPU of the bot process is sampled before the streams start. */
  idleMs: number;
  /** The worker's live playout target in frames (undefined: the provider's default). */
  liveTarget?: number;
  /** Whether that target adapts per call (undefined: the provider's default). */
  adaptiveLiveTarget?: boolean;
  /** Record what stalls the worker run's window (stall-evidence.ts); off by default. */
  stallEvidence?: boolean;
}

/** CPU of the bot process over the window, less what it burns idle, per frame handled. */
export interface CpuFigures {
  processCpuUs: number;
  idleCpuUs: number;
  wallMs: number;
  /**
   * Frames the bot side received plus frames it sent, over the CPU window: framesCounted scaled
   * by wallMs / framesCountedOverMs (the counters are read just outside the CPU window).
   */
  framesHandled: number;
  /** Frames received plus sent between the two counter reads, and the time between the reads. */
  framesCounted: number;
  framesCountedOverMs: number;
  cpuUsPerFrame: number | null;
  /** Share of one core the bot side used (idle removed). */
  coreShare: number;
}

export interface WorkerRun {
  /** The depth live audio (the echo) was trimmed back to, in frames (at most, when adaptive). */
  livePlayoutTargetFrames: number;
  adaptiveLiveTarget: boolean;
  cpu: CpuFigures;
  /** The media worker thread's own CPU (Linux /proc, 10 ms ticks) per frame handled. */
  workerThreadCpuUsPerFrame: number | null;
  farEnd: FarEndWindow;
  workerFramesReceived: number;
  workerFramesSent: number;
  /** media_frames_dropped_total by reason (frames). */
  workerDrops: Record<string, number>;
  /** bridge_send_drops_total by reason (batches). */
  bridgeSendDrops: Record<string, number>;
  pacerSkippedTicks: number;
  framesConcealed: number;
  /** Upper bounds of the bucket holding each percentile (ms); see prometheus-text.ts. */
  transit: { count: number; p50Ms: number | null; p99Ms: number | null; maxMs: number | null };
  lateness: { count: number; p50Ms: number | null; p99Ms: number | null; maxMs: number | null };
  bridgeBatchTransit: { count: number; p50Ms: number | null; p99Ms: number | null };
  /** media_playout_queue_depth_frames (per session per tick), bucket upper bounds in frames. */
  playoutQueueDepth: { p50Frames: number | null; p99Frames: number | null };
  /** With RunOptions.stallEvidence: GCs, loop stalls, late ticks, trims and gaps, correlated. */
  stallEvidence?: StallEvidenceReport;
  /** The worker's latency probe over the window (exact stage readings; null: not read). */
  probe: LatencyProbeSnapshot | null;
}

export interface BaselineRun {
  kind: BotKind;
  layout: JsonLayout;
  /** WebSockets the bot side opened (1, or one per call) and how long opening them took. */
  sockets: number;
  connectMs: number;
  cpu: CpuFigures;
  farEnd: FarEndWindow;
  botFramesDropped: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function cpuFigures(
  window: { processUs: number; wallMs: number },
  idlePerSecond: number,
  counted: { frames: number; overMs: number },
): CpuFigures {
  const framesHandled = framesInCpuWindow(window.wallMs, counted);
  const idleCpuUs = (idlePerSecond * window.wallMs) / 1000;
  const used = Math.max(0, window.processUs - idleCpuUs);
  return {
    processCpuUs: Math.round(window.processUs),
    idleCpuUs: Math.round(idleCpuUs),
    wallMs: Math.round(window.wallMs),
    framesHandled,
    framesCounted: counted.frames,
    framesCountedOverMs: Math.round(counted.overMs * 10) / 10,
    // Nothing left over the idle rate (a tiny run within the idle sample's noise): not measured,
    // rather than a cost of 0 that a ratio would divide by.
    cpuUsPerFrame: framesHandled > 0 && used > 0 ? round(used / framesHandled, 3) : null,
    coreShare: round(used / 1000 / window.wallMs, 3),
  };
}

/**
 * Frames handled over the CPU window, from frames counted between two counter reads that
 * bracket it (each read a round trip to the thread keeping the counters). The span between the
 * reads is taken reply to reply, so each read's own delay cancels out, and the count is scaled
 * to the CPU window's wall time: frames and CPU then cover the same span for every design,
 * whatever a read costs (a Prometheus scrape of the worker, a counters message to a baseline).
 */
export function framesInCpuWindow(cpuWallMs: number, counted: { frames: number; overMs: number }): number {
  if (counted.overMs <= 0) return counted.frames;
  return Math.round((counted.frames * cpuWallMs) / counted.overMs);
}

/**
 * The measuring window, the same for every design: the far end's window opens, the bot side's
 * counters are read, the CPU window runs, the counters are read again, the far end's window
 * closes. Nothing but the counter reads stands between them and the CPU window.
 */
async function measureWindow<T>(
  far: Pick<FarEndProcess, "request">,
  readCounters: () => Promise<T>,
  seconds: number,
  tids: readonly number[] = [],
): Promise<{
  before: T;
  after: T;
  used: ReturnType<CpuWindow["stop"]>;
  countedOverMs: number;
  farEnd: FarEndWindow;
}> {
  await far.request({ op: "beginWindow" });
  const before = await readCounters();
  const readBefore = performance.now();
  const cpu = new CpuWindow(tids);
  cpu.start();
  await sleep(seconds * 1000);
  const used = cpu.stop();
  const after = await readCounters();
  const countedOverMs = performance.now() - readBefore;
  const farEnd = await far.request({ op: "endWindow" });
  return { before, after, used, countedOverMs, farEnd };
}

/** What runWorker needs of a far end: the TypeScript one, or the .NET host (load-dotnet.ts). */
export type WorkerFarEnd = Pick<FarEndProcess, "request">;

/**
 * The real thing: BridgeMediaSessionProvider (the media worker thread, echo handler) in this
 * process against the media platform emulator in the far-end process; `calls` sessions made
 * through createSession as signaling makes them, their media connected by the emulator.
 */
export async function runWorker(far: WorkerFarEnd, options: RunOptions): Promise<WorkerRun> {
  const secret = randomBytes(24).toString("base64url");
  const { url } = await far.request({ op: "startEmulator", secret });
  const recordingsDir = await mkdtemp(path.join(tmpdir(), "bench-load-"));
  const threadsBefore = new Set(threadIds());
  const provider = await BridgeMediaSessionProvider.start({
    bridge: { url, secret, reconnectGraceMs: 5000 },
    media: { fqdn: "media.bench.local", publicPort: 8445, unmixedAudio: false, recordingsDir },
    handlers: [{ builtin: "echo" }],
    logger: createLogger({ level: process.env.BOT_LOG_LEVEL ?? "warn", name: "bench-load" }),
    maxSessions: options.calls,
    requestTimeoutMs: 30_000,
    livePlayoutTargetFrames: options.liveTarget,
    adaptiveLiveTarget: options.adaptiveLiveTarget,
    latencyProbe: true,
  });
  // The worker is the thread that appeared with the provider (with any helper threads it started).
  const workerThreads = threadIds().filter((tid) => !threadsBefore.has(tid));
  try {
    await provider.waitUntilConnected(10_000);
    const idle = await idleCpuUsPerSecond(options.idleMs);
    const callIds = Array.from({ length: options.calls }, () => randomUUID());
    const mediaSessionIds: string[] = [];
    for (let first = 0; first < callIds.length; first += 100) {
      const group = callIds.slice(first, first + 100);
      const sessions = await Promise.all(
        group.map((callId) => provider.createSession({ callId, direction: "sendRecv", unmixedAudio: false })),
      );
      mediaSessionIds.push(...sessions.map((s) => s.mediaSessionId));
    }
    const { connected } = await far.request({ op: "connectMedia", mediaSessionIds, timeoutMs: 10_000 });
    if (connected !== options.calls)
      throw new Error(`only ${connected} of ${options.calls} sessions connected`);
    // Stall evidence starts a trim's look-back ahead of the window (stall-evidence.ts).
    const ahead = options.stallEvidence ? Math.min(options.warmupSeconds * 1000, RECORD_AHEAD_MS) : 0;
    await sleep(options.warmupSeconds * 1000 - ahead);
    const stalls = options.stallEvidence ? await StallEvidenceRun.start(provider, far) : undefined;
    await sleep(ahead);
    stalls?.windowOpens();
    // The probe's window is the counters' (reset with the first read, read with the second).
    let probe: LatencyProbeSnapshot | null = null;
    let reads = 0;
    const { before, after, used, countedOverMs, farEnd } = await measureWindow(
      far,
      async () => {
        const first = reads++ === 0;
        const scrape = parseExposition(await provider.metrics());
        const snapshot = await provider.latencyProbe(first);
        if (!first) probe = snapshot;
        return scrape;
      },
      options.seconds,
      workerThreads,
    );
    const stallEvidence = await stalls?.finish();

    const received = deltaOf(before, after, "media_frames_received_total");
    const sent = deltaOf(before, after, "media_frames_sent_total");
    const cpu = cpuFigures(used, idle, { frames: received + sent, overMs: countedOverMs });
    return {
      livePlayoutTargetFrames: options.liveTarget ?? DEFAULTS.livePlayoutTargetFrames,
      adaptiveLiveTarget: options.adaptiveLiveTarget ?? DEFAULTS.adaptiveLiveTarget,
      cpu,
      workerThreadCpuUsPerFrame:
        used.threadsUs !== null && cpu.framesHandled > 0
          ? round(used.threadsUs / cpu.framesHandled, 3)
          : null,
      farEnd,
      workerFramesReceived: received,
      workerFramesSent: sent,
      workerDrops: labelDeltas(before, after, "media_frames_dropped_total"),
      bridgeSendDrops: labelDeltas(before, after, "bridge_send_drops_total"),
      pacerSkippedTicks: deltaOf(before, after, "media_pacer_skipped_ticks_total"),
      framesConcealed: deltaOf(before, after, "media_frames_concealed_total"),
      transit: percentiles(before, after, "media_frame_transit_seconds"),
      lateness: percentiles(before, after, "media_render_lateness_seconds"),
      bridgeBatchTransit: percentiles(before, after, "bridge_batch_transit_seconds"),
      playoutQueueDepth: queueDepth(before, after),
      ...(stallEvidence ? { stallEvidence } : {}),
      probe,
    };
  } finally {
    await provider.close();
    await rm(recordingsDir, { recursive: true, force: true });
  }
}

/** Opening a baseline's sockets may take this long plus this much per socket (1000: 30 s). */
const CONNECT_BASE_MS = 10_000;
const CONNECT_PER_SOCKET_MS = 20;

/**
 * The bot's sockets open within `ms`, or the run fails naming what did not connect (rather than
 * waiting for the benchmark's watchdog). Sockets still opening are closed by the far end's
 * stopBaseline, which terminates its side.
 */
async function connectWithin(
  connecting: Promise<BaselineBotThread>,
  ms: number,
  what: string,
): Promise<BaselineBotThread> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} not open within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([connecting, late]);
  } catch (error) {
    // A bot that opens after all would hold its sockets: close it when it does.
    connecting.then((bot) => bot.close()).catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** A baseline design over the same kind of loopback socket, its far end in the far-end process. */
export async function runBaseline(
  far: FarEndProcess,
  kind: BaselineKind,
  layout: JsonLayout,
  options: RunOptions,
): Promise<BaselineRun> {
  const { url } = await far.request({ op: "startBaseline", kind, calls: options.calls, layout });
  let bot: BaselineBotThread | undefined;
  try {
    const sockets = kind === "jsonBase64" && layout === "perCall" ? options.calls : 1;
    const connectStart = performance.now();
    bot = await connectWithin(
      BaselineBotThread.start({ url, kind, calls: options.calls, layout }),
      CONNECT_BASE_MS + sockets * CONNECT_PER_SOCKET_MS,
      `${kind} (${layout}): ${sockets} WebSocket(s) to the far end`,
    );
    const connectMs = Math.round(performance.now() - connectStart);
    // Idle as the worker's is sampled: its thread started and connected, no stream started yet.
    const idle = await idleCpuUsPerSecond(options.idleMs);
    await far.request({ op: "startStreams" });
    return { kind, layout, sockets, connectMs, ...(await measureBot(far, bot, idle, options)) };
  } finally {
    await bot?.close();
    await far.request({ op: "stopBaseline" });
  }
}

/**
 * The bridge protocol with no media engine (protocol-echo-bot.ts) in a thread started like
 * the worker, against the same media platform emulator the worker runs against: the part of
 * the worker's cost the protocol and its transport account for.
 */
export async function runProtocolEcho(far: FarEndProcess, options: RunOptions): Promise<BaselineRun> {
  const secret = randomBytes(24).toString("base64url");
  const { url } = await far.request({ op: "startEmulator", secret });
  let bot: BaselineBotThread | undefined;
  try {
    const connectStart = performance.now();
    bot = await connectWithin(
      BaselineBotThread.start({ url, kind: "protocolEcho", calls: options.calls, layout: "shared", secret }),
      CONNECT_BASE_MS + options.calls * CONNECT_PER_SOCKET_MS,
      `protocol echo: ${options.calls} sessions on the media platform emulator`,
    );
    const connectMs = Math.round(performance.now() - connectStart);
    // Idle as the worker's is sampled: its thread started and connected, no stream started yet
    // (the streams start when the emulator connects the sessions' media, below).
    const idle = await idleCpuUsPerSecond(options.idleMs);
    const { connected } = await far.request({
      op: "connectMedia",
      mediaSessionIds: bot.mediaSessionIds,
      timeoutMs: 10_000,
    });
    if (connected !== options.calls)
      throw new Error(`protocol echo: only ${connected} of ${options.calls} sessions connected`);
    return {
      kind: "protocolEcho",
      layout: "shared",
      sockets: 1,
      connectMs,
      ...(await measureBot(far, bot, idle, options)),
    };
  } finally {
    await bot?.close();
    await far.request({ op: "stopEmulator" });
  }
}

/** Warm-up, then the window: the bot process's CPU, the bot's counters, the far end's view. */
async function measureBot(
  far: FarEndProcess,
  bot: BaselineBotThread,
  idle: number,
  options: RunOptions,
): Promise<Pick<BaselineRun, "cpu" | "farEnd" | "botFramesDropped">> {
  await sleep(options.warmupSeconds * 1000);
  const { before, after, used, countedOverMs, farEnd } = await measureWindow(
    far,
    () => bot.counters(),
    options.seconds,
  );
  const handled = after.framesReceived - before.framesReceived + (after.framesSent - before.framesSent);
  const botFramesDropped = after.framesDropped - before.framesDropped;
  return {
    cpu: cpuFigures(used, idle, { frames: handled, overMs: countedOverMs }),
    farEnd,
    botFramesDropped,
  };
}

function percentiles(before: Scrape, after: Scrape, name: string) {
  const window = histogramWindow(before, after, name);
  return {
    count: window.count,
    p50Ms: roundOrNull(quantileUpperBoundMs(window, 0.5)),
    p99Ms: roundOrNull(quantileUpperBoundMs(window, 0.99)),
    maxMs: roundOrNull(maxUpperBoundMs(window)),
  };
}

function queueDepth(before: Scrape, after: Scrape) {
  // The helpers read seconds and report ms; depth buckets are frames, so undo the scaling.
  const window = histogramWindow(before, after, "media_playout_queue_depth_frames");
  const frames = (ms: number | null) => (ms === null ? null : ms / 1000);
  return {
    p50Frames: frames(quantileUpperBoundMs(window, 0.5)),
    p99Frames: frames(quantileUpperBoundMs(window, 0.99)),
  };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function roundOrNull(value: number | null): number | null {
  return value === null || !Number.isFinite(value) ? value : round(value, 3);
}
