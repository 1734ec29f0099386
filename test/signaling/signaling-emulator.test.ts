/**
 * The signaling service against the Graph emulator: real HTTPS both ways, real notification
 * tokens (emulator-signed, keys from its OpenID configuration), the real Graph client and msal
 * token provider, answer bodies validated by the emulator against the v1.0 metadata.
 */
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { BotConfig } from "../../src/config/config.js";
import type { GraphEmulator } from "../../src/emulator/graph/graph-emulator.js";
import { httpsRequest } from "../../src/graph/https-request.js";
import { parseMediaBlob } from "../../src/media/media-session-config.js";
import { until } from "./helpers/fakes.js";
import {
  type SignalingBot as Bot,
  type BotTls,
  startGraphEmulatorForBot,
  startSignalingBot,
  stopSignalingBot,
  TENANT,
} from "./helpers/graph-emulator-bot.js";

const FOREIGN = "99999999-9999-4999-8999-999999999999";

let emulator: GraphEmulator;
let botTls: BotTls;

beforeAll(async () => {
  ({ emulator, botTls } = await startGraphEmulatorForBot());
});

afterAll(async () => {
  await emulator?.close();
});

let bot: Bot | undefined;
afterEach(async () => {
  await stopSignalingBot(bot);
  bot = undefined;
  emulator.clearFaults();
  Object.assign(emulator.timings, { answerDeadlineMs: 15_000, keepAliveTimeoutMs: 45 * 60_000 });
});

async function startBot(
  overrides: Partial<BotConfig> = {},
  options: { answerDeadlineMs?: number } = {},
): Promise<Bot> {
  bot = await startSignalingBot(
    emulator,
    botTls,
    { notificationBodyLimitBytes: 64 * 1024, ...overrides },
    () => options,
  );
  return bot;
}

/** A Graph calls API request the bot made, named from its method and path. */
interface CallsApiRequest {
  action: string;
  callId?: string;
  status: number;
  body: unknown;
}

const CALLS_PATH = /^\/v1\.0\/communications\/calls(?:\/([^/]+))?(?:\/([^/]+))?/;

/** Requests the bot made to the Graph calls API (not token or key fetches). */
function callsApiRequests(callId?: string): CallsApiRequest[] {
  const result: CallsApiRequest[] = [];
  for (const request of emulator.requestLog()) {
    const match = CALLS_PATH.exec(request.path);
    if (!match) continue;
    const [, id, segment] = match;
    const action = segment ?? (request.method === "DELETE" ? "delete" : id ? "get" : "create");
    if (callId === undefined || id === callId)
      result.push({ action, callId: id, status: request.status, body: request.body });
  }
  return result;
}

function botState(b: Bot, callId: string): string | undefined {
  return b.service.calls().find((call) => call.callId === callId)?.state;
}

function incomingPayload(callId: string, tenantId = TENANT): unknown {
  return {
    "@odata.type": "#microsoft.graph.commsNotifications",
    value: [
      {
        "@odata.type": "#microsoft.graph.commsNotification",
        changeType: "created",
        resourceUrl: `/communications/calls/${callId}`,
        resourceData: {
          "@odata.type": "#microsoft.graph.call",
          state: "incoming",
          direction: "incoming",
          tenantId,
          requestedModalities: ["audio"],
        },
      },
    ],
  };
}

describe("signaling against the Graph emulator", () => {
  it("answers an incoming call with a metadata-valid body and a blob that parses; the call establishes", async () => {
    const b = await startBot();
    const { callId } = emulator.placeIncomingCall({ appId: b.appId });
    const call = await emulator.waitForCallState(callId, "established");
    const answer = callsApiRequests(callId).find((request) => request.action === "answer");
    expect(answer?.status).toBe(202);
    expect(call.mediaSession?.callId).toBe(callId);
    const body = answer?.body as { mediaConfig: { blob: string }; callbackUri: string };
    expect(body.callbackUri).toBe(b.config.callbackUrl);
    expect(parseMediaBlob(body.mediaConfig.blob).mpUri).toBe(
      "net.tcp://media.example.com:8445/MediaProcessor",
    );
    await until(() => botState(b, callId) === "established", 3000, "bot sees established");
    expect(b.media.log).toContain(`established ${callId}`);
    // Every notification (incoming, establishing, established) was acknowledged with 202.
    await emulator.drainNotifications();
    const deliveries = emulator.notificationDeliveries().filter((d) => d.callId === callId);
    expect(deliveries.length).toBeGreaterThanOrEqual(3);
    expect(deliveries.map((d) => d.status)).toEqual(deliveries.map(() => 202));

    emulator.sendTone(callId, "tone5");
    emulator.updateRoster(callId, [
      {
        id: "p-1",
        info: { identity: { user: { id: "u-1", displayName: "Caller" } } },
        mediaStreams: [{ mediaType: "audio", sourceId: "7", direction: "sendReceive", serverMuted: false }],
        isMuted: false,
        isInLobby: false,
      },
    ]);
    await until(() => b.media.log.includes(`tone ${callId} tone5`), 3000, "tone");
    await until(() => b.media.log.some((line) => line.startsWith(`roster ${callId}`)), 3000, "roster");

    emulator.endCall(callId);
    await until(() => botState(b, callId) === "terminated", 3000, "bot sees the end");
    expect(b.service.calls().find((c) => c.callId === callId)?.end?.meaning?.endedBy).toBe("remote");
    expect(b.media.log).toContain(`close ${callId}`);
  });

  it("rejects busy at capacity", async () => {
    const b = await startBot({ maxCalls: 1 });
    const first = emulator.placeIncomingCall({ appId: b.appId });
    await emulator.waitForCallState(first.callId, "established");
    const second = emulator.placeIncomingCall({ appId: b.appId });
    await emulator.waitForCallState(second.callId, "terminated");
    // The emulator logs a request once its response is sent, just after the state change.
    await until(() => callsApiRequests(second.callId).length > 0, 3000, "reject logged");
    const reject = callsApiRequests(second.callId).find((request) => request.action === "reject");
    expect(reject?.status).toBe(202);
    expect(reject?.body).toMatchObject({ reason: "busy" });
    await until(() => botState(b, second.callId) === "terminated", 3000, "rejected call ends in the bot");
    expect(botState(b, first.callId)).toBe("established");
  });

  it("refuses a foreign tenant: 403 for its token, reject forbidden for a call naming it", async () => {
    const b = await startBot({ allowedTenants: [TENANT] });
    const foreign = emulator.placeIncomingCall({ appId: b.appId, tenantId: FOREIGN });
    const delivery = await emulator.waitForDelivery(
      (d) => d.callId === foreign.callId && d.status !== undefined,
    );
    expect(delivery.status).toBe(403);
    expect(callsApiRequests(foreign.callId)).toEqual([]);

    // Token from the allowed tenant, call resource from another one: the policy rejects it.
    const callId = randomUUID();
    const posted = await emulator.postRawNotification(incomingPayload(callId, FOREIGN), { appId: b.appId });
    expect(posted.status).toBe(202);
    await until(
      () => callsApiRequests(callId).some((request) => request.action === "reject"),
      5000,
      "reject",
    );
    expect(callsApiRequests(callId)[0]?.body).toMatchObject({ reason: "forbidden" });
  });

  it.each([
    ["wrong audience", { claims: { aud: "00000000-0000-4000-8000-000000000000" } }, 401],
    ["wrong issuer", { claims: { iss: "https://sts.windows.net/x/" } }, 401],
    ["expired", { expiresInSeconds: -3600 }, 401],
    ["not yet valid", { notBeforeInSeconds: 3600 }, 401],
    ["alg none", { alg: "none" as const }, 401],
    ["unknown key", { signWithUnknownKey: true }, 401],
    ["no tenant", { omitClaims: ["tid"] }, 401],
  ])("refuses a token with %s and makes no Graph request", async (_name, tokenOverrides, status) => {
    const b = await startBot();
    const callId = randomUUID();
    const delivery = await emulator.postRawNotification(incomingPayload(callId), {
      appId: b.appId,
      tokenOverrides,
    });
    expect(delivery.status).toBe(status);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(callsApiRequests(callId)).toEqual([]);
    expect(b.service.calls()).toEqual([]);
  });

  it("refuses garbage and missing tokens, malformed and oversized bodies", async () => {
    const b = await startBot({ notificationBodyLimitBytes: 2048 });
    const callId = randomUUID();
    expect(
      (await emulator.postRawNotification(incomingPayload(callId), { appId: b.appId, token: "garbage" }))
        .status,
    ).toBe(401);
    expect(
      (
        await emulator.postRawNotification(incomingPayload(callId), {
          appId: b.appId,
          headers: { authorization: null },
        })
      ).status,
    ).toBe(401);
    const big = { ...(incomingPayload(callId) as object), padding: "x".repeat(4096) };
    expect((await emulator.postRawNotification(big, { appId: b.appId })).status).toBe(413);
    const token = await emulator.signNotificationToken({}, { appId: b.appId, tenantId: TENANT });
    const post = (body: string, contentType: string) =>
      httpsRequest({
        url: b.config.callbackUrl,
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": contentType },
        body,
        timeoutMs: 3000,
        ca: botTls.certPem,
      });
    const malformed = await post('{"value": [', "application/json");
    expect(malformed.status).toBe(400);
    expect(JSON.parse(malformed.body.toString())).toMatchObject({ error: { code: "malformed_json" } });
    expect((await post("value=1", "application/x-www-form-urlencoded")).status).toBe(415);
    expect((await post(JSON.stringify(incomingPayload(callId)), "application/json")).status).toBe(202);
    await until(() => callsApiRequests(callId).length > 0, 3000, "the valid one is handled");
    expect(callsApiRequests(callId).every((request) => request.action === "answer")).toBe(true);
  });

  it("handles duplicated and reordered notifications: one answer, ends established", async () => {
    const b = await startBot();
    emulator.duplicateNextNotifications(3);
    const { callId } = emulator.placeIncomingCall({ appId: b.appId });
    await emulator.waitForCallState(callId, "establishing");
    await emulator.waitForCallState(callId, "established");
    await until(() => botState(b, callId) === "established", 3000, "established");
    expect(callsApiRequests(callId).filter((request) => request.action === "answer")).toHaveLength(1);
    const duplicated = emulator
      .notificationDeliveries()
      .filter((d) => d.callId === callId && d.fault === "duplicate");
    expect(duplicated.length).toBeGreaterThan(0);

    // Armed when the bot prepares its answer, so the pair is establishing/established.
    b.media.onCreate = () => emulator.reorderNextNotificationPair();
    const second = emulator.placeIncomingCall({ appId: b.appId });
    await emulator.waitForCallState(second.callId, "established");
    await emulator.drainNotifications();
    await until(() => botState(b, second.callId) === "established", 3000, "established after reorder");
    expect(callsApiRequests(second.callId).filter((request) => request.action === "answer")).toHaveLength(1);
    expect(
      emulator.notificationDeliveries().some((d) => d.callId === second.callId && d.fault === "reordered"),
    ).toBe(true);
  });

  it("meets a short answer deadline, and cleans up when media is too slow for it", async () => {
    emulator.timings.answerDeadlineMs = 800;
    const b = await startBot({}, { answerDeadlineMs: 800 });
    const fast = emulator.placeIncomingCall({ appId: b.appId });
    await emulator.waitForCallState(fast.callId, "established");

    b.media.createDelayMs = 1200;
    const slow = emulator.placeIncomingCall({ appId: b.appId });
    const ended = await emulator.waitForCallState(slow.callId, "terminated", 5000);
    expect(ended.resultInfo).toMatchObject({ code: 408 });
    await until(() => botState(b, slow.callId) === "terminated", 5000, "bot ends the late call");
    await until(() => b.media.log.includes(`close ${slow.callId}`), 5000, "media closed");
    expect(callsApiRequests(slow.callId).filter((request) => request.action === "answer")).toEqual([]);
  });

  it("retries an answer Graph refuses with 503 + Retry-After: 3 for as long as its 15 s allow", async () => {
    // The production Graph settings (5 s per attempt, 4 attempts, 12 s): they alone stopped the
    // answer after attempts at 0, 3 and 6 s.
    const b = await startBot({
      graph: { requestTimeoutMs: 5000, maxAttempts: 4, overallDeadlineMs: 12_000 },
    });
    // One call Graph answers once it recovers (after ~10 s: its 4 attempts before fail), one it never answers.
    const recovers = emulator.placeIncomingCall({ appId: b.appId }).callId;
    const never = emulator.placeIncomingCall({ appId: b.appId }).callId;
    const unavailable = { status: 503, retryAfterSeconds: 3 } as const;
    emulator.injectFault({ match: { action: "answer", pathContains: recovers }, ...unavailable, times: 4 });
    emulator.injectFault({ match: { action: "answer", pathContains: never }, ...unavailable, times: 100 });

    await emulator.waitForCallState(recovers, "established", 16_000);
    await until(() => botState(b, recovers) === "established", 3000, "bot sees established");
    await until(() => botState(b, never) === "terminated", 3000, "bot gives up the other call");

    for (const callId of [recovers, never]) {
      const answers = emulator.requestLog().filter((r) => r.action === "answer" && r.callId === callId);
      const startsMs = answers.map((r) => Date.parse(r.time) - Date.parse(answers[0]?.time ?? ""));
      // Attempts at ~0, 3, 6, 9 and 12 s: each waits out Retry-After, none past the deadline.
      expect(answers).toHaveLength(5);
      for (let i = 1; i < startsMs.length; i++) {
        const gap = (startsMs[i] ?? 0) - (startsMs[i - 1] ?? 0);
        expect(gap).toBeGreaterThanOrEqual(2990);
        expect(gap).toBeLessThan(4500);
      }
      expect(answers.at(-1)?.status).toBe(callId === recovers ? 202 : 503);
    }
    // The call Graph never let the bot answer is rejected through Graph, not left ringing.
    expect(callsApiRequests(never).filter((r) => r.action === "reject")).toMatchObject([{ status: 202 }]);
  }, 30_000);

  it("keeps calls alive with keepAlive at the configured interval", async () => {
    emulator.timings.keepAliveTimeoutMs = 500;
    const b = await startBot({ keepAliveIntervalMs: 150 });
    const { callId } = emulator.placeIncomingCall({ appId: b.appId });
    await emulator.waitForCallState(callId, "established");
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(emulator.call(callId)?.state).toBe("established");
    expect(
      callsApiRequests(callId).filter((request) => request.action === "keepAlive").length,
    ).toBeGreaterThanOrEqual(4);
  });

  it("without keepAlive the call ends 408/8537 and the bot names the reason", async () => {
    emulator.timings.keepAliveTimeoutMs = 300;
    const b = await startBot({ keepAliveIntervalMs: 60_000 });
    const { callId } = emulator.placeIncomingCall({ appId: b.appId });
    await emulator.waitForCallState(callId, "terminated", 5000);
    await until(() => botState(b, callId) === "terminated", 3000, "bot sees the end");
    const end = b.service.calls().find((c) => c.callId === callId)?.end;
    expect(end?.resultInfo).toMatchObject({ code: 408, subcode: 8537 });
    expect(end?.meaning?.meaning).toMatch(/keepAlive/);
  });

  it("hang up and shutdown leave no live call anywhere", async () => {
    const b = await startBot();
    const calls = [0, 1, 2].map(() => emulator.placeIncomingCall({ appId: b.appId }).callId);
    for (const callId of calls) await emulator.waitForCallState(callId, "established");
    const [first, ...rest] = calls as [string, ...string[]];
    expect(await b.service.hangUp(first)).toBe(true);
    await emulator.waitForCallState(first, "terminated");
    await until(() => botState(b, first) === "terminated", 3000, "hung-up call ends");

    await b.service.shutdown({ timeoutMs: 3000 });
    for (const callId of rest) expect(emulator.call(callId)?.state).toBe("terminated");
    expect(b.service.liveCallCount).toBe(0);
    expect(b.media.log.filter((line) => line.startsWith("close"))).toHaveLength(3);
    for (const callId of calls) {
      expect(callsApiRequests(callId).filter((request) => request.action === "delete")).toHaveLength(1);
    }
  });
});
