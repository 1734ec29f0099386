/**
 * Graph fails the answer request (500, 502, 504): the bot repeats it within Graph's deadline,
 * keeps a call an earlier attempt did answer (the repeat meets Graph's 409 for a second answer),
 * stops repeating once Graph's notifications say the call was answered, and rejects through
 * Graph a call it could not answer. Real parts: the Graph emulator, the media platform
 * emulator, the bot (BotApp with its media worker).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BotApp } from "../../src/app/bot-app.js";
import { loadConfig } from "../../src/config/config.js";
import { emulatedBotEnv } from "../../src/demo/emulator-bot-env.js";
import { freePort } from "../../src/demo/free-port.js";
import { createLocalBotTls, type LocalBotTls } from "../../src/demo/local-bot-tls.js";
import type { FaultSpec } from "../../src/emulator/graph/fault-injector.js";
import { GraphEmulator } from "../../src/emulator/graph/graph-emulator.js";
import type { LoggedRequest } from "../../src/emulator/graph/request-log.js";
import { MediaPlatformEmulator } from "../../src/emulator/media/media-platform-emulator.js";
import { silentLogger } from "../../src/log/logger.js";
import { BridgeMediaSessionProvider } from "../../src/media/bridge-media-session-provider.js";
import { until } from "./helpers/fakes.js";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";

let graph: GraphEmulator;
let tls: LocalBotTls;
let dir: string;

beforeAll(async () => {
  tls = await createLocalBotTls();
  graph = await GraphEmulator.start({ logger: silentLogger(), callbackCaPem: tls.certPem });
  dir = await mkdtemp(path.join(tmpdir(), "answer-retries-"));
});

afterAll(async () => {
  await graph?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Running {
  appId: string;
  bot: BotApp;
  media: MediaPlatformEmulator;
}

let running: Running | undefined;
const defaultEstablishingDelayMs = 20;
afterEach(async () => {
  await running?.bot.stop(3000);
  await running?.media.stop();
  running = undefined;
  graph.clearFaults();
  graph.timings.establishingDelayMs = defaultEstablishingDelayMs;
});

async function startBot(answerDeadlineMs?: number): Promise<Running> {
  const bridgeSecret = randomBytes(24).toString("base64url");
  const host = await MediaPlatformEmulator.start({
    secret: bridgeSecret,
    fqdn: "media.retries.test",
    publicPort: 8445,
  });
  const app = { appId: randomUUID(), secret: randomBytes(24).toString("base64url"), tenantId: TENANT };
  const port = await freePort();
  graph.registerApp({ ...app, callbackUrl: `https://127.0.0.1:${port}/api/calls` });
  const config = loadConfig(
    emulatedBotEnv(graph, {
      app,
      port,
      tls,
      mediaFqdn: "media.retries.test",
      bridgeUrl: host.url,
      bridgeSecret,
      recordingsDir: dir,
      logLevel: "silent",
    }),
  );
  const bot = await BotApp.start({
    config,
    logger: silentLogger(),
    signaling: answerDeadlineMs === undefined ? undefined : { answerDeadlineMs },
    media: async ({ config: c, logger: l }) => {
      const provider = await BridgeMediaSessionProvider.start({
        bridge: c.bridge,
        media: c.media,
        logger: l,
        workerLogLevel: "silent",
      });
      await provider.waitUntilConnected(5000);
      return provider;
    },
  });
  running = { appId: app.appId, bot, media: host };
  return running;
}

/** Rings the bot with `faults` armed on this call's answer requests. */
function ring(r: Running, ...faults: Omit<FaultSpec, "match">[]): string {
  const { callId } = graph.placeIncomingCall({ appId: r.appId });
  for (const fault of faults)
    graph.injectFault({ match: { action: "answer", pathContains: callId }, ...fault });
  return callId;
}

function requests(callId: string, action: string): LoggedRequest[] {
  return graph.requestLog().filter((request) => request.callId === callId && request.action === action);
}

function botState(r: Running, callId: string): string | undefined {
  return r.bot.signaling.calls().find((call) => call.callId === callId)?.state;
}

async function metric(r: Running, name: string, labels: Record<string, string>): Promise<number> {
  const values = (await r.bot.registry.getSingleMetric(name)?.get())?.values ?? [];
  const match = values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value));
  return match?.value ?? 0;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("answer retries against the Graph emulator", () => {
  it("500 once, then 502: the answer is repeated and the call answered", async () => {
    const r = await startBot();
    const callId = ring(r, { status: 500 }, { status: 502 });
    await graph.waitForCallState(callId, "established", 10_000);
    await until(() => botState(r, callId) === "established", 5000, "bot sees established");
    expect(requests(callId, "answer").map((request) => request.status)).toEqual([500, 502, 202]);
    expect(requests(callId, "reject")).toEqual([]);
    expect(requests(callId, "delete")).toEqual([]);
    expect(await metric(r, "signaling_answer_outcomes_total", { outcome: "accepted" })).toBe(1);
    expect(await metric(r, "graph_request_retries_total", { action: "answer", reason: "server_error" })).toBe(
      1,
    );
  });

  it("a 504 after Graph answered: the repeat is refused (409), the call is kept and establishes, never hung up", async () => {
    // Graph's establishing comes after the repeat (backoff under 200 ms) has met the 409.
    graph.timings.establishingDelayMs = 1500;
    const r = await startBot(4000);
    const callId = ring(r, { status: 504, afterServing: true });
    await graph.waitForCallState(callId, "established", 10_000);
    expect(requests(callId, "answer").map((request) => request.status)).toEqual([504, 409]);
    await until(() => botState(r, callId) === "established", 5000, "bot sees established");
    // Past the bot's 4 s deadline, when an unknown outcome with no establishment is hung up.
    await sleep(3000);
    expect(requests(callId, "delete")).toEqual([]);
    expect(requests(callId, "reject")).toEqual([]);
    expect(graph.call(callId)?.state).toBe("established");
    expect(botState(r, callId)).toBe("established");
    expect(
      await metric(r, "signaling_answer_outcomes_total", { outcome: "answered_per_notifications" }),
    ).toBe(1);
  });

  it("Graph reports the call answered while a retry waits: the retry is not sent", async () => {
    const r = await startBot();
    // Graph answered, the gateway said 504 with Retry-After: 2; establishing comes 20 ms later.
    const callId = ring(r, { status: 504, retryAfterSeconds: 2, afterServing: true });
    await graph.waitForCallState(callId, "established", 10_000);
    await until(() => botState(r, callId) === "established", 5000, "bot sees established");
    await sleep(2500);
    expect(requests(callId, "answer").map((request) => request.status)).toEqual([504]);
    expect(requests(callId, "delete")).toEqual([]);
    expect(botState(r, callId)).toBe("established");
    expect(
      await metric(r, "signaling_answer_outcomes_total", { outcome: "answered_per_notifications" }),
    ).toBe(1);
  });

  it("Graph fails every answer with 500 until the deadline: the call is rejected through Graph, not left ringing", async () => {
    // The bot's deadline (2.5 s) well before the emulator's own (15 s, then 408).
    const r = await startBot(2500);
    const callId = ring(r, { status: 500, times: 100 });
    const reject = await graph.waitForRequest((q) => q.callId === callId && q.action === "reject", 8000);
    expect(reject.status).toBe(202);
    const ended = await graph.waitForCallState(callId, "terminated", 3000);
    expect(ended.resultInfo?.code).not.toBe(408);
    expect(requests(callId, "answer").length).toBeGreaterThanOrEqual(2);
    expect(requests(callId, "answer").every((request) => request.status === 500)).toBe(true);
    expect(requests(callId, "reject").map((request) => request.status)).toEqual([202]);
    await until(() => botState(r, callId) === "terminated", 5000, "bot ends the call");
    expect(await metric(r, "signaling_answer_outcomes_total", { outcome: "rejected" })).toBe(1);
    expect(await metric(r, "signaling_calls_rejected_total", { reason: "answer_failed" })).toBe(1);
  });
});
