/**
 * Calls the bot places (issue 16), end to end through both emulators with the real bot:
 * meeting joins by URL, meeting id and chat info and a call to a user, whose handlers see
 * Graph's call id and hear the far end; refusals before anything is created; a refused
 * createCall that leaves no media session; notifications that reach the bot before the 201;
 * the lobby (admitted, and timed out: hung up through Graph).
 */
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newEmulatedApp } from "../../src/demo/emulator-bot-env.js";
import type { EmulatedCall } from "../../src/emulator/graph/emulated-call.js";
import { MeetingJoinUrlError } from "../../src/graph/meeting-join-url.js";
import type { CallEvent } from "../../src/media/bot-api.js";
import { parseExposition } from "../../src/metrics/prometheus-text.js";
import {
  CallNotEstablishedError,
  PlaceCallFailedError,
  PlaceCallRefusedError,
} from "../../src/signaling/place-call-errors.js";
import type { PlacedCall } from "../../src/signaling/placed-call.js";
import { probeLines as probeLinesOf } from "../fixtures/probe-events.js";
import { waitFor } from "../media/wait-for.js";
import { closeSharedGraph, FaultStack } from "./fault-stack.js";

const APP = newEmulatedApp();
/** The bot's own tenant: BOT_ALLOWED_TENANTS lets it call (and be called by) it only. */
const TENANT = APP.tenantId;
const PROBE = path.join(import.meta.dirname, "..", "fixtures", "placed-call-probe.ts");
const EVENTS = path.join(tmpdir(), `placed-call-probe-${process.pid}-${randomUUID()}.jsonl`);
process.env.PLACED_CALL_PROBE_EVENTS = EVENTS;

function joinUrl(): string {
  const thread = `19:meeting_${randomUUID().replaceAll("-", "")}@thread.v2`;
  const context = JSON.stringify({ Tid: TENANT, Oid: randomUUID() });
  return `https://teams.microsoft.com/l/meetup-join/${encodeURIComponent(thread)}/0?context=${encodeURIComponent(context)}`;
}

interface ProbeLine {
  callId: string;
  event: string;
  type?: string;
  reason?: string;
  mediaSessionId?: string;
}

function probeLines(callId: string): ProbeLine[] {
  return probeLinesOf<ProbeLine>(EVENTS, callId);
}

function eventsOf(placed: PlacedCall): CallEvent[] {
  const events: CallEvent[] = [];
  placed.onEvent((event) => events.push(event));
  return events;
}

let stack: FaultStack;

async function botMetric(name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${stack.bot.signaling.opsUrl}/metrics`)).text();
  const lines = text.split("\n").filter((line) => line.startsWith(`${name}{`));
  let sum = 0;
  for (const [key, value] of parseExposition(lines.join("\n"))) {
    if (Object.entries(labels).every(([label, wanted]) => key.includes(`${label}="${wanted}"`))) sum += value;
  }
  return sum;
}

/** The bot's own participant in the roster of a placed call, in or out of the lobby. */
function botParticipant(call: EmulatedCall, isInLobby: boolean) {
  return {
    id: call.myParticipantId,
    info: { identity: { application: { id: call.appId, displayName: "placed call bot" } } },
    isInLobby,
    isMuted: false,
    mediaStreams: [],
  };
}

/** The placed call ended, through Graph by the bot if `deleted`, and nothing of it is left. */
async function expectGone(placed: PlacedCall): Promise<void> {
  await placed.ended;
  await stack.graph.waitForCallState(placed.callId, "terminated", 10_000);
  await stack.expectNothingLeft();
  expect(stack.media.sessions().filter((s) => s.mediaSessionId === placed.mediaSessionId)).toEqual([]);
}

beforeAll(async () => {
  stack = await FaultStack.start({
    graceMs: 2000,
    handlers: `module:${PROBE}`,
    app: APP,
    env: { BOT_ALLOWED_TENANTS: TENANT, BOT_MAX_CALLS: "2" },
  });
});

afterAll(async () => {
  const left = await stack?.stop();
  await closeSharedGraph();
  rmSync(EVENTS, { force: true });
  delete process.env.PLACED_CALL_PROBE_EVENTS;
  if (left && left.length > 0) throw new Error(`handles left open: ${left.join(", ")}`);
});

describe("placing calls with app-hosted media", () => {
  const targets = {
    "join URL": () => stack.bot.joinMeeting(joinUrl()),
    // The emulator knows the meeting by its id and passcode (an unknown id is refused 404).
    "meeting id and passcode": () => {
      stack.graph.createMeeting({ tenantId: TENANT, joinMeetingId: "293654785123", passcode: "Xy7pQ2" });
      return stack.bot.joinMeeting({
        joinMeetingId: "293 654 785 123",
        passcode: "Xy7pQ2",
        tenantId: TENANT,
      });
    },
    "chat and organizer": () =>
      stack.bot.joinMeeting({
        threadId: `19:meeting_${randomUUID().replaceAll("-", "")}@thread.v2`,
        messageId: "0",
        organizerId: randomUUID(),
        tenantId: TENANT,
      }),
    "a user (P2P)": () => stack.bot.callUser({ userId: randomUUID(), tenantId: TENANT, displayName: "Ada" }),
  };

  for (const [name, place] of Object.entries(targets)) {
    it(`${name}: established, the handler has Graph's call id and hears the far end; hung up cleanly`, async () => {
      const placed = await place();
      const events = eventsOf(placed);
      await placed.established;
      expect(stack.graph.call(placed.callId)?.state).toBe("established");
      expect(stack.botState(placed.callId)).toBe("established");
      // The handler was created with the Graph id (not the provisional one) and hears audio.
      await waitFor(() => probeLines(placed.callId).some((line) => line.event === "heard"), 10_000);
      const started = probeLines(placed.callId).filter((line) => line.event === "started");
      expect(started).toEqual([
        { callId: placed.callId, event: "started", mediaSessionId: placed.mediaSessionId },
      ]);
      // The media host knows the session by its provisional id (= the media session id): audio both ways.
      await stack.audioFlows(placed.mediaSessionId);
      await placed.hangUp();
      expect(await placed.ended).toMatchObject({ reason: "hungUp" });
      expect(events.map((event) => event.type)).toEqual(["established", "ended"]);
      expect(stack.requestsFor(placed.callId, "delete").map((r) => r.status)).toEqual([204]);
      await expectGone(placed);
      await waitFor(() => probeLines(placed.callId).some((line) => line.event === "end"), 5000);
      expect(probeLines(placed.callId).filter((l) => l.event !== "started" && l.event !== "heard")).toEqual([
        { callId: placed.callId, event: "callEvent", type: "established" },
        { callId: placed.callId, event: "callEvent", type: "ended", reason: "hungUp" },
        { callId: placed.callId, event: "end", reason: "hungUp" },
      ]);
    });
  }

  it("the far end hangs up a P2P call: ended remoteEnded", async () => {
    const placed = await stack.bot.callUser({ userId: randomUUID(), tenantId: TENANT });
    await placed.established;
    stack.graph.endCall(placed.callId, { code: 200, subcode: 4521, message: "other participant ended" });
    expect(await placed.ended).toEqual({
      reason: "remoteEnded",
      resultInfo: { code: 200, subcode: 4521, message: "other participant ended" },
    });
    await expectGone(placed);
  });

  it("refuses a bad join URL, a tenant not allowed and invalid options at once, sending nothing", async () => {
    const createsBefore = stack.graph.requestLog().filter((r) => r.action === "create").length;
    await expect(stack.bot.joinMeeting("https://example.com/not-a-meeting")).rejects.toBeInstanceOf(
      MeetingJoinUrlError,
    );
    const otherTenant = stack.bot.joinMeeting({ joinMeetingId: "123456789", tenantId: randomUUID() });
    await expect(otherTenant).rejects.toBeInstanceOf(PlaceCallRefusedError);
    await expect(otherTenant).rejects.toMatchObject({ reason: "tenant_not_allowed" });
    await expect(
      stack.bot.callUser({ userId: randomUUID(), tenantId: TENANT }, { lobbyTimeoutMs: -1 }),
    ).rejects.toThrow(/lobbyTimeoutMs/);
    // The API's range is BOT_LOBBY_TIMEOUT_MS's and the calls API's: 1000-3600000.
    await expect(
      stack.bot.callUser({ userId: randomUUID(), tenantId: TENANT }, { lobbyTimeoutMs: 999 }),
    ).rejects.toThrow(/lobbyTimeoutMs must be an integer from 1000/);
    expect(stack.graph.requestLog().filter((r) => r.action === "create").length).toBe(createsBefore);
    expect(
      await botMetric("signaling_outgoing_calls_total", {
        kind: "join_url",
        outcome: "refused_invalid_target",
      }),
    ).toBe(1);
    expect(
      await botMetric("signaling_outgoing_calls_total", {
        kind: "join_id",
        outcome: "refused_tenant_not_allowed",
      }),
    ).toBe(1);
    await stack.expectNothingLeft();
  });

  it("refuses a call beyond BOT_MAX_CALLS, counting live calls of both directions", async () => {
    const incoming = await stack.establishedCalls(1);
    const placed = await stack.bot.callUser({ userId: randomUUID(), tenantId: TENANT });
    await placed.established;
    await expect(stack.bot.joinMeeting(joinUrl())).rejects.toMatchObject({
      name: "PlaceCallRefusedError",
      reason: "capacity",
    });
    await placed.hangUp();
    await stack.callersHangUp(incoming);
    await expectGone(placed);
  });

  it("createCall refused by Graph: PlaceCallFailedError and the media session is closed", async () => {
    stack.graph.injectFault({ match: { action: "create" }, status: 429, retryAfterSeconds: 0, times: 10 });
    try {
      const failure = await stack.bot.joinMeeting(joinUrl()).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(PlaceCallFailedError);
      expect(failure).toMatchObject({ stage: "create_refused", status: 429 });
    } finally {
      stack.graph.clearFaults();
    }
    expect(
      await botMetric("signaling_outgoing_calls_total", { kind: "join_url", outcome: "create_refused" }),
    ).toBe(1);
    await stack.expectNothingLeft();
  });

  it("createCall's outcome unknown (a 504 after Graph created the call): failed, media session closed", async () => {
    stack.graph.injectFault({ match: { action: "create" }, status: 504, afterServing: true });
    const failure = await stack.bot
      .callUser({ userId: randomUUID(), tenantId: TENANT })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(PlaceCallFailedError);
    expect(failure).toMatchObject({ stage: "create_unknown" });
    expect(
      await botMetric("signaling_outgoing_calls_total", { kind: "user", outcome: "create_unknown" }),
    ).toBe(1);
    // Graph's call is one the bot cannot name: without its media it ends at Graph by itself.
    await stack.expectNothingLeft();
  });

  it("notifications that reach the bot before createCall's 201 are held and replayed", async () => {
    // Graph creates the call (and notifies establishing, then established) at once; its 201
    // reaches the bot 1.5 s later.
    stack.graph.injectFault({ match: { action: "create" }, afterServing: true, delayMs: 1500 });
    const replayedBefore = await botMetric("signaling_held_notifications_total", { outcome: "replayed" });
    const placed = await stack.bot.joinMeeting(joinUrl());
    const call = stack.graph.call(placed.callId);
    // Graph had established the call before the bot learnt its id.
    expect(call?.stateHistory.map((entry) => entry.state)).toContain("established");
    await placed.established;
    expect(stack.botState(placed.callId)).toBe("established");
    expect(
      (await botMetric("signaling_held_notifications_total", { outcome: "replayed" })) - replayedBefore,
    ).toBeGreaterThanOrEqual(2);
    await placed.hangUp();
    await expectGone(placed);
  });

  it("a media host outage within the grace: the placed call's session is resumed under the host's id", async () => {
    const placed = await stack.bot.joinMeeting(joinUrl());
    await placed.established;
    const resumedBefore = stack.media.stats().sessionsResumed;
    stack.media.injectFault({ kind: "disconnect", refuseReconnectMs: 800 });
    await expect.poll(() => stack.provider.unavailableReason(), { timeout: 3000 }).toBe("disconnected");
    await expect.poll(() => stack.provider.unavailableReason(), { timeout: 5000, interval: 50 }).toBeNull();
    await expect.poll(() => stack.media.stats().sessionsResumed, { timeout: 5000 }).toBe(resumedBefore + 1);
    expect(stack.graph.call(placed.callId)?.state).toBe("established");
    expect(stack.botState(placed.callId)).toBe("established");
    await stack.audioFlows(placed.mediaSessionId);
    expect(stack.requestsFor(placed.callId, "delete")).toEqual([]);
    await placed.hangUp();
    await expectGone(placed);
  });

  describe("the lobby", () => {
    afterAll(() => {
      // Back to the stack's own rule: established once the media connects.
      stack.graph.setEstablishWhen((call) =>
        call.mediaSession ? stack.media.connectMedia(call.mediaSession, 10_000) : Promise.resolve(false),
      );
    });

    it("waits in the lobby, is admitted, then established: lobby, admitted, established", async () => {
      stack.graph.setEstablishWhen(async (call) => {
        stack.graph.updateRoster(call.id, [botParticipant(call, true)] as never);
        await new Promise((resolve) => setTimeout(resolve, 1500));
        stack.graph.updateRoster(call.id, [botParticipant(call, false)] as never);
        return call.mediaSession ? stack.media.connectMedia(call.mediaSession, 10_000) : false;
      });
      const placed = await stack.bot.joinMeeting(joinUrl(), { lobbyTimeoutMs: 60_000 });
      const events = eventsOf(placed);
      await waitFor(() => events.some((event) => event.type === "lobby"), 5000);
      expect(stack.botState(placed.callId)).toBe("establishing");
      await placed.established;
      expect(events.map((event) => event.type)).toEqual(["lobby", "admitted", "established"]);
      await waitFor(
        () => probeLines(placed.callId).filter((l) => l.event === "callEvent").length === 3,
        5000,
      );
      expect(probeLines(placed.callId).flatMap((l) => (l.event === "callEvent" ? [l.type] : []))).toEqual([
        "lobby",
        "admitted",
        "established",
      ]);
      await placed.hangUp();
      await expectGone(placed);
    });

    it("the join timeout: hung up when never established, but time in the lobby does not count", async () => {
      // BOT_JOIN_TIMEOUT_MS of 1.5 s for this test (the bot reads its config object live).
      const joinTimeoutMs = stack.config.joinTimeoutMs;
      stack.config.joinTimeoutMs = 1500;
      try {
        // Never established, never in the lobby: hung up at the join timeout.
        stack.graph.setEstablishWhen(async (call) => {
          await stack.graph.waitForCallState(call.id, "terminated", 20_000).catch(() => undefined);
          return false;
        });
        const stuck = await stack.bot.joinMeeting(joinUrl());
        expect(await stuck.ended).toMatchObject({ reason: "failed" });
        expect((await stack.endedThroughGraph(stuck.callId, 5000)).by).toBe("hangUp");
        expect(
          await botMetric("signaling_outgoing_calls_total", { kind: "join_url", outcome: "join_timeout" }),
        ).toBe(1);
        await expectGone(stuck);

        // 2.5 s in the lobby, then admitted and established: longer than the join timeout in all,
        // but the lobby does not count.
        stack.graph.setEstablishWhen(async (call) => {
          stack.graph.updateRoster(call.id, [botParticipant(call, true)] as never);
          await new Promise((resolve) => setTimeout(resolve, 2500));
          stack.graph.updateRoster(call.id, [botParticipant(call, false)] as never);
          return call.mediaSession ? stack.media.connectMedia(call.mediaSession, 10_000) : false;
        });
        const admitted = await stack.bot.joinMeeting(joinUrl());
        await admitted.established;
        expect(stack.requestsFor(admitted.callId, "delete")).toEqual([]);
        await admitted.hangUp();
        await expectGone(admitted);
      } finally {
        stack.config.joinTimeoutMs = joinTimeoutMs;
      }
    });

    it("never admitted: hung up through Graph at the lobby time limit, session closed", async () => {
      stack.graph.setEstablishWhen(async (call) => {
        stack.graph.updateRoster(call.id, [botParticipant(call, true)] as never);
        await stack.graph.waitForCallState(call.id, "terminated", 20_000).catch(() => undefined);
        return false;
      });
      const placed = await stack.bot.joinMeeting(joinUrl(), { lobbyTimeoutMs: 1500 });
      const events = eventsOf(placed);
      const notEstablished = await placed.established.catch((error: unknown) => error);
      expect(notEstablished).toBeInstanceOf(CallNotEstablishedError);
      expect(notEstablished).toMatchObject({ reason: "lobbyTimeout" });
      expect((await placed.ended).reason).toBe("lobbyTimeout");
      expect(events.map((event) => event.type)).toEqual(["lobby", "ended"]);
      const ended = await stack.endedThroughGraph(placed.callId, 5000);
      expect(ended.by).toBe("hangUp");
      expect(
        await botMetric("signaling_outgoing_calls_total", { kind: "join_url", outcome: "lobby_timeout" }),
      ).toBe(1);
      await expectGone(placed);
      await waitFor(() => probeLines(placed.callId).some((line) => line.event === "end"), 5000);
      expect(probeLines(placed.callId).find((line) => line.event === "end")?.reason).toBe("lobbyTimeout");
    });
  });

  it("the media is lost (host away past the grace): hung up through Graph, ended `failed`", async () => {
    const placed = await stack.bot.callUser({ userId: randomUUID(), tenantId: TENANT });
    await placed.established;
    stack.media.injectFault({ kind: "disconnect", refuseReconnectMs: 6000 });
    expect(await placed.ended).toMatchObject({ reason: "failed" });
    expect((await stack.endedThroughGraph(placed.callId, 5000)).by).toBe("hangUp");
    await expect
      .poll(() => stack.provider.unavailableReason(), { timeout: 12_000, interval: 100 })
      .toBeNull();
    await expectGone(placed);
  });

  // Last: it stops the bot.
  it("the bot stops while a createCall is in flight: the call Graph created is hung up, nothing left", async () => {
    stack.graph.injectFault({ match: { action: "create" }, delayMs: 1500 });
    const placing = stack.bot.callUser({ userId: randomUUID(), tenantId: TENANT });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await stack.bot.stop(10_000);
    const placed = await placing;
    expect(await placed.ended).toMatchObject({ reason: "hungUp" });
    expect(stack.graph.call(placed.callId)?.state).toBe("terminated");
    expect(stack.requestsFor(placed.callId, "delete").map((r) => r.status)).toEqual([204]);
    expect(stack.media.sessions()).toEqual([]);
  });
});
