/**
 * The far end of bench:load:dotnet: the .NET media host (fake platform) in its own process,
 * driven through the same requests as the TypeScript far end (far-end-messages.ts), so
 * runs.ts's runWorker() measures the media worker against it unchanged. What the TypeScript
 * far end measures itself (frames, drops, its CPU) comes here from the host's /metrics and
 * from /proc/<pid>/stat of the host process; the echo round trip from the fake platform's own
 * reading (--fake-echo-stats: a watermark in its source frames matched in the render frames
 * the host hands back, exact microseconds), reset at beginWindow and read at endWindow.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pcm16kWavHeader } from "../../src/media/wav-writer.js";
import {
  deltaOf,
  labelDeltas,
  parseExposition,
  type Scrape,
  sumOf,
} from "../../src/metrics/prometheus-text.js";
import {
  DotnetHost,
  type FakeEchoLatency,
  type HostConfiguration,
} from "../../test/cross-language/dotnet-host.js";
import type { StageFigures } from "../lib/latency-histogram.js";
import { toneSecond } from "./baseline-wire.js";
import type { FarEndRequest, FarEndResults, FarEndWindow } from "./far-end-messages.js";
import { figuresOf } from "./load-result.js";

export interface DotnetFarEndOptions {
  configuration?: HostConfiguration;
  /** Sessions the host accepts (BOT_BRIDGE_MAX_SESSIONS); 0 = no limit. */
  maxSessions?: number;
  /** The host is killed after this long whatever happens. */
  maxLifetimeMs: number;
  /** How long the host's idle CPU is sampled after it starts (ms, default 1000). */
  idleMs?: number;
}

interface WindowStart {
  scrape: Scrape;
  cpuUs: number;
  wallMs: number;
}

/**
 * One host per startEmulator (the previous one is stopped first). The host plays the same
 * precomputed second of tone as the TypeScript far end (as a WAV file), so both copy frames
 * rather than compute a sine per sample.
 */
export class DotnetFarEnd {
  private host: DotnetHost | undefined;
  private windowStart: WindowStart | undefined;
  private readonly dir = mkdtempSync(path.join(tmpdir(), "bench-load-dotnet-"));
  private readonly wavPath = path.join(this.dir, "tone-440hz-1s.wav");
  /** CPU the last host burned per second before any session existed (µs/s). */
  idleCpuUsPerSecond: number | null = null;

  constructor(private readonly options: DotnetFarEndOptions) {
    const tone = toneSecond();
    writeFileSync(this.wavPath, Buffer.concat([pcm16kWavHeader(tone.length), tone]));
  }

  get pid(): number | undefined {
    return this.host?.pid;
  }

  request<K extends FarEndRequest["op"]>(
    request: Extract<FarEndRequest, { op: K }>,
    _timeoutMs?: number,
  ): Promise<FarEndResults[K]> {
    return this.handle(request) as Promise<FarEndResults[K]>;
  }

  /** Stops the host (SIGTERM, SIGKILL after 10 s) and removes the temporary files. */
  async stop(): Promise<void> {
    const host = this.host;
    this.host = undefined;
    try {
      if (host) {
        const exit = await host.stop(10_000);
        if (exit.code !== 0)
          console.error(`.NET host exited with ${exit.signal ?? exit.code}:\n${host.stderrTail()}`);
      }
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  private async handle(request: FarEndRequest): Promise<unknown> {
    switch (request.op) {
      case "startEmulator": {
        await this.host?.stop(10_000);
        this.host = undefined;
        const host = await DotnetHost.start({
          configuration: this.options.configuration ?? "Release",
          secret: request.secret,
          wavPath: this.wavPath,
          env: { BOT_BRIDGE_MAX_SESSIONS: String(this.options.maxSessions ?? 0), BOT_LOG_LEVEL: "warn" },
          echoStats: true,
          maxLifetimeMs: this.options.maxLifetimeMs,
        });
        this.host = host;
        this.idleCpuUsPerSecond = await sampleIdle(host, this.options.idleMs ?? 1000);
        return { url: host.url } satisfies FarEndResults["startEmulator"];
      }
      case "stopEmulator": {
        await this.host?.stop(10_000);
        this.host = undefined;
        return {};
      }
      case "connectMedia": {
        // The fake platform connects each session itself (send status ACTIVE 100 ms after it is
        // created): wait until the host holds them all, then for ACTIVE.
        const host = this.requireHost();
        const deadline = Date.now() + request.timeoutMs;
        let active = 0;
        for (;;) {
          active = sumOf(parseExposition(await host.metrics()), "bridge_sessions_active");
          if (active >= request.mediaSessionIds.length || Date.now() > deadline) break;
          await sleep(100);
        }
        await sleep(300);
        return {
          connected: Math.min(active, request.mediaSessionIds.length),
        } satisfies FarEndResults["connectMedia"];
      }
      case "beginWindow": {
        const host = this.requireHost();
        // The echo window first: the counters' scrape stays next to the worker's own reading.
        await host.resetEchoLatency();
        const scrape = parseExposition(await host.metrics());
        this.windowStart = { scrape, cpuUs: this.hostCpu(host), wallMs: performance.now() };
        return {};
      }
      case "endWindow": {
        const host = this.requireHost();
        const start = this.windowStart;
        if (!start) throw new Error("endWindow without beginWindow");
        this.windowStart = undefined;
        const cpuUs = this.hostCpu(host) - start.cpuUs;
        const wallMs = performance.now() - start.wallMs;
        const end = parseExposition(await host.metrics());
        const echo = await host.echoLatency();
        return windowOf(start.scrape, end, echo, cpuUs, wallMs) satisfies FarEndWindow;
      }
      case "startBaseline":
      case "stopBaseline":
        throw new Error("the .NET far end runs the media worker design only");
      case "stallEvidence":
        // The .NET host has no such reading: the worker's and the bot's main thread's only.
        return { evidence: null };
      case "stop":
        await this.stop();
        return {};
    }
  }

  private requireHost(): DotnetHost {
    if (!this.host) throw new Error("the .NET host is not started");
    return this.host;
  }

  private hostCpu(host: DotnetHost): number {
    const cpu = host.cpuUs();
    if (cpu === null) throw new Error(`cannot read /proc/${host.pid}/stat (not Linux, or the host is gone)`);
    return cpu;
  }
}

/** The host's side of a window, in the TypeScript far end's terms. */
function windowOf(
  before: Scrape,
  after: Scrape,
  echo: FakeEchoLatency,
  cpuUs: number,
  wallMs: number,
): FarEndWindow {
  const received = labelDeltas(before, after, "bridge_received_frames_total");
  const render = labelDeltas(before, after, "bridge_render_frames_total");
  // A dropped FrameBatch carried one frame of every live session.
  const batchesDropped = deltaOf(before, after, "bridge_frame_batches_dropped_total");
  const sessions = sumOf(after, "bridge_sessions_active");
  const dropDetail: Record<string, number> = {
    sourceBatchesDropped: batchesDropped * Math.max(1, sessions),
    receivedBeforeSessionCreated: received.before_session_created ?? 0,
    receivedBadSize: received.bad_size ?? 0,
    renderQueueFull: render.dropped_queue_full ?? 0,
    renderBeforeActive: render.dropped_send_not_active ?? 0,
    renderLatencyTrim: render.dropped_latency_trim ?? 0,
    renderRefusedByPlatform: render.refused_by_platform ?? 0,
    renderRejected: (render.rejected_bad_frame ?? 0) + (render.rejected_unknown_session ?? 0),
  };
  return {
    framesSent: received.forwarded ?? 0,
    framesReceived: render.queued ?? 0,
    framesDropped: Object.values(dropDetail).reduce((a, b) => a + b, 0),
    dropDetail: { ...dropDetail, renderUnderruns: deltaOf(before, after, "bridge_render_underruns_total") },
    // The host's metrics do not expose skipped clock ticks (its tick lateness histogram does).
    skippedTicks: 0,
    // Arrival: the figure the TypeScript emulator reads (its echo arrived at the far end).
    echoRoundTrip: roundTripOf(echo.roundTripArrival),
    stages: {
      // The bridge's wait for its own tick to forward the platform's buffer (their phases differ).
      hostSend: figuresOf(echo.hostSend) ?? NOT_READ,
      botToHost: figuresOf(echo.botToHost) ?? NOT_READ,
      hostRenderQueue: figuresOf(echo.renderQueueWait) ?? NOT_READ,
    },
    dotnetEcho: {
      played: roundTripOf(echo.roundTripPlayed),
      unmatched: echo.arrivalsUnmatched,
      repeated: echo.arrivalsRepeated,
    },
    cpuUs,
    wallMs,
  };
}

/** A stage with no samples: breakdownOf() shows it as not read. */
const NOT_READ: StageFigures = { count: 0, meanMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0 };

function roundTripOf(stage: FakeEchoLatency["roundTripArrival"]): FarEndWindow["echoRoundTrip"] {
  if (stage.count === 0) return { count: 0, p50Ms: Number.NaN, p99Ms: Number.NaN, maxMs: Number.NaN };
  return {
    count: stage.count,
    p50Ms: stage.p50Us / 1000,
    p99Ms: stage.p99Us / 1000,
    maxMs: stage.maxUs / 1000,
  };
}

async function sampleIdle(host: DotnetHost, ms: number): Promise<number | null> {
  const before = host.cpuUs();
  const started = performance.now();
  await sleep(ms);
  const after = host.cpuUs();
  if (before === null || after === null) return null;
  return Math.round(((after - before) / (performance.now() - started)) * 1000);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
