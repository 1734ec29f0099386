/**
 * Call control (mute, unmute, transfer, invite) from the signaling service against the Graph
 * emulator: real HTTPS, real tokens, request bodies checked by the emulator against the v1.0
 * metadata, the effects seen through Graph's notifications (roster, call end).
 */
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { BotConfig } from "../../src/config/config.js";
import type { GraphEmulator } from "../../src/emulator/graph/graph-emulator.js";
import { CallControlError } from "../../src/signaling/call-control.js";
import { until } from "./helpers/fakes.js";
import {
  type SignalingBot as Bot,
  type BotTls,
  startGraphEmulatorForBot,
  startSignalingBot,
  stopSignalingBot,
  TENANT,
} from "./helpers/graph-emulator-bot.js";

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
  emulator.timings.terminatingDelayMs = 20;
  emulator.clearFaults();
});

async function startBot(overrides: Partial<BotConfig> = {}, answerDeadlineMs?: number): Promise<Bot> {
  bot = await startSignalingBot(
    emulator,
    botTls,
    { notificationBodyLimitBytes: 64 * 1024, ...overrides },
    () => ({
      answerDeadlineMs,
    }),
  );
  return bot;
}

async function establishedCall(b: Bot): Promise<string> {
  const { callId } = emulator.placeIncomingCall({ appId: b.appId });
  await emulator.waitForCallState(callId, "established");
  await until(() => b.service.calls().find((c) => c.callId === callId)?.state === "established", 3000);
  await until(() => (b.media.rosters.get(callId) ?? []).length > 0, 3000, "first roster");
  return callId;
}

const self = (b: Bot, callId: string) => b.media.rosters.get(callId)?.find((p) => p.role === "self");

async function controlCount(b: Bot, action: string, outcome: string): Promise<number> {
  const metric = await b.registry.getSingleMetric("signaling_call_control_requests_total")?.get();
  return metric?.values.find((v) => v.labels.action === action && v.labels.outcome === outcome)?.value ?? 0;
}

const user = (id: string, displayName: string) => ({
  "@odata.type": "#microsoft.graph.invitationParticipantInfo",
  identity: { user: { id, displayName, tenantId: TENANT } },
});

describe("call control against the Graph emulator", () => {
  it("mute and unmute: Graph's roster then shows the bot's own participant muted, then not", async () => {
    const b = await startBot();
    const callId = await establishedCall(b);
    expect(self(b, callId)?.isMuted).toBe(false);
    const operation = await b.service.mute(callId, "mute-1");
    expect(operation).toMatchObject({ status: "Completed", clientContext: "mute-1" });
    await until(() => self(b, callId)?.isMuted === true, 3000, "bot muted in the roster");
    await b.service.unmute(callId);
    await until(() => self(b, callId)?.isMuted === false, 3000, "bot unmuted in the roster");
    expect(await controlCount(b, "mute", "ok")).toBe(1);
    expect(await controlCount(b, "unmute", "ok")).toBe(1);
  });

  it("transfer: the call goes transferring and ends 200/7015", async () => {
    const b = await startBot();
    const callId = await establishedCall(b);
    await b.service.transfer(callId, { transferTarget: user(randomUUID(), "Tess") });
    const ended = await emulator.waitForCallState(callId, "terminated");
    expect(ended.stateHistory.map((s) => s.state)).toContain("transferring");
    await until(() => b.service.calls().find((c) => c.callId === callId)?.state === "terminated", 3000);
    const end = b.service.calls().find((c) => c.callId === callId)?.end;
    expect(end?.resultInfo).toMatchObject({ code: 200, subcode: 7015 });
    expect(b.media.log).toContain(`close ${callId}`);
  });

  it("invite: the invited user joins Graph's roster with a new source id", async () => {
    const b = await startBot();
    const callId = await establishedCall(b);
    const userId = randomUUID();
    const operation = await b.service.invite(callId, [user(userId, "Ivy")], "inv-1");
    expect(operation).toMatchObject({
      "@odata.type": "#microsoft.graph.inviteParticipantsOperation",
      status: "Completed",
      clientContext: "inv-1",
    });
    await until(
      () => (b.media.rosters.get(callId) ?? []).some((p) => p.userId === userId),
      3000,
      "Ivy joined",
    );
    const ivy = b.media.rosters.get(callId)?.find((p) => p.userId === userId);
    expect(ivy).toMatchObject({ displayName: "Ivy", kind: "user", role: "attendee" });
    const taken = (b.media.rosters.get(callId) ?? [])
      .filter((p) => p !== ivy)
      .flatMap((p) => p.audioSourceIds);
    expect(ivy?.audioSourceIds).toHaveLength(1);
    expect(taken).not.toContain(ivy?.audioSourceIds[0]);
  });

  it("refuses a call id that is not ours, a wrong target, and passes on Graph's refusal", async () => {
    const b = await startBot();
    const callId = await establishedCall(b);
    const before = emulator.requestLog().length;
    // A call of another app, an unknown id: refused before anything reaches Graph.
    for (const id of [randomUUID(), "../calls"]) {
      const error = await b.service.mute(id).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CallControlError);
      expect(error).toMatchObject({ reason: "not_our_call", action: "mute" });
    }
    const invalid = await b.service
      .transfer(callId, { transferTarget: { identity: {} } })
      .catch((e: unknown) => e);
    expect(invalid).toMatchObject({ reason: "invalid_request" });
    expect((invalid as Error).message).toMatch(/transferTarget\.identity/);
    expect(emulator.requestLog().length).toBe(before);
    expect(await controlCount(b, "mute", "not_our_call")).toBe(2);
    expect(await controlCount(b, "transfer", "invalid_request")).toBe(1);

    // Graph refuses to mute a call being transferred: its status and code reach the caller.
    emulator.timings.terminatingDelayMs = 5000;
    await b.service.transfer(callId, { transferTarget: user(randomUUID(), "Tess") });
    const refused = await b.service.mute(callId).catch((e: unknown) => e);
    expect(refused).toMatchObject({ reason: "refused", status: 409, graphCode: "Conflict" });
  });
});

describe("redirect from the admission policy (BOT_REDIRECT_WHEN_BUSY)", () => {
  const target = { userId: randomUUID(), tenantId: TENANT, displayName: "Overflow desk", timeoutSeconds: 20 };

  async function counter(b: Bot, name: string, labels: Record<string, string>): Promise<number> {
    const values = (await b.registry.getSingleMetric(name)?.get())?.values ?? [];
    return (
      values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value))?.value ?? 0
    );
  }

  it("redirects a call arriving at capacity instead of rejecting it busy", async () => {
    const b = await startBot({ maxCalls: 1, redirectWhenBusy: target });
    await establishedCall(b);
    const { callId } = emulator.placeIncomingCall({ appId: b.appId });
    const ended = await emulator.waitForCallState(callId, "terminated");
    expect(ended.stateHistory.map((s) => s.state)).toContain("redirecting");
    await until(
      () => emulator.requestLog().some((r) => r.callId === callId && r.action === "redirect"),
      3000,
    );
    const redirect = emulator.requestLog().find((r) => r.callId === callId && r.action === "redirect");
    expect(redirect?.status).toBe(202);
    expect(redirect?.body).toEqual({
      targets: [
        {
          "@odata.type": "#microsoft.graph.invitationParticipantInfo",
          identity: { user: { id: target.userId, tenantId: TENANT, displayName: "Overflow desk" } },
        },
      ],
      timeout: 20,
    });
    expect(emulator.requestLog().some((r) => r.callId === callId && r.action === "reject")).toBe(false);
    await until(() => b.service.calls().find((c) => c.callId === callId)?.state === "terminated", 3000);
    expect(await counter(b, "signaling_incoming_calls_total", { decision: "redirected_capacity" })).toBe(1);
  });

  it("does not reject a call whose redirect may have gone through (a 504 after Graph acted)", async () => {
    const b = await startBot({ maxCalls: 1, redirectWhenBusy: target });
    await establishedCall(b);
    emulator.injectFault({ match: { action: "redirect" }, status: 504, afterServing: true });
    const { callId } = emulator.placeIncomingCall({ appId: b.appId });
    await emulator.waitForCallState(callId, "terminated");
    await until(() => b.service.calls().find((c) => c.callId === callId)?.state === "terminated", 3000);
    expect(
      emulator
        .requestLog()
        .filter((r) => r.callId === callId)
        .map((r) => r.action),
    ).toEqual(["redirect"]);
    expect(await counter(b, "signaling_calls_rejected_total", { reason: "redirect_failed" })).toBe(0);
  });

  it("falls back to rejecting busy when Graph does not take the redirect", async () => {
    // The bot counts a 4 s answer deadline: the redirect's retries get 1.5 s, the reject the rest.
    const b = await startBot({ maxCalls: 1, redirectWhenBusy: target }, 4000);
    await establishedCall(b);
    emulator.injectFault({ match: { action: "redirect" }, status: 503, times: 1000 });
    const { callId } = emulator.placeIncomingCall({ appId: b.appId });
    await emulator.waitForCallState(callId, "terminated");
    await until(() => emulator.requestLog().some((r) => r.callId === callId && r.action === "reject"), 3000);
    const reject = emulator.requestLog().find((r) => r.callId === callId && r.action === "reject");
    expect(reject?.body).toMatchObject({ reason: "busy" });
    expect(await counter(b, "signaling_calls_rejected_total", { reason: "redirect_failed" })).toBe(1);
  });
});
