import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { GraphEmulator } from "../../../src/emulator/graph/graph-emulator.js";
import { type BotReceiver, verifyNotificationToken } from "./bot-receiver.js";
import { APP_ID, acquireToken, answerBody, graph, startEmulatorWithBot, TENANT } from "./graph-test-kit.js";

let emulator: GraphEmulator;
let bot: BotReceiver;
let token: string;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ emulator, bot, close } = await startEmulatorWithBot());
  token = await acquireToken(emulator);
});
afterAll(() => close());
beforeEach(() => {
  Object.assign(emulator.timings, {
    answerDeadlineMs: 15_000,
    keepAliveTimeoutMs: 45 * 60_000,
    mediaTimeoutMs: 10_000,
  });
  emulator.setEstablishWhen(undefined);
});

async function ring(options: Parameters<GraphEmulator["placeIncomingCall"]>[0] = {}) {
  const { callId } = emulator.placeIncomingCall(options);
  await bot.waitUntil(() => bot.notificationsFor(callId).length > 0);
  return callId;
}

describe("calls API authentication", () => {
  it("requires a valid bearer token and answers with Graph's error body", async () => {
    const { callId } = emulator.placeIncomingCall();
    const none = await graph(
      emulator,
      "POST",
      `/communications/calls/${callId}/answer`,
      undefined,
      answerBody(bot.url),
      {
        "client-request-id": "my-client-request-id",
      },
    );
    expect(none.status).toBe(401);
    expect(none.headers["client-request-id"]).toBe("my-client-request-id");
    expect(none.headers["request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    const error = none.json().error;
    expect(error.code).toBe("InvalidAuthenticationToken");
    expect(error.innerError).toMatchObject({
      "client-request-id": "my-client-request-id",
      "request-id": none.headers["request-id"],
    });
    const garbage = await graph(emulator, "POST", `/communications/calls/${callId}/keepAlive`, "not.a.jwt");
    expect(garbage.status).toBe(401);
    // A token signed by someone else (the notification key) is refused too.
    const forged = await emulator.signNotificationToken({ claims: { aud: "https://graph.microsoft.com" } });
    expect((await graph(emulator, "POST", `/communications/calls/${callId}/keepAlive`, forged)).status).toBe(
      401,
    );
    expect(emulator.call(callId)?.state).toBe("incoming");
  });

  it("refuses an expired token", async () => {
    emulator.tokenLifetimeSeconds = 1;
    try {
      const shortLived = await acquireToken(emulator);
      const { callId } = emulator.placeIncomingCall();
      expect(
        (await graph(emulator, "GET", `/communications/calls/${callId}/participants`, shortLived)).status,
      ).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 2100));
      const late = await graph(emulator, "GET", `/communications/calls/${callId}/participants`, shortLived);
      expect(late.status).toBe(401);
      expect(late.json().error.message).toMatch(/expired/);
    } finally {
      emulator.tokenLifetimeSeconds = 3599;
    }
  });
});

describe("answer flow", () => {
  it("posts a signed incoming call, then establishing and established after answer, then ends on DELETE", async () => {
    const callId = await ring({ caller: { id: "caller-1", displayName: "Ada" } });
    const incoming = bot.received.find(
      (r) => r.body.value?.[0]?.resourceUrl === `/communications/calls/${callId}`,
    );
    expect(incoming?.headers.authorization).toMatch(/^Bearer /);
    for (const header of [
      "client-request-id",
      "scenario-id",
      "x-microsoft-skype-chain-id",
      "x-microsoft-skype-message-id",
    ]) {
      expect(incoming?.headers[header]).toBeTruthy();
    }
    const claims = await verifyNotificationToken(
      emulator.notificationOpenIdUrl,
      emulator.caCertPem,
      String(incoming?.headers.authorization).slice(7),
      APP_ID,
    );
    expect(claims).toMatchObject({ iss: "https://api.botframework.com", aud: APP_ID, tid: TENANT });
    expect(incoming?.body["@odata.type"]).toBe("#microsoft.graph.commsNotifications");
    const created = incoming?.body.value?.[0];
    expect(created?.changeType).toBe("created");
    expect(created?.resourceData).toMatchObject({
      state: "incoming",
      direction: "incoming",
      tenantId: TENANT,
      requestedModalities: ["audio"],
      source: { identity: { user: { id: "caller-1", displayName: "Ada" } } },
    });
    const data = created?.resourceData as Record<string, unknown>;
    expect(data.myParticipantId).toBeTruthy();
    expect(data.callChainId).toBe(incoming?.headers["x-microsoft-skype-chain-id"]);
    // The created notification validates against the metadata as a call.
    expect(emulator.validator.validateEntity("microsoft.graph.call", data)).toEqual([]);

    const answered = await graph(
      emulator,
      "POST",
      `/communications/calls/${callId}/answer`,
      token,
      answerBody(bot.url),
    );
    expect(answered.status).toBe(202);
    expect(answered.body.length).toBe(0);
    await emulator.waitForCallState(callId, "established");
    await bot.waitUntil(() =>
      bot.notificationsFor(callId).some((n) => n.resourceUrl.endsWith("/participants")),
    );
    const states = bot
      .notificationsFor(callId)
      .filter((n) => n.resourceUrl === `/communications/calls/${callId}`)
      .map((n) => (n.resourceData as { state?: string }).state);
    expect(states).toEqual(["incoming", "establishing", "established"]);
    expect(emulator.call(callId)?.mediaSession?.supportedAudioFormat).toBe("Pcm16K");

    const again = await graph(
      emulator,
      "POST",
      `/communications/calls/${callId}/answer`,
      token,
      answerBody(bot.url),
    );
    expect(again.status).toBe(409);
    expect(again.json().error.message).toMatch(/only valid in state incoming/);

    expect((await graph(emulator, "POST", `/communications/calls/${callId}/keepAlive`, token)).status).toBe(
      200,
    );
    const participants = await graph(emulator, "GET", `/communications/calls/${callId}/participants`, token);
    expect(participants.json().value).toHaveLength(2);

    const recording = await graph(
      emulator,
      "POST",
      `/communications/calls/${callId}/updateRecordingStatus`,
      token,
      {
        status: "recording",
        clientContext: "ctx-1",
      },
    );
    expect(recording.status).toBe(200);
    const operation = recording.json();
    expect(operation).toMatchObject({
      "@odata.type": "#microsoft.graph.updateRecordingStatusOperation",
      status: "Completed",
      clientContext: "ctx-1",
    });
    await bot.waitUntil(() =>
      bot.notificationsFor(callId).some((n) => n.resourceUrl.endsWith(`/operations/${operation.id}`)),
    );

    const hungUp = await graph(emulator, "DELETE", `/communications/calls/${callId}`, token);
    expect(hungUp.status).toBe(204);
    await emulator.waitForCallState(callId, "terminated");
    await bot.waitUntil(() =>
      bot
        .notificationsFor(callId)
        .some((n) => n.changeType === "deleted" && !n.resourceUrl.includes("/operations/")),
    );
    const tail = bot
      .notificationsFor(callId)
      .filter((n) => n.resourceUrl === `/communications/calls/${callId}`)
      .slice(-2);
    expect(tail.map((n) => [n.changeType, (n.resourceData as { state: string }).state])).toEqual([
      ["updated", "terminating"],
      ["deleted", "terminated"],
    ]);
    expect((tail[1]?.resourceData as { resultInfo?: unknown } | undefined)?.resultInfo).toMatchObject({
      code: 200,
      subcode: 7000,
    });
    expect((await graph(emulator, "POST", `/communications/calls/${callId}/keepAlive`, token)).status).toBe(
      404,
    );

    const log = emulator.requestLog().filter((r) => r.callId === callId);
    expect(log.map((r) => `${r.action} ${r.status}`)).toContain("answer 202");
    expect(log.every((r) => r.headers.authorization === undefined)).toBe(true);
    const deliveries = emulator.notificationDeliveries().filter((d) => d.callId === callId);
    expect(deliveries.every((d) => d.status === 202 && (d.latencyMs ?? -1) >= 0)).toBe(true);
  });

  it("validates bodies against the metadata and the media blob, and 404s unknown calls", async () => {
    const callId = await ring();
    const wrongType = await graph(emulator, "POST", `/communications/calls/${callId}/answer`, token, {
      ...answerBody(bot.url),
      acceptedModalities: "audio",
    });
    expect(wrongType.status).toBe(400);
    expect(wrongType.json().error).toMatchObject({ code: "BadRequest" });
    expect(wrongType.json().error.message).toBe(
      'Invalid answer request body: acceptedModalities: expected a JSON array (Collection(microsoft.graph.modality)), got string "audio"',
    );
    const unknown = await graph(emulator, "POST", `/communications/calls/${callId}/answer`, token, {
      ...answerBody(bot.url),
      mediaConfiguration: {},
    });
    expect(unknown.json().error.message).toMatch(
      /mediaConfiguration: unknown parameter 'mediaConfiguration'/,
    );
    const { mediaConfig: _omit, ...noMedia } = answerBody(bot.url);
    const missing = await graph(emulator, "POST", `/communications/calls/${callId}/answer`, token, noMedia);
    expect(missing.json().error.message).toMatch(/required parameter 'mediaConfig'/);
    const badBlob = await graph(
      emulator,
      "POST",
      `/communications/calls/${callId}/answer`,
      token,
      answerBody(bot.url, '{"mpUri":"x"}'),
    );
    expect(badBlob.status).toBe(400);
    expect(badBlob.json().error.message).toMatch(
      /^mediaConfig.blob: invalid media configuration blob: mpUri/,
    );
    const notJson = await graph(
      emulator,
      "POST",
      `/communications/calls/${callId}/answer`,
      token,
      undefined,
      {
        "content-type": "application/json",
      },
    );
    expect(notJson.status).toBe(400);
    const httpCallback = await graph(
      emulator,
      "POST",
      `/communications/calls/${callId}/answer`,
      token,
      answerBody("http://bot.example.com/cb"),
    );
    expect(httpCallback.json().error.message).toMatch(/must be an https URL/);
    const longContext = await graph(emulator, "POST", `/communications/calls/${callId}/mute`, token, {
      clientContext: "x".repeat(257),
    });
    expect(longContext.status).toBe(400);
    expect(emulator.call(callId)?.state).toBe("incoming");
    const nobody = await graph(
      emulator,
      "POST",
      "/communications/calls/00000000-0000-0000-0000-000000000000/answer",
      token,
      answerBody(bot.url),
    );
    expect(nobody.status).toBe(404);
    expect(nobody.json().error.code).toBe("NotFound");
  });

  it("ends an unanswered call at the answer deadline with 408/1106", async () => {
    emulator.timings.answerDeadlineMs = 150;
    const callId = await ring();
    const ended = await emulator.waitForCallState(callId, "terminated", 3000);
    expect(ended.resultInfo).toMatchObject({ code: 408, subcode: 1106 });
    expect((ended.endedAt ?? 0) - ended.createdAt).toBeGreaterThanOrEqual(140);
    await bot.waitUntil(() => bot.notificationsFor(callId).some((n) => n.changeType === "deleted"));
    const late = await graph(
      emulator,
      "POST",
      `/communications/calls/${callId}/answer`,
      token,
      answerBody(bot.url),
    );
    expect(late.status).toBe(404);
  });

  it("ends a call with 408/8537 when keepAlive stops, and keepAlive postpones that", async () => {
    emulator.timings.keepAliveTimeoutMs = 400;
    const callId = await ring();
    await graph(emulator, "POST", `/communications/calls/${callId}/answer`, token, answerBody(bot.url));
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect((await graph(emulator, "POST", `/communications/calls/${callId}/keepAlive`, token)).status).toBe(
      200,
    );
    await new Promise((resolve) => setTimeout(resolve, 250));
    // 500 ms after the answer, but only 250 ms after the keepAlive: still up.
    expect(emulator.call(callId)?.state).toBe("established");
    const ended = await emulator.waitForCallState(callId, "terminated", 3000);
    expect(ended.resultInfo).toMatchObject({ code: 408, subcode: 8537 });
    expect((ended.endedAt ?? 0) - (ended.lastKeepAliveAt ?? 0)).toBeGreaterThanOrEqual(390);
  });

  it("reject ends the call with a deleted notification that may lack state", async () => {
    const callId = await ring();
    const rejected = await graph(emulator, "POST", `/communications/calls/${callId}/reject`, token, {
      reason: "busy",
    });
    expect(rejected.status).toBe(202);
    await bot.waitUntil(() => bot.notificationsFor(callId).some((n) => n.changeType === "deleted"));
    const deleted = bot.notificationsFor(callId).find((n) => n.changeType === "deleted");
    expect(deleted?.resourceData).toBeDefined();
    expect((deleted?.resourceData as { state?: string } | undefined)?.state).toBeUndefined();
    const badReason = await graph(emulator, "POST", `/communications/calls/${await ring()}/reject`, token, {
      reason: "tired",
    });
    expect(badReason.json().error.message).toMatch(
      /^Invalid reject request body: reason: 'tired' is not a member of microsoft.graph.rejectReason/,
    );
  });

  it("redirect is valid only before answering and checks targets and timeout", async () => {
    const callId = await ring();
    const target = { identity: { user: { id: "u2", displayName: "Bob" } } };
    const badTimeout = await graph(emulator, "POST", `/communications/calls/${callId}/redirect`, token, {
      targets: [target],
      timeout: 5,
    });
    expect(badTimeout.json().error.message).toMatch(/timeout must be 15..90/);
    const ok = await graph(emulator, "POST", `/communications/calls/${callId}/redirect`, token, {
      targets: [target],
      timeout: 20,
    });
    expect(ok.status).toBe(202);
    await emulator.waitForCallState(callId, "terminated");
    const answered = await ring();
    await graph(emulator, "POST", `/communications/calls/${answered}/answer`, token, answerBody(bot.url));
    const late = await graph(emulator, "POST", `/communications/calls/${answered}/redirect`, token, {
      targets: [target],
    });
    expect(late.status).toBe(409);
  });

  it("ends an answered call with 410/301005 when establishWhen says media never connected", async () => {
    emulator.timings.mediaTimeoutMs = 300;
    emulator.setEstablishWhen(async () => false);
    const callId = await ring();
    await graph(emulator, "POST", `/communications/calls/${callId}/answer`, token, answerBody(bot.url));
    const ended = await emulator.waitForCallState(callId, "terminated", 3000);
    expect(ended.stateHistory.map((s) => s.state)).toEqual(["incoming", "establishing", "terminated"]);
    expect(ended.resultInfo).toMatchObject({ code: 410, subcode: 301005 });
  });

  it("creates an outgoing call: 201 establishing, then established", async () => {
    const created = await graph(emulator, "POST", "/communications/calls", token, {
      "@odata.type": "#microsoft.graph.call",
      callbackUri: bot.url,
      targets: [
        { "@odata.type": "#microsoft.graph.invitationParticipantInfo", identity: { user: { id: "u3" } } },
      ],
      requestedModalities: ["audio"],
      mediaConfig: answerBody(bot.url).mediaConfig,
      tenantId: TENANT,
    });
    expect(created.status).toBe(201);
    const call = created.json();
    expect(call).toMatchObject({ state: "establishing", direction: "outgoing" });
    await emulator.waitForCallState(call.id, "established");
    const noTargets = await graph(emulator, "POST", "/communications/calls", token, {
      callbackUri: bot.url,
      requestedModalities: ["audio"],
      mediaConfig: answerBody(bot.url).mediaConfig,
    });
    expect(noTargets.json().error.message).toMatch(/targets or meetingInfo is required/);
  });
});

describe("faults", () => {
  it("answers with 429 and Retry-After the given number of times, then serves", async () => {
    const callId = await ring();
    emulator.injectFault({ match: { action: "answer" }, status: 429, retryAfterSeconds: 2, times: 1 });
    const throttled = await graph(
      emulator,
      "POST",
      `/communications/calls/${callId}/answer`,
      token,
      answerBody(bot.url),
    );
    expect(throttled.status).toBe(429);
    expect(throttled.headers["retry-after"]).toBe("2");
    expect(throttled.json().error.code).toBe("TooManyRequests");
    const retried = await graph(
      emulator,
      "POST",
      `/communications/calls/${callId}/answer`,
      token,
      answerBody(bot.url),
    );
    expect(retried.status).toBe(202);
    await emulator.waitForRequest((r) => r.callId === callId && r.action === "answer" && r.status === 202);
    const answers = emulator.requestLog().filter((r) => r.callId === callId && r.action === "answer");
    expect(answers.map((r) => [r.status, r.fault ?? false])).toEqual([
      [429, true],
      [202, false],
    ]);
  });

  it("delays a request with delayMs and matches by method and path", async () => {
    const callId = await ring();
    emulator.injectFault({
      match: { method: "POST", pathContains: "/keepAlive" },
      delayMs: 200,
      status: 503,
      times: 1,
    });
    const started = Date.now();
    const slow = await graph(emulator, "POST", `/communications/calls/${callId}/keepAlive`, token);
    expect(slow.status).toBe(503);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect((await graph(emulator, "POST", `/communications/calls/${callId}/keepAlive`, token)).status).toBe(
      200,
    );
  });

  it("drops and duplicates notifications on request", async () => {
    emulator.dropNextNotifications(1);
    const { callId: dropped } = emulator.placeIncomingCall();
    const delivery = await emulator.waitForDelivery((d) => d.callId === dropped);
    expect(delivery.fault).toBe("dropped");
    expect(delivery.status).toBeUndefined();
    expect(bot.notificationsFor(dropped)).toEqual([]);

    emulator.duplicateNextNotifications(1);
    const { callId: twice } = emulator.placeIncomingCall();
    await bot.waitUntil(() => bot.notificationsFor(twice).length === 2);
    const copies = bot.received.filter(
      (r) => r.body.value?.[0]?.resourceUrl === `/communications/calls/${twice}`,
    );
    expect(copies).toHaveLength(2);
    expect(copies[0]?.headers["x-microsoft-skype-message-id"]).toBe(
      copies[1]?.headers["x-microsoft-skype-message-id"],
    );
    await emulator.waitForDelivery((d) => d.callId === twice && d.fault === "duplicate");
    expect(
      emulator
        .notificationDeliveries()
        .filter((d) => d.callId === twice)
        .map((d) => d.fault ?? "none"),
    ).toEqual(["none", "duplicate"]);
  });

  it("reorders the next pair: established before establishing", async () => {
    const callId = await ring();
    emulator.reorderNextNotificationPair();
    await graph(emulator, "POST", `/communications/calls/${callId}/answer`, token, answerBody(bot.url));
    await bot.waitUntil(
      () => bot.notificationsFor(callId).filter((n) => n.changeType === "updated").length >= 2,
    );
    const states = bot
      .notificationsFor(callId)
      .filter((n) => n.changeType === "updated" && !n.resourceUrl.endsWith("/participants"))
      .map((n) => (n.resourceData as { state: string }).state);
    expect(states.slice(0, 2)).toEqual(["established", "establishing"]);
  });
});
