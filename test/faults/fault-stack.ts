/**
 * The whole system on loopback for fault injection: the Graph calling emulator, the media
 * platform emulator and the real bot (BotApp: signaling over https, msal-node against the
 * emulator's token endpoint, the media worker thread on the bridge), wired as the demo wires
 * them. Tests act on the emulators (faults, kills, restarts) and check what the caller
 * experiences at the Graph emulator and at the far end of the media emulator.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "vitest";
import { BotApp } from "../../src/app/bot-app.js";
import { type BotConfig, loadConfig } from "../../src/config/config.js";
import type { RawConfig } from "../../src/config/env-readers.js";
import { emulatedBotEnv, newEmulatedApp } from "../../src/demo/emulator-bot-env.js";
import { freePort } from "../../src/demo/free-port.js";
import { createLocalBotTls, type LocalBotTls } from "../../src/demo/local-bot-tls.js";
import type { EmulatedCall } from "../../src/emulator/graph/emulated-call.js";
import { DEFAULT_TIMINGS, GraphEmulator } from "../../src/emulator/graph/graph-emulator.js";
import type { LoggedRequest } from "../../src/emulator/graph/request-log.js";
import type { SessionStats } from "../../src/emulator/media/emulated-session.js";
import {
  MediaPlatformEmulator,
  type MediaPlatformEmulatorOptions,
} from "../../src/emulator/media/media-platform-emulator.js";
import { createLogger, type Logger, silentLogger } from "../../src/log/logger.js";
import { BridgeMediaSessionProvider } from "../../src/media/bridge-media-session-provider.js";
import { handlerSpecsFromConfig } from "../../src/media/handler-specs.js";
import { parseExposition, sumOf } from "../../src/metrics/prometheus-text.js";
import { sleep, waitFor } from "../media/wait-for.js";
import { type HandleBaseline, handleBaseline, openHandlesSince } from "./open-handles.js";

export interface FaultStackOptions {
  /** The bot's BOT_BRIDGE_RECONNECT_GRACE_MS. */
  graceMs: number;
  /** How long the media host keeps a lost worker's sessions (default graceMs + 500). */
  hostGraceMs?: number;
  /** BOT_MEDIA_HANDLERS (default "echo": the caller hears itself, so audio is checked both ways). */
  handlers?: string;
  /** More BOT_* settings. */
  env?: RawConfig;
  /**
   * Runs the bot as its own process (`src/bot.ts`, configured by BOT_* variables as in
   * production), so tests can signal it; the in-process handles (bot, provider) are then unset.
   */
  botProcess?: boolean;
  /** With botProcess: the bot's stdin is a pipe the test holds (child.stdin), not /dev/null. */
  botStdin?: boolean;
  /** Lifetime of the Graph tokens the (shared) Graph emulator issues from this stack on (default 3599 s). */
  tokenLifetimeSeconds?: number;
  /** The app registered for the bot (default: a new one); lets a test know its tenant up front. */
  app?: ReturnType<typeof newEmulatedApp>;
  /** Signaling hooks, e.g. answerDeadlineMs (Graph's 15 s by default, as the emulator's). */
  signaling?: { answerDeadlineMs?: number; endConfirmTimeoutMs?: number };
}

/** How the bot ended a call at Graph: hung up (DELETE) or rejected it. */
export interface EndedThroughGraph {
  call: EmulatedCall;
  by: "hangUp" | "reject";
  request: LoggedRequest;
}

const MEDIA_FQDN = "media.faults.local";
const ROOT = path.join(import.meta.dirname, "..", "..");

let shared: Promise<{ graph: GraphEmulator; tls: LocalBotTls }> | undefined;

/**
 * One Graph emulator and one bot certificate per test file (each takes seconds to make on a
 * busy machine); every stack registers its own app on it. closeSharedGraph() in afterAll.
 */
function sharedGraph(): Promise<{ graph: GraphEmulator; tls: LocalBotTls }> {
  shared ??= (async () => {
    const tls = await createLocalBotTls();
    const graph = await GraphEmulator.start({
      logger: stackLogger().child({ component: "graph-emulator" }),
      callbackCaPem: tls.certPem,
    });
    return { graph, tls };
  })();
  return shared;
}

export async function closeSharedGraph(): Promise<void> {
  const current = shared;
  shared = undefined;
  if (current) await (await current).graph.close();
}

/**
 * FAULTS_LOG_LEVEL=info (or debug) shows every part's logs on stderr when a scenario needs
 * explaining; silent by default.
 */
function stackLogger(): Logger {
  const level = process.env.FAULTS_LOG_LEVEL;
  return level ? createLogger({ level, name: "faults" }) : silentLogger();
}

export class FaultStack {
  /** The media host; replaced by restartMediaHost(). */
  media!: MediaPlatformEmulator;
  provider!: BridgeMediaSessionProvider;
  bot!: BotApp;
  config!: BotConfig;
  /** The bot's process when started with botProcess; its output is kept for failure messages. */
  child?: ChildProcess;
  childOutput = "";
  private mediaPort = 0;
  private stopped = false;

  private constructor(
    readonly graph: GraphEmulator,
    readonly recordingsDir: string,
    private readonly secret: string,
    private readonly hostGraceMs: number,
    private readonly logger: Logger,
    private readonly handleBaseline: HandleBaseline,
    private readonly appId: string,
  ) {}

  static async start(options: FaultStackOptions): Promise<FaultStack> {
    const { graph, tls } = await sharedGraph();
    const baseline = handleBaseline();
    const logger = stackLogger();
    const secret = randomBytes(24).toString("base64url");
    const app = options.app ?? newEmulatedApp();
    const port = await freePort();
    graph.registerApp({ ...app, callbackUrl: `https://127.0.0.1:${port}/api/calls` });
    const recordingsDir = await mkdtemp(path.join(tmpdir(), "faults-recordings-"));
    const stack = new FaultStack(
      graph,
      recordingsDir,
      secret,
      options.hostGraceMs ?? options.graceMs + 500,
      logger,
      baseline,
      app.appId,
    );
    // As the real service: a call is established once its media session connects, on the
    // media host running now (a restarted host included).
    graph.setEstablishWhen((call) =>
      call.mediaSession ? stack.media.connectMedia(call.mediaSession, 10_000) : Promise.resolve(false),
    );
    await stack.startMediaHost();
    const env: RawConfig = {
      ...emulatedBotEnv(graph, {
        app,
        port,
        tls,
        mediaFqdn: MEDIA_FQDN,
        bridgeUrl: stack.media.url,
        bridgeSecret: secret,
        recordingsDir,
        logLevel: process.env.FAULTS_LOG_LEVEL ?? "silent",
      }),
      BOT_BRIDGE_RECONNECT_GRACE_MS: String(options.graceMs),
      BOT_MEDIA_HANDLERS: options.handlers ?? "echo",
      ...options.env,
    };
    stack.config = loadConfig(env);
    graph.tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? 3599;
    const s = stack;
    if (options.botProcess) {
      await s.startBotProcess(env, port, options.botStdin ?? false);
      return s;
    }
    s.bot = await BotApp.start({
      config: s.config,
      logger,
      media: async ({ config, logger: l }) => {
        s.provider = await BridgeMediaSessionProvider.start({
          bridge: config.bridge,
          media: config.media,
          handlers: handlerSpecsFromConfig(config.media.handlers ?? []),
          maxSessions: config.maxCalls,
          logger: l,
        });
        await s.provider.waitUntilConnected(10_000);
        return s.provider;
      },
      signaling: options.signaling ?? {},
    });
    return s;
  }

  /** Starts src/bot.ts with exactly these BOT_* variables; resolves once it listens and has its host. */
  private async startBotProcess(env: RawConfig, port: number, pipeStdin: boolean): Promise<void> {
    const clean: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("BOT_")) clean[key] = value;
    const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "src", "bot.ts")], {
      cwd: ROOT,
      env: { ...clean, ...env, BOT_LOG_LEVEL: process.env.FAULTS_LOG_LEVEL ?? "warn" },
      stdio: [pipeStdin ? "pipe" : "ignore", "pipe", "pipe"],
    });
    this.child = child;
    const keep = (chunk: Buffer) => {
      this.childOutput = (this.childOutput + chunk.toString()).slice(-20_000);
      if (process.env.FAULTS_LOG_LEVEL) process.stderr.write(chunk);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    const listening = () =>
      new Promise<boolean>((resolve) => {
        const socket = connect(port, "127.0.0.1", () => {
          socket.destroy();
          resolve(true);
        });
        socket.on("error", () => resolve(false));
      });
    await waitFor(
      async () => child.exitCode === null && this.media.stats().connections === 1 && (await listening()),
      30_000,
    ).catch(() => {
      throw new Error(`the bot process did not start (exit ${child.exitCode}):\n${this.childOutput}`);
    });
  }

  /** Resolves with the bot process's exit code (null: killed by a signal), or throws after timeoutMs. */
  async botProcessExit(timeoutMs: number): Promise<number | null> {
    const child = this.child;
    if (!child) throw new Error("the bot does not run as its own process");
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the bot process did not exit within ${timeoutMs} ms:\n${this.childOutput}`)),
        timeoutMs,
      );
      child.once("exit", (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  }

  /** Starts the media host (again on the same port after killMediaHost: a restarted process). */
  async startMediaHost(extra: Partial<MediaPlatformEmulatorOptions> = {}): Promise<void> {
    this.media = await MediaPlatformEmulator.start({
      secret: this.secret,
      port: this.mediaPort,
      fqdn: MEDIA_FQDN,
      publicPort: 8445,
      reconnectGraceMs: this.hostGraceMs,
      defaultSource: { kind: "tone", frequencyHz: 440 },
      logger: this.logger.child({ component: "media-emulator" }),
      ...extra,
    });
    this.mediaPort = Number(new URL(this.media.url).port);
  }

  /**
   * The media host process dies: its sockets are cut without a close frame and every session
   * it held is gone with it.
   */
  async killMediaHost(): Promise<void> {
    await this.media.stop();
  }

  /** Rings the bot; returns the call id at once. */
  placeCall(): string {
    return this.graph.placeIncomingCall({ appId: this.appId, caller: { displayName: "fault suite caller" } })
      .callId;
  }

  /** Rings the bot `count` times and waits until every call is established with audio flowing. */
  async establishedCalls(count: number): Promise<string[]> {
    const callIds = Array.from({ length: count }, () => this.placeCall());
    for (const callId of callIds) {
      await this.established(callId, 15_000);
      if (this.bot) await waitFor(() => this.botState(callId) === "established", 5000);
    }
    for (const callId of callIds) await this.audioFlows(callId);
    return callIds;
  }

  /**
   * The caller's call is established at Graph within timeoutMs; otherwise an error says where
   * it is instead (state, result, the bot's Graph requests for it).
   */
  async established(callId: string, timeoutMs: number): Promise<EmulatedCall> {
    return this.graph.waitForCallState(callId, "established", timeoutMs).catch(() => {
      const call = this.graph.call(callId);
      const requests = this.requestsFor(callId).map((r) => `${r.action} ${r.status}`);
      throw new Error(
        `call ${callId} not established within ${timeoutMs} ms: Graph ${call?.state} ${JSON.stringify(call?.resultInfo ?? null)}, bot ${this.botState(callId)}, the bot's requests: ${requests.join(", ") || "none"}`,
      );
    });
  }

  /** The bot's own view of the call (undefined once forgotten). */
  botState(callId: string): string | undefined {
    return this.bot?.signaling.calls().find((call) => call.callId === callId)?.state;
  }

  /** The far end's view of the call's media session on the media host running now. */
  session(callId: string): SessionStats | undefined {
    return this.media.sessions().find((s) => s.callId === callId);
  }

  /**
   * Audio flows both ways from now on: the caller's audio reaches the bot (frames sent to the
   * bot's socket) and the bot's echo reaches the caller (frames played at the far end), at least
   * `frames` 20 ms frames more of each than when called.
   */
  async audioFlows(callId: string, frames = 25, timeoutMs = 8000): Promise<SessionStats> {
    const describe = () =>
      `call ${callId}: Graph ${this.graph.call(callId)?.state}, bot ${this.botState(callId)}, media host session ${JSON.stringify(this.session(callId) ?? null)}`;
    const before = await waitFor(() => {
      const s = this.session(callId);
      return s?.attached && s.sendActive ? s : undefined;
    }, timeoutMs).catch(() => {
      throw new Error(`no attached, active media session within ${timeoutMs} ms; ${describe()}`);
    });
    return waitFor(() => {
      const now = this.session(callId);
      return now &&
        now.framesSent >= before.framesSent + frames &&
        now.framesPlayed >= before.framesPlayed + frames
        ? now
        : undefined;
    }, timeoutMs).catch(() => {
      throw new Error(
        `audio did not flow both ways (${frames} frames) within ${timeoutMs} ms; ${describe()}`,
      );
    });
  }

  /**
   * After an outage: each call is still established at Graph and at the bot, and its audio
   * flows both ways again. `after` names the outage in the failure messages.
   */
  async expectCallsKept(callIds: string[], after: string): Promise<void> {
    for (const callId of callIds) {
      expect(this.graph.call(callId)?.state, `the caller's call ${after}`).toBe("established");
      expect(this.botState(callId), `the bot's call ${after}`).toBe("established");
      await this.audioFlows(callId);
    }
  }

  /** Each call is ended by the bot hanging up through Graph, as a normal end (200/7000), within timeoutMs. */
  async expectHungUpThroughGraph(callIds: string[], timeoutMs: number): Promise<void> {
    for (const callId of callIds) {
      const ended = await this.endedThroughGraph(callId, timeoutMs);
      expect(ended.by).toBe("hangUp");
      expect(ended.call.resultInfo).toMatchObject({ code: 200, subcode: 7000 });
    }
  }

  /** The callers hang up; resolves once Graph has every call terminated. */
  async callersHangUp(callIds: string[]): Promise<void> {
    for (const callId of callIds) this.graph.endCall(callId);
    for (const callId of callIds) await this.graph.waitForCallState(callId, "terminated");
  }

  /** The bot takes a new call with audio both ways; once its caller hangs up nothing is left of it. */
  async expectNewCallTaken(): Promise<void> {
    await this.callersHangUp(await this.establishedCalls(1));
    await this.expectNothingLeft();
  }

  /** Requests the bot made to the Graph calls API for one call. */
  requestsFor(callId: string, action?: string): LoggedRequest[] {
    return this.graph
      .requestLog()
      .filter((r) => r.callId === callId && (action === undefined || r.action === action));
  }

  /**
   * The call ended at Graph because the bot ended it there (a DELETE or a reject Graph
   * accepted), not because Graph gave up on it; and the bot has it as ended.
   */
  async endedThroughGraph(callId: string, timeoutMs: number): Promise<EndedThroughGraph> {
    const call = await this.graph.waitForCallState(callId, "terminated", timeoutMs).catch(() => {
      const now = this.graph.call(callId);
      const requests = this.requestsFor(callId).map((r) => `${r.action} ${r.status}`);
      throw new Error(
        `call ${callId} not ended within ${timeoutMs} ms: Graph ${now?.state}, bot ${this.botState(callId)}, the bot's requests: ${requests.join(", ") || "none"}`,
      );
    });
    // The emulator logs a request once its response is sent, just after the state change.
    const request = await waitFor(
      () =>
        this.requestsFor(callId).find(
          (r) => (r.action === "delete" || r.action === "reject") && r.status >= 200 && r.status < 300,
        ),
      3000,
    ).catch(() => {
      const seen = this.requestsFor(callId).map((r) => `${r.action} ${r.status}`);
      throw new Error(
        `call ${callId} ended at Graph with ${JSON.stringify(call.resultInfo)} but the bot did not end it there (its requests: ${seen.join(", ") || "none"})`,
      );
    });
    await waitFor(() => {
      const state = this.botState(callId);
      return state === undefined || state === "terminated";
    }, 5000);
    return { call, by: request.action === "delete" ? "hangUp" : "reject", request };
  }

  /** The worker's metrics as name -> value. */
  async workerMetrics(): Promise<Map<string, number>> {
    return parseExposition(await this.provider.metrics());
  }

  /**
   * Nothing is left of ended calls: no live call in the bot's registry, no session or
   * recording in the media worker, no session (attached or kept) on the media host.
   */
  async expectNothingLeft(timeoutMs = 8000): Promise<void> {
    const left = async () => {
      const metrics = await this.workerMetrics();
      return {
        liveCalls: this.bot.signaling.liveCallCount,
        workerSessions: sumOf(metrics, "media_active_sessions"),
        workerRecordings: sumOf(metrics, "media_active_recordings"),
        hostSessions: this.media.sessions().map((s) => s.callId),
      };
    };
    try {
      await waitFor(async () => {
        const now = await left();
        return (
          now.liveCalls === 0 &&
          now.workerSessions === 0 &&
          now.workerRecordings === 0 &&
          now.hostSessions.length === 0
        );
      }, timeoutMs);
    } catch {
      throw new Error(`calls left behind after ${timeoutMs} ms: ${JSON.stringify(await left())}`);
    }
  }

  /**
   * Stops the bot (gracefully), the media host and Graph, removes the recordings, and returns
   * the handles (sockets, servers, timers keeping the process alive) left open since start.
   */
  async stop(): Promise<string[]> {
    if (this.stopped) return [];
    this.stopped = true;
    await this.bot?.stop(5000);
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGKILL");
      await this.botProcessExit(5000).catch(() => undefined);
    }
    await this.media?.stop();
    this.graph.clearFaults();
    this.graph.setEstablishWhen(undefined);
    Object.assign(this.graph.timings, DEFAULT_TIMINGS);
    await rm(this.recordingsDir, { recursive: true, force: true });
    // The shared Graph emulator's end of the bot's pooled keep-alive connection stays until its
    // idle timeout: the bot's end is unref'd (it keeps nothing alive) and the emulator outlives
    // the stack. Everything else must be gone.
    const graphPort = Number(new URL(this.graph.url).port);
    const ignore = (handle: unknown) => (handle as { localPort?: number }).localPort === graphPort;
    // Closed sockets and servers leave the handle list on the next turns of the event loop.
    let left = openHandlesSince(this.handleBaseline, ignore);
    for (let i = 0; i < 30 && left.length > 0; i++) {
      await sleep(100);
      left = openHandlesSince(this.handleBaseline, ignore);
    }
    return left;
  }
}
