import { decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GraphEmulator } from "../../../src/emulator/graph/graph-emulator.js";
import { httpsRequest } from "../../../src/graph/https-request.js";
import { type BotReceiver, verifyNotificationToken } from "./bot-receiver.js";
import { APP_ID, startEmulatorWithBot, TENANT } from "./graph-test-kit.js";

let emulator: GraphEmulator;
let bot: BotReceiver;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ emulator, bot, close } = await startEmulatorWithBot());
});
afterAll(() => close());

const verify = (token: string) =>
  verifyNotificationToken(emulator.notificationOpenIdUrl, emulator.caCertPem, token, APP_ID);

describe("notification token forging", () => {
  it("signs valid tokens by default and forges each kind of bad token on request", async () => {
    await expect(verify(await emulator.signNotificationToken())).resolves.toMatchObject({ tid: TENANT });
    await expect(verify(await emulator.signNotificationToken({ signWithUnknownKey: true }))).rejects.toThrow(
      /signature/,
    );
    await expect(verify(await emulator.signNotificationToken({ alg: "none" }))).rejects.toThrow();
    await expect(verify(await emulator.signNotificationToken({ expiresInSeconds: -10 }))).rejects.toThrow(
      /exp/,
    );
    await expect(verify(await emulator.signNotificationToken({ notBeforeInSeconds: 600 }))).rejects.toThrow(
      /nbf/,
    );
    await expect(
      verify(await emulator.signNotificationToken({ claims: { aud: "someone-else" } })),
    ).rejects.toThrow(/aud/);
    await expect(
      verify(await emulator.signNotificationToken({ claims: { iss: "https://evil.example" } })),
    ).rejects.toThrow(/iss/);
    await expect(verify(await emulator.signNotificationToken({ omitClaims: ["tid"] }))).rejects.toThrow(
      /tid/,
    );
    await expect(verify(await emulator.signNotificationToken({ kid: "no-such-kid" }))).rejects.toThrow();
  });

  it("rotates the signing key: new kid published, old tokens refused unless the old key is kept", async () => {
    const before = await emulator.signNotificationToken();
    const oldKid = decodeProtectedHeader(before).kid;
    const newKid = await emulator.rotateNotificationKey();
    const after = await emulator.signNotificationToken();
    expect(decodeProtectedHeader(after).kid).toBe(newKid);
    expect(newKid).not.toBe(oldKid);
    await expect(verify(after)).resolves.toBeDefined();
    await expect(verify(before)).rejects.toThrow();
    const graceKid = await emulator.rotateNotificationKey({ keepPrevious: true });
    expect(graceKid).not.toBe(newKid);
    await expect(verify(after)).resolves.toBeDefined();
  });

  it("posts raw payloads with forged tokens or headers and records the bot's answer", async () => {
    bot.status = 401;
    try {
      const payload = { "@odata.type": "#microsoft.graph.commsNotifications", value: [] };
      const delivery = await emulator.postRawNotification(payload, {
        tokenOverrides: { signWithUnknownKey: true },
      });
      expect(delivery.status).toBe(401);
      const last = bot.received.at(-1);
      expect(last?.body).toEqual(payload);
      await expect(verify(String(last?.headers.authorization).slice(7))).rejects.toThrow();
      const bare = await emulator.postRawNotification({ value: [] }, { headers: { authorization: null } });
      expect(bare.status).toBe(401);
      expect(bot.received.at(-1)?.headers.authorization).toBeUndefined();
      await emulator.postRawNotification({ value: [] }, { token: "garbage" });
      expect(bot.received.at(-1)?.headers.authorization).toBe("Bearer garbage");
    } finally {
      bot.status = 202;
    }
  });
});

describe("control API over HTTP", () => {
  const control = async (method: "GET" | "POST" | "DELETE", path: string, body?: unknown) => {
    const response = await httpsRequest({
      url: `${emulator.url}/emulator${path}`,
      method,
      headers: { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      timeoutMs: 5000,
      ca: emulator.caCertPem,
    });
    return { status: response.status, body: JSON.parse(response.body.toString() || "{}") };
  };

  it("places a call, sends a tone and a roster, ends it, and reports deliveries", async () => {
    const placed = await control("POST", "/calls", { meeting: true, caller: { displayName: "Grace" } });
    expect(placed.status).toBe(201);
    const callId = placed.body.callId as string;
    await bot.waitUntil(() => bot.notificationsFor(callId).length === 1);
    const created = bot.notificationsFor(callId)[0]?.resourceData as Record<string, unknown>;
    expect(created.chatInfo).toBeDefined();
    expect(created.meetingInfo).toMatchObject({ "@odata.type": "#microsoft.graph.organizerMeetingInfo" });

    expect((await control("POST", `/calls/${callId}/tone`, { tone: "pound" })).status).toBe(200);
    expect((await control("POST", `/calls/${callId}/tone`, { tone: "hash" })).body.error.message).toMatch(
      /'hash' is not a member of microsoft.graph.tone/,
    );
    const roster = [
      {
        id: "p1",
        info: { identity: { user: { id: "u1", displayName: "Grace" } } },
        mediaStreams: [
          {
            mediaType: "audio",
            label: "main-audio",
            sourceId: "7",
            direction: "sendReceive",
            serverMuted: false,
          },
        ],
        isMuted: false,
        isInLobby: false,
      },
    ];
    expect((await control("POST", `/calls/${callId}/roster`, { participants: roster })).status).toBe(200);
    const badRoster = await control("POST", `/calls/${callId}/roster`, { participants: [{ id: "p2" }] });
    expect(badRoster.status).toBe(400);
    expect(badRoster.body.error.message).toMatch(/participants\[0\]\.info: required property/);
    expect(
      (await control("POST", `/calls/${callId}/end`, { resultInfo: { code: 200, subcode: 4097 } })).status,
    ).toBe(200);
    await bot.waitUntil(() => bot.notificationsFor(callId).some((n) => n.changeType === "deleted"));
    const kinds = bot.notificationsFor(callId).map((n) => {
      const data = n.resourceData as { toneInfo?: { tone: string }; state?: string } | unknown[];
      if (Array.isArray(data)) return "roster";
      return data.toneInfo ? `tone:${data.toneInfo.tone}` : `${n.changeType}:${data.state}`;
    });
    expect(kinds).toEqual(["created:incoming", "tone:pound", "roster", "deleted:terminated"]);
    const deliveries = await control("GET", "/deliveries");
    expect(deliveries.body.value.filter((d: { callId?: string }) => d.callId === callId)).toHaveLength(4);
    expect((await control("GET", `/calls/${callId}`)).body.resultInfo).toMatchObject({
      code: 200,
      subcode: 4097,
    });
  });

  it("injects and clears faults, and refuses bad fault specs", async () => {
    const fault = await control("POST", "/faults", {
      match: { action: "token" },
      status: 503,
      retryAfterSeconds: 1,
      times: 2,
    });
    expect(fault.status).toBe(201);
    const token = await httpsRequest({
      url: `${emulator.authorityUrl(TENANT)}/oauth2/v2.0/token`,
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=client_credentials",
      timeoutMs: 5000,
      ca: emulator.caCertPem,
    });
    expect(token.status).toBe(503);
    expect(token.headers["retry-after"]).toBe("1");
    expect((await control("DELETE", "/faults")).status).toBe(200);
    expect((await control("POST", "/faults", { match: {}, status: 418 })).status).toBe(400);
    const log = await control("GET", "/requests");
    const entry = log.body.value.find(
      (r: { action: string; status: number }) => r.action === "token" && r.status === 503,
    );
    expect(entry).toBeDefined();
  });
});
