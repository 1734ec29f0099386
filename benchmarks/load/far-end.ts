/**
 * The far end of bench:load, in its own process (as the media host is to a real bot), so the
 * bot process's CPU is its own: the media platform emulator streaming a tone into every
 * session, or the far end of a baseline design. Driven by benchmarks/load.ts over the IPC
 * channel (far-end-messages.ts). Exits when that channel closes, so it never outlives the
 * benchmark, and after BENCH_FAR_END_MAX_MS in any case.
 */

import type { EmulatedSession, SessionStats } from "../../src/emulator/media/emulated-session.js";
import { MediaPlatformEmulator } from "../../src/emulator/media/media-platform-emulator.js";
import type { EmulatorTimingObserver } from "../../src/emulator/media/timing-observer.js";
import { raiseThreadPriority } from "../../src/media/thread-priority.js";
import { LatencyHistogram } from "../lib/latency-histogram.js";
import { answerMemoryProbes } from "../lib/memory-probe.js";
import { BaselineFarEnd } from "./baseline-far-end.js";
import { toneSecond } from "./baseline-wire.js";
import type {
  FarEndMessage,
  FarEndRequest,
  FarEndResults,
  FarEndWindow,
  SoakEmulatorOptions,
} from "./far-end-messages.js";
import { FarEndStallRecorder } from "./far-end-stalls.js";

if (!process.send) {
  console.error("far-end.ts runs as a child of benchmarks/load.ts (it needs an IPC channel)");
  process.exit(2);
}
const maxLifetimeMs = Number(process.env.BENCH_FAR_END_MAX_MS ?? 3_600_000);
setTimeout(() => {
  console.error(`far end: lifetime of ${maxLifetimeMs} ms exceeded, exiting`);
  process.exit(3);
}, maxLifetimeMs).unref();
process.on("disconnect", () => process.exit(0));
// The far end plays the media platform, whose media threads run at high priority, and its
// 20 ms clock must not be what makes the worker's queues jitter: same scheduling as the
// worker's (SCHED_FIFO where permitted), for every design measured.
const priority = raiseThreadPriority("realtime");
if (!priority.ok) console.error(`far end: clock thread keeps its priority (${priority.reason})`);

const TONE = toneSecond();
let emulator: MediaPlatformEmulator | undefined;
/** How the running emulator was started, for a soak's restart (same secret, options and port). */
let started: { secret: string; soak?: SoakEmulatorOptions } | undefined;
let baseline: BaselineFarEnd | undefined;
/** Sessions whose echo samples feed `emulatorEcho` (the emulator's own stats keep a window per session). */
const tracked = new Map<string, EmulatedSession>();
let emulatorEcho = new LatencyHistogram();
let measuring = false;
/** Recording the stall evidence (stallEvidence op), on the emulator running when it started. */
let stalls: { recorder: FarEndStallRecorder; on: MediaPlatformEmulator } | undefined;
/** The far end's stages of an echo (see FarEndWindow.stages), recorded while measuring. */
let stages = {
  hostSend: new LatencyHistogram(),
  botToHost: new LatencyHistogram(),
  hostRenderQueue: new LatencyHistogram(),
};
/** The emulator's one timing observer: the echo's stages while measuring, stalls while recording them. */
const timingObserver: EmulatorTimingObserver = {
  tick: (startMs, latenessMs, workMs, skippedTicks) => {
    // The tick's work: every session's source frame written and sent, render frames played.
    if (measuring) stages.hostSend.recordUs(workMs * 1000);
    stalls?.recorder.tick(startMs, latenessMs, workMs, skippedTicks);
  },
  renderBatch: (receivedMs, sentAtUs, frames) => {
    if (measuring && frames > 0 && sentAtUs > 0)
      stages.botToHost.recordUs((performance.timeOrigin + receivedMs) * 1000 - sentAtUs, frames);
    stalls?.recorder.renderBatch(receivedMs, sentAtUs, frames);
  },
  sourceBatch: (sentMs, bufferedBytes) => stalls?.recorder.sourceBatch(sentMs, bufferedBytes),
  renderFramePlayed: (waitUs) => {
    if (measuring) stages.hostRenderQueue.recordUs(waitUs);
  },
};

interface Counters {
  sent: number;
  received: number;
  overflowed: number;
  trimmed: number;
  discarded: number;
  underruns: number;
  batchesDropped: number;
  skippedTicks: number;
  baselineDropped: number;
}
let windowStart: { counters: Counters; cpuUs: number; wallMs: number } | undefined;

function counters(): Counters {
  const c: Counters = {
    sent: 0,
    received: 0,
    overflowed: 0,
    trimmed: 0,
    discarded: 0,
    underruns: 0,
    batchesDropped: 0,
    skippedTicks: 0,
    baselineDropped: 0,
  };
  if (baseline) {
    c.sent = baseline.framesSent;
    c.received = baseline.framesReceived;
    c.baselineDropped = baseline.framesDropped;
    c.skippedTicks = baseline.skippedTicks;
    return c;
  }
  if (!emulator) return c;
  for (const [id, session] of tracked) {
    if (emulator.session(id) !== session) {
      tracked.delete(id);
      continue;
    }
    // Emptying the per-session window first keeps snapshot() from sorting 10k samples a session.
    session.echo.reset();
    const s = session.snapshot();
    c.sent += s.framesSent;
    c.received += s.renderFramesReceived;
    c.overflowed += s.renderFramesOverflowed;
    c.trimmed += s.renderFramesTrimmed;
    c.discarded += s.renderFramesDiscarded;
    c.underruns += s.underruns;
  }
  const stats = emulator.stats();
  // A dropped source batch carried a frame of every session of the connection.
  c.batchesDropped = stats.batchesDropped * Math.max(1, stats.sessions);
  c.skippedTicks = stats.skippedTicks;
  return c;
}

function cpuUs(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

async function stopEmulator(): Promise<void> {
  const running = emulator;
  emulator = undefined;
  tracked.clear();
  await running?.stop();
}

async function startEmulator(
  secret: string,
  soak: SoakEmulatorOptions | undefined,
): Promise<MediaPlatformEmulator> {
  const started = await MediaPlatformEmulator.start({
    secret,
    // A precomputed tone: the far end copies its frames instead of computing a sine per sample.
    defaultSource: { kind: "pcm", pcm: TONE, loop: true },
    // Recordings are not needed; the default (60 s per session) would hold 1.9 MB a session.
    recordMaxSeconds: soak?.recordMaxSeconds ?? 1,
    maxSessions: 0,
    // The host's render queue as the .NET host keeps it: a standing backlog is trimmed.
    renderTargetFrames: 1,
    ...(soak ? { port: soak.port, reconnectGraceMs: soak.reconnectGraceMs } : {}),
  });
  started.timingObserver = timingObserver;
  return started;
}

async function handle(request: FarEndRequest): Promise<unknown> {
  switch (request.op) {
    case "startEmulator": {
      // One emulator at a time: the previous design's (its sessions closed) is stopped first.
      await stopEmulator();
      emulator = await startEmulator(request.secret, request.soak);
      started = { secret: request.secret, soak: request.soak };
      return { url: emulator.url } satisfies FarEndResults["startEmulator"];
    }
    case "restartEmulator": {
      const previous = started;
      const running = emulator;
      if (!previous || !running) throw new Error("the emulator is not started");
      const port = Number(new URL(running.url).port);
      // stop() cuts every socket without a close frame, as a host that dies does.
      await stopEmulator();
      await new Promise((resolve) => setTimeout(resolve, request.downMs));
      emulator = await startEmulator(previous.secret, {
        ...(previous.soak ?? { recordMaxSeconds: 1, reconnectGraceMs: 5000 }),
        port,
      });
      return { url: emulator.url } satisfies FarEndResults["restartEmulator"];
    }
    case "injectFault": {
      if (!emulator) throw new Error("the emulator is not started");
      emulator.injectFault(request.fault);
      return {};
    }
    case "mediaFlow": {
      const running = emulator;
      if (!running) throw new Error("the emulator is not started");
      const flowOf = (s: SessionStats) => ({
        callId: s.callId,
        attached: s.attached,
        mediaConnected: s.mediaConnected,
        resumes: s.resumes,
        renderFramesReceived: s.renderFramesReceived,
        framesSent: s.framesSent,
      });
      const sessions = request.all
        ? running.sessions().map(flowOf)
        : request.callIds.map((callId) => {
            const session = running.session(callId);
            if (!session) return null;
            // Emptying the echo window first keeps snapshot() from sorting its samples.
            session.echo.reset();
            return flowOf(session.snapshot());
          });
      return { stats: running.stats(), sessions } satisfies FarEndResults["mediaFlow"];
    }
    case "stopEmulator": {
      await stopEmulator();
      return {};
    }
    case "connectMedia": {
      const running = emulator;
      if (!running) throw new Error("the emulator is not started");
      const results = await Promise.all(
        request.mediaSessionIds.map((id) => running.connectMedia(id, request.timeoutMs)),
      );
      for (const id of request.mediaSessionIds) {
        const session = running.session(id);
        if (!session || tracked.has(id)) continue;
        tracked.set(id, session);
        const stats = session.echo;
        const record = stats.record.bind(stats);
        stats.record = (ms: number) => {
          record(ms);
          if (measuring) emulatorEcho.recordMs(ms);
        };
      }
      return { connected: results.filter(Boolean).length } satisfies FarEndResults["connectMedia"];
    }
    case "startBaseline": {
      if (baseline) throw new Error("a baseline is running already");
      baseline = await BaselineFarEnd.start(request.kind, request.calls, request.layout, TONE);
      return { url: baseline.url } satisfies FarEndResults["startBaseline"];
    }
    case "stopBaseline": {
      const running = baseline;
      baseline = undefined;
      await running?.stop();
      return {};
    }
    case "startStreams": {
      if (!baseline) throw new Error("no baseline is started");
      baseline.startStreams();
      return {};
    }
    case "beginWindow": {
      emulatorEcho = new LatencyHistogram();
      stages = {
        hostSend: new LatencyHistogram(),
        botToHost: new LatencyHistogram(),
        hostRenderQueue: new LatencyHistogram(),
      };
      if (baseline) baseline.echo = new LatencyHistogram();
      windowStart = { counters: counters(), cpuUs: cpuUs(), wallMs: performance.now() };
      measuring = true;
      return {};
    }
    case "endWindow": {
      measuring = false;
      const start = windowStart;
      if (!start) throw new Error("endWindow without beginWindow");
      const used = cpuUs() - start.cpuUs;
      const wallMs = performance.now() - start.wallMs;
      const end = counters();
      const d = (key: keyof Counters) => end[key] - start.counters[key];
      const echo = baseline ? baseline.echo : emulatorEcho;
      const dropDetail: Record<string, number> = baseline
        ? { farEndBackpressure: d("baselineDropped") }
        : {
            sourceBatchesDropped: d("batchesDropped"),
            playoutOverflow: d("overflowed"),
            renderBacklogTrimmed: d("trimmed"),
            renderBeforeActive: d("discarded"),
          };
      const result: FarEndWindow = {
        framesSent: d("sent"),
        framesReceived: d("received"),
        framesDropped: Object.values(dropDetail).reduce((a, b) => a + b, 0),
        dropDetail: baseline ? dropDetail : { ...dropDetail, playoutUnderruns: d("underruns") },
        skippedTicks: d("skippedTicks"),
        echoRoundTrip: { count: echo.count, ...echo.summary() },
        ...(baseline
          ? {}
          : {
              stages: {
                hostSend: stages.hostSend.stageSummary(),
                botToHost: stages.botToHost.stageSummary(),
                hostRenderQueue: stages.hostRenderQueue.stageSummary(),
              },
            }),
        cpuUs: used,
        wallMs,
      };
      windowStart = undefined;
      return result;
    }
    case "stallEvidence": {
      if (request.action === "start") {
        if (!emulator) throw new Error("the emulator is not started");
        const recorder = new FarEndStallRecorder();
        stalls = { recorder, on: emulator };
        recorder.start();
        return { evidence: null } satisfies FarEndResults["stallEvidence"];
      }
      const running = stalls;
      stalls = undefined;
      if (!running) return { evidence: null } satisfies FarEndResults["stallEvidence"];
      return { evidence: running.recorder.stop() } satisfies FarEndResults["stallEvidence"];
    }
    case "stop": {
      await baseline?.stop();
      await emulator?.stop();
      setImmediate(() => process.exit(0));
      return {};
    }
  }
}

answerMemoryProbes();
process.on("message", (raw: { id: number; request?: FarEndRequest }) => {
  // Memory probes share the channel (answerMemoryProbes).
  if (raw.request === undefined) return;
  handle(raw.request).then(
    (result) => send({ type: "reply", id: raw.id, ok: true, result }),
    (error: Error) => send({ type: "reply", id: raw.id, ok: false, error: error.message }),
  );
});

function send(message: FarEndMessage): void {
  process.send?.(message);
}

send({ type: "ready" });
