/**
 * Entry point of the media worker thread: the bridge connection, the media clock, sessions
 * and handlers. Started by BridgeMediaSessionProvider with MediaWorkerSettings as workerData;
 * talks to the signaling thread only through the MediaChannel on parentPort.
 */
import { parentPort, workerData } from "node:worker_threads";
import { BridgeClient } from "../bridge/bridge-client.js";
import { CAPABILITY_UNMIXED_AUDIO } from "../bridge/protocol.js";
import { createLogger, type Logger } from "../log/logger.js";
import { createMediaMetrics, type MediaMetrics } from "../metrics/media-metrics.js";
import { createRegistry } from "../metrics/registry.js";
import { loadHandlers } from "./handler-loader.js";
import { LatencyProbe } from "./latency-probe.js";
import { MediaChannel, type PortLike } from "./media-channel.js";
import { MediaEngine } from "./media-engine.js";
import { raiseThreadPriority } from "./thread-priority.js";
import { WorkerLoadSampler } from "./worker-load.js";
import type { MediaWorkerSettings, WorkerCommand, WorkerEvent, WorkerRequests } from "./worker-messages.js";
import { WorkerStallRecorder } from "./worker-stall-evidence.js";

async function main(port: PortLike, settings: MediaWorkerSettings): Promise<void> {
  const log = createLogger({ level: settings.logLevel, name: "media-worker" });
  const priority = raiseThreadPriority(settings.threadPriority ?? "realtime");
  if (priority.ok)
    log.info(
      { tid: priority.tid, priority: priority.detail, fallbackReason: priority.fallbackReason },
      "media thread priority raised",
    );
  else log.info({ reason: priority.reason }, "media thread keeps its priority");
  const registry = createRegistry();
  const metrics = createMediaMetrics(registry);
  surviveUncaughtErrors(log, metrics);
  const channel = new MediaChannel<WorkerRequests, WorkerEvent, WorkerCommand>(port, {
    requestTimeoutMs: 10_000,
    onBadMessage: (detail) => log.warn({ detail }, "bad message from the signaling thread"),
  });
  let handlers: Awaited<ReturnType<typeof loadHandlers>>;
  try {
    handlers = await loadHandlers(settings.handlers);
  } catch (error) {
    log.error({ err: error }, "media worker cannot start");
    channel.send({ type: "startFailed", message: (error as Error).message });
    channel.close("start failed");
    return;
  }
  const bridge = new BridgeClient({
    url: settings.bridge.url,
    secret: settings.bridge.secret,
    peer: "teams-media-bot media worker",
    capabilities: [CAPABILITY_UNMIXED_AUDIO],
    logger: log,
    registry,
    requestTimeoutMs: settings.bridge.requestTimeoutMs,
    // Dials at short intervals while the host keeps the calls' sessions (see reconnect-schedule.ts).
    reconnectGraceMs: settings.bridge.reconnectGraceMs,
  });
  const probe = settings.latencyProbe === true ? new LatencyProbe() : undefined;
  const engine = new MediaEngine({
    bridge,
    probe,
    metrics,
    log,
    handlers,
    recordingsDir: settings.recordingsDir,
    playoutQueueFrames: settings.playoutQueueFrames,
    livePlayoutTargetFrames: settings.livePlayoutTargetFrames,
    adaptiveLiveTarget: settings.adaptiveLiveTarget,
    jitterDepthFrames: settings.jitterDepthFrames,
    maxConcealFrames: settings.maxConcealFrames,
    reconnectGraceMs: settings.bridge.reconnectGraceMs,
    createTimeoutMs: settings.bridge.requestTimeoutMs,
    emit: (event) => channel.send(event),
  });
  const load = new WorkerLoadSampler({
    cpuSeconds: metrics.workerCpuSeconds,
    eventLoopUtilization: metrics.workerEventLoopUtilization,
    log,
  });
  // Created on the first request for it (diagnostics only; see WorkerStallRecorder).
  let stalls: WorkerStallRecorder | undefined;
  channel.handle(async (method, params) => {
    switch (method) {
      case "createSession":
        return engine.createSession(params as WorkerRequests["createSession"]["params"]);
      case "closeSession": {
        const { callId, reason } = params as WorkerRequests["closeSession"]["params"];
        return { closed: await engine.closeSession(callId, reason) };
      }
      case "bindCallId": {
        const { provisionalId, callId } = params as WorkerRequests["bindCallId"]["params"];
        await engine.bindCallId(provisionalId, callId);
        return { bound: true as const };
      }
      case "metrics":
        return { text: await registry.metrics() };
      case "stallEvidence": {
        stalls ??= new WorkerStallRecorder(metrics);
        if ((params as WorkerRequests["stallEvidence"]["params"]).action === "start") {
          stalls.start();
          return { evidence: null };
        }
        return { evidence: stalls.stop() };
      }
      case "latencyProbe": {
        // A reset starts a window: the readings it ends are not wanted, so none are made.
        if ((params as WorkerRequests["latencyProbe"]["params"]).reset) {
          probe?.reset();
          return { snapshot: null };
        }
        return { snapshot: probe?.snapshot() ?? null };
      }
      case "shutdown": {
        load.stop();
        const sessionsEnded = await engine.shutdown();
        // Answer first, then let the thread end by itself.
        setImmediate(() => channel.close("shut down"));
        return { sessionsEnded };
      }
      default:
        throw new Error(`unknown request ${String(method)}`);
    }
  });
  channel.onMessage((command) => {
    switch (command?.type) {
      case "callEstablished":
        engine.callEstablished(command.callId);
        return;
      case "roster":
        engine.updateRoster(command.callId, command.participants);
        return;
      case "tone":
        engine.toneFromGraph(command.callId, command.tone);
        return;
      case "recordingStatusUpdated":
        engine.recordingStatusUpdated(command.callId, command.status, command.ok);
        return;
      case "callControlResult":
        engine.callControlResult(command.callId, command.requestId, command.result);
        return;
      case "callEvent":
        engine.callEvent(command.callId, command.event);
        return;
      default:
        log.warn(
          { type: (command as { type?: unknown })?.type },
          "unknown command from the signaling thread",
        );
    }
  });
  engine.start();
  load.start();
  channel.send({ type: "ready" });
}

/** At most one uncaught error is logged per this period; the others are counted. */
const UNCAUGHT_LOG_INTERVAL_MS = 10_000;

/**
 * A promise nobody handled (a handler's `void call.play(...)` on a missing file) or an
 * exception thrown from a handler's own timer would end the thread under Node's default, and
 * every call on it with their recordings' last second: it is counted and logged (rate-limited)
 * instead, and the worker goes on. One handler's bug costs that handler, not the host's calls.
 * The log carries the error's name, message and stack only: other properties may hold request
 * details.
 */
function surviveUncaughtErrors(log: Logger, metrics: MediaMetrics): void {
  let loggedAtMs = Number.NEGATIVE_INFINITY;
  let unlogged = 0;
  const report = (kind: "unhandled promise rejection" | "uncaught exception", reason: unknown) => {
    const nowMs = performance.now();
    if (nowMs - loggedAtMs < UNCAUGHT_LOG_INTERVAL_MS) {
      unlogged++;
      return;
    }
    loggedAtMs = nowMs;
    let error: Record<string, unknown>;
    try {
      error =
        reason instanceof Error
          ? { name: reason.name, message: reason.message, stack: reason.stack }
          : { message: String(reason).slice(0, 500) };
    } catch {
      error = { message: "(a value that cannot be printed)" };
    }
    log.error(
      { error, notLoggedBefore: unlogged },
      `${kind} in the media worker (from a call handler?); the worker goes on`,
    );
    unlogged = 0;
  };
  process.on("unhandledRejection", (reason: unknown) => {
    metrics.unhandledRejections.inc();
    report("unhandled promise rejection", reason);
  });
  process.on("uncaughtException", (error: Error) => {
    metrics.uncaughtExceptions.inc();
    report("uncaught exception", error);
  });
}

if (parentPort) {
  void main(parentPort, workerData as MediaWorkerSettings);
}
