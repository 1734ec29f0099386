import type { Worker } from "node:worker_threads";
import type { ConnectFailure } from "../bridge/connect-failure.js";
import { type BridgeSettings, DEFAULTS, type MediaSettings } from "../config/config.js";
import type { Participant } from "../graph/types.js";
import type { Logger } from "../log/logger.js";
import type { CallEvent, HandlerSpec } from "./bot-api.js";
import type { CallControlResult } from "./call-control-request.js";
import type { LatencyProbeSnapshot } from "./latency-probe.js";
import { ChannelError, MediaChannel } from "./media-channel.js";
import {
  buildMediaSessionConfiguration,
  type MediaSessionConfiguration,
  mediaProcessorUri,
  parseMediaBlob,
  serializeMediaBlob,
} from "./media-session-config.js";
import type {
  MediaSession,
  MediaSessionEvent,
  MediaSessionProvider,
  MediaSessionRequest,
  MediaUnavailableReason,
} from "./media-session-provider.js";
import { type RosterContext, toRosterParticipants } from "./roster.js";
import { siblingEntry, spawnWorker } from "./spawn-worker.js";
import { configureMediaWorkerHeap } from "./worker-heap.js";
import type {
  CreatedSession,
  MediaHostHealth,
  MediaWorkerSettings,
  WorkerCommand,
  WorkerEvent,
  WorkerRequests,
} from "./worker-messages.js";
import type { WorkerStallEvidence } from "./worker-stall-evidence.js";

export interface BridgeMediaSessionProviderOptions {
  bridge: BridgeSettings;
  media: MediaSettings;
  /** What runs for each call (default: nothing but the session; see docs/media-api.md). */
  handlers?: HandlerSpec[];
  logger: Logger;
  /** Calls taken at most by this process (unavailableReason "capacity" beyond). */
  maxSessions?: number;
  /** Playout queue bound per session in 20 ms frames (default: media.timing's, else 10 = 200 ms). */
  playoutQueueFrames?: number;
  /** Live audio (the echo, `sendLive`) is trimmed back to this many frames (default: media.timing's, else 0). */
  livePlayoutTargetFrames?: number;
  /** The live target adapts per call up to livePlayoutTargetFrames (default: media.timing's, else true). */
  adaptiveLiveTarget?: boolean;
  /** Received frames a missing one is waited for (default: media.timing's, else 3 = 60 ms). */
  jitterDepthFrames?: number;
  /** Longest loss filled with silence, frames (default 50 = 1 s). */
  maxConcealFrames?: number;
  /** The worker reads its stages exactly (latency-probe.ts; read with latencyProbe()). */
  latencyProbe?: boolean;
  /** Timeout of requests to the worker and of the worker's requests to the host (default 5 s). */
  requestTimeoutMs?: number;
  /** Worker log level (default: the logger's level). */
  workerLogLevel?: string;
}

/** Worker restarts after an unexpected exit wait this long (a crash loop must not spin). */
const RESTART_DELAY_MS = 1000;

/**
 * The signaling thread's media provider backed by the media worker thread, which holds the
 * connection to the media host (the native bridge or the media platform emulator). Every
 * method returns at once or awaits only a message to the worker: the answer path never waits
 * on the media clock, and the media clock never waits on signaling.
 */
export class BridgeMediaSessionProvider implements MediaSessionProvider {
  private worker: Worker | undefined;
  private channel: MediaChannel<WorkerRequests, WorkerCommand, WorkerEvent> | undefined;
  private readonly listeners: ((event: MediaSessionEvent) => void)[] = [];
  private readonly stateWaiters: (() => void)[] = [];
  private readonly sessions = new Set<string>();
  private bridgeOpen = false;
  private health: MediaHostHealth = "unspecified";
  private hostMaxSessions = 0;
  private failure: ConnectFailure | null = null;
  private closed = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;
  private readonly requestTimeoutMs: number;

  constructor(private readonly options: BridgeMediaSessionProviderOptions) {
    this.log = options.logger.child({ component: "media-provider" });
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5000;
  }

  /** Creates the provider and waits until its worker runs (not until the host is connected). */
  static async start(options: BridgeMediaSessionProviderOptions): Promise<BridgeMediaSessionProvider> {
    const provider = new BridgeMediaSessionProvider(options);
    await provider.start();
    return provider;
  }

  /** Spawns the media worker; rejects when it cannot start (e.g. a handler module is missing). */
  start(): Promise<void> {
    if (this.closed) return Promise.reject(new Error("provider is closed"));
    // Options given to the provider win over the configuration's (benchmarks and tests set them).
    const timing = this.options.media.timing;
    const settings: MediaWorkerSettings = {
      bridge: {
        url: this.options.bridge.url,
        secret: this.options.bridge.secret,
        reconnectGraceMs: this.options.bridge.reconnectGraceMs,
        requestTimeoutMs: this.requestTimeoutMs,
      },
      recordingsDir: this.options.media.recordingsDir,
      handlers: this.options.handlers ?? [],
      playoutQueueFrames:
        this.options.playoutQueueFrames ?? timing?.playoutQueueFrames ?? DEFAULTS.playoutQueueFrames,
      livePlayoutTargetFrames:
        this.options.livePlayoutTargetFrames ??
        timing?.livePlayoutTargetFrames ??
        DEFAULTS.livePlayoutTargetFrames,
      adaptiveLiveTarget:
        this.options.adaptiveLiveTarget ?? timing?.adaptiveLiveTarget ?? DEFAULTS.adaptiveLiveTarget,
      jitterDepthFrames:
        this.options.jitterDepthFrames ?? timing?.jitterDepthFrames ?? DEFAULTS.jitterDepthFrames,
      maxConcealFrames: this.options.maxConcealFrames ?? 50,
      latencyProbe: this.options.latencyProbe === true,
      threadPriority: this.options.media.threadPriority ?? "realtime",
      logLevel: this.options.workerLogLevel ?? this.options.logger.level,
    };
    configureMediaWorkerHeap();
    const worker = spawnWorker(siblingEntry("media-worker", import.meta.url), settings);
    const channel = new MediaChannel<WorkerRequests, WorkerCommand, WorkerEvent>(worker, {
      requestTimeoutMs: this.requestTimeoutMs + 1000,
      onBadMessage: (detail) => this.log.warn({ detail }, "bad message from the media worker"),
    });
    this.worker = worker;
    this.channel = channel;
    return new Promise<void>((resolve, reject) => {
      let started = false;
      channel.onMessage((event) => {
        if (event.type === "ready") {
          started = true;
          resolve();
        } else if (event.type === "startFailed") {
          reject(new Error(`media worker did not start: ${event.message}`));
        } else {
          this.onWorkerEvent(event);
        }
      });
      worker.on("error", (error) => {
        this.log.error({ err: error }, "media worker failed");
        if (!started) reject(error);
      });
      worker.on("exit", (code) => {
        if (!started) reject(new Error(`media worker exited (code ${code}) before it was ready`));
        this.onWorkerExit(worker, code, started);
      });
    });
  }

  unavailableReason(): MediaUnavailableReason | null {
    if (!this.connected()) return "disconnected";
    if (this.health === "overloaded") return "overloaded";
    if (this.health === "heavilyLoaded") return "heavilyLoaded";
    const limit = Math.min(
      this.options.maxSessions ?? Number.POSITIVE_INFINITY,
      this.hostMaxSessions > 0 ? this.hostMaxSessions : Number.POSITIVE_INFINITY,
    );
    if (this.sessions.size >= limit) return "capacity";
    return null;
  }

  /** Resolves once the worker reports the media host connected (tests, start-up checks). */
  async waitUntilConnected(timeoutMs = 5000): Promise<void> {
    if (!(await this.waitForConnection(timeoutMs)))
      throw new Error(`media host not connected within ${timeoutMs} ms`);
  }

  async waitForConnection(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.connected()) {
      const left = deadline - Date.now();
      if (this.closed || signal?.aborted || left <= 0) return false;
      // Woken by the worker's next state report, the timeout or the abort; its waiter and
      // timer are removed either way, so abandoned waits pile nothing up.
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", wake);
          const index = this.stateWaiters.indexOf(wake);
          if (index >= 0) this.stateWaiters.splice(index, 1);
          resolve();
        };
        const timer = setTimeout(wake, left);
        timer.unref();
        signal?.addEventListener("abort", wake, { once: true });
        this.stateWaiters.push(wake);
      });
    }
    return true;
  }

  connectionFailure(): ConnectFailure | null {
    return this.connected() ? null : this.failure;
  }

  private connected(): boolean {
    return this.bridgeOpen && this.channel !== undefined;
  }

  async createSession(request: MediaSessionRequest): Promise<MediaSession> {
    const channel = this.requireChannel();
    if (this.sessions.has(request.callId))
      throw new Error(`call ${request.callId} already has a media session`);
    // Known from now on: the call's handlers may raise events before the session is answered.
    this.sessions.add(request.callId);
    let created: CreatedSession;
    try {
      created = await channel.request("createSession", {
        callId: request.callId,
        direction: request.direction,
        unmixedAudio: request.unmixedAudio,
        ...(request.placed ? { placed: true } : {}),
      });
    } catch (error) {
      this.sessions.delete(request.callId);
      if (error instanceof ChannelError && error.timedOut && this.channel !== undefined) {
        // The worker may still be creating it (a slow handler factory, a slow host): nobody
        // would close it later, so it is closed now (the worker closes it once created).
        this.channel
          .request("closeSession", { callId: request.callId, reason: "createSession timed out" })
          .catch((closeError: Error) =>
            this.log.warn(
              { err: closeError, callId: request.callId },
              "media worker did not confirm closing",
            ),
          );
      }
      throw error;
    }
    try {
      return {
        callId: request.callId,
        mediaSessionId: created.mediaSessionId,
        ...this.blobOf(created, request.callId),
      };
    } catch (error) {
      // A session whose blob is unusable cannot be answered with: give it back at once.
      void this.closeSession(request.callId, "invalid media configuration");
      throw error;
    }
  }

  async bindCallId(provisionalId: string, callId: string): Promise<void> {
    const channel = this.requireChannel();
    if (!this.sessions.has(provisionalId)) throw new Error(`no media session under ${provisionalId}`);
    if (this.sessions.has(callId)) throw new Error(`call ${callId} already has a media session`);
    // Known by the Graph id from now on: the worker's events for it carry that id.
    this.sessions.delete(provisionalId);
    this.sessions.add(callId);
    try {
      await channel.request("bindCallId", { provisionalId, callId });
    } catch (error) {
      this.sessions.delete(callId);
      // The worker may have re-keyed before failing (handlers' creation): closing both ids is harmless.
      this.sessions.add(provisionalId);
      throw error;
    }
  }

  callEvent(callId: string, event: CallEvent): void {
    if (this.sessions.has(callId)) this.channel?.send({ type: "callEvent", callId, event });
  }

  async closeSession(callId: string, reason: string): Promise<void> {
    if (!this.sessions.delete(callId) || this.channel === undefined) return;
    try {
      await this.channel.request("closeSession", { callId, reason });
    } catch (error) {
      this.log.warn({ err: error, callId }, "media worker did not confirm closing the session");
    }
  }

  callEstablished(callId: string): void {
    this.channel?.send({ type: "callEstablished", callId });
  }

  updateRoster(callId: string, participants: Participant[], context?: RosterContext): void {
    if (!this.sessions.has(callId)) return;
    this.channel?.send({ type: "roster", callId, participants: toRosterParticipants(participants, context) });
  }

  callControlCompleted(callId: string, requestId: number, result: CallControlResult): void {
    this.channel?.send({ type: "callControlResult", callId, requestId, result });
  }

  toneReceived(callId: string, tone: string): void {
    this.channel?.send({ type: "tone", callId, tone });
  }

  recordingStatusUpdated(callId: string, status: "recording" | "notRecording" | "failed", ok: boolean): void {
    this.channel?.send({ type: "recordingStatusUpdated", callId, status, ok });
  }

  onEvent(listener: (event: MediaSessionEvent) => void): void {
    this.listeners.push(listener);
  }

  /** The worker's Prometheus metrics (media_*, bridge_*) as exposition text. */
  async metrics(): Promise<string> {
    const channel = this.channel;
    if (channel === undefined) return "";
    return (await channel.request("metrics", {})).text;
  }

  /**
   * Diagnostics: starts recording the worker's stall evidence, or stops and returns it (see
   * worker-stall-evidence.ts; bench:load --stall-evidence).
   */
  async stallEvidence(action: "start" | "stop"): Promise<WorkerStallEvidence | null> {
    const channel = this.channel;
    if (channel === undefined) throw new Error("media worker is not running");
    return (await channel.request("stallEvidence", { action })).evidence;
  }

  /**
   * The worker's stage readings since the last reset (null: started without latencyProbe);
   * `reset` starts a new window instead of reading (null).
   */
  async latencyProbe(reset = false): Promise<LatencyProbeSnapshot | null> {
    const channel = this.channel;
    if (channel === undefined) return null;
    return (await channel.request("latencyProbe", { reset })).snapshot;
  }

  /** Ends every session (recordings finalized), then the worker. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.restartTimer);
    // Calls held for a reconnect stop waiting: there will be none.
    for (const waiter of this.stateWaiters.splice(0)) waiter();
    const worker = this.worker;
    const channel = this.channel;
    if (worker === undefined || channel === undefined) return;
    try {
      await channel.request("shutdown", {}, 30_000);
    } catch (error) {
      this.log.error({ err: error }, "media worker did not shut down cleanly");
    }
    channel.close("provider closed");
    await worker.terminate();
    this.sessions.clear();
  }

  /**
   * The session's configuration and the blob the answer carries. The host's own blob
   * (media_configuration_json) is checked but sent exactly as the platform serialized it: the
   * proto says so, and a re-serialization changes its bytes (whitespace, key order, numbers).
   * Only without one is the blob built from the fields.
   */
  private blobOf(
    created: CreatedSession,
    callId: string,
  ): { configuration: MediaSessionConfiguration; blob: string } {
    if (created.mediaConfigurationJson !== "") {
      const configuration = parseMediaBlob(created.mediaConfigurationJson);
      if (configuration.callId !== callId) {
        throw new Error(`media host's blob is for call ${configuration.callId}, not ${callId}`);
      }
      return { configuration, blob: created.mediaConfigurationJson };
    }
    const configuration = buildMediaSessionConfiguration({
      callId,
      mediaSessionId: created.mediaSessionId,
      mpUri: created.mpUri || mediaProcessorUri(this.options.media.fqdn, this.options.media.publicPort),
      audioRenderContextId: created.audioRenderContextId,
      audioSourceContextId: created.audioSourceContextId,
      versions: {
        skypeMediaBotsVersion: created.skypeMediaBotsVersion,
        mediaStackVersion: created.mediaStackVersion,
        mpVersion: created.mpVersion,
      },
    });
    return { configuration, blob: serializeMediaBlob(configuration) };
  }

  private onWorkerEvent(event: WorkerEvent): void {
    switch (event.type) {
      case "state":
        this.bridgeOpen = event.bridgeOpen;
        this.health = event.health;
        this.hostMaxSessions = event.maxSessions;
        this.failure = event.failure ?? null;
        for (const waiter of this.stateWaiters.splice(0)) waiter();
        return;
      case "sessionLost":
        if (!this.sessions.delete(event.callId)) return;
        this.emit({ kind: "sessionLost", callId: event.callId, reason: event.reason });
        return;
      case "mediaConnected":
        if (this.sessions.has(event.callId)) this.emit({ kind: "mediaConnected", callId: event.callId });
        return;
      case "recordingStatusRequested":
        if (this.sessions.has(event.callId))
          this.emit({ kind: "recordingStatusRequested", callId: event.callId, status: event.status });
        return;
      case "hangUpRequested":
        // A session already closed or lost is being ended by signaling anyway.
        if (this.sessions.has(event.callId))
          this.emit({ kind: "hangUpRequested", callId: event.callId, reason: event.reason });
        return;
      case "callControlRequested":
        // Always answered: for a session already gone the refusal settles the handler's promise.
        this.emit({
          kind: "callControlRequested",
          callId: event.callId,
          requestId: event.requestId,
          request: event.request,
        });
        return;
      default:
        return;
    }
  }

  private onWorkerExit(worker: Worker, code: number, started: boolean): void {
    if (worker !== this.worker) return;
    this.channel?.close(`media worker exited (code ${code})`);
    this.channel = undefined;
    this.worker = undefined;
    this.bridgeOpen = false;
    if (this.closed) return;
    this.log.error({ code }, "media worker exited unexpectedly; its calls are lost");
    for (const callId of [...this.sessions]) {
      this.sessions.delete(callId);
      this.emit({ kind: "sessionLost", callId, reason: `media worker exited (code ${code})` });
    }
    if (!started) return;
    this.restartTimer = setTimeout(() => {
      this.start().catch((error: Error) => this.log.error({ err: error }, "media worker restart failed"));
    }, RESTART_DELAY_MS);
  }

  private requireChannel(): MediaChannel<WorkerRequests, WorkerCommand, WorkerEvent> {
    if (this.closed) throw new Error("media provider is closed");
    if (this.channel === undefined) throw new Error("media worker is not running");
    return this.channel;
  }

  private emit(event: MediaSessionEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.log.error({ err: error, event: event.kind }, "media event listener threw");
      }
    }
  }
}
