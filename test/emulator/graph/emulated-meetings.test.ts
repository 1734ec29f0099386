/**
 * Emulated meetings and callees on the Graph emulator, through real HTTP: control requests
 * under /emulator, createCall with a token from msal-node, notifications to a loopback bot.
 * Covers the lobby (admitted after a delay, by control, timed out 200/5855), removal 200/5300,
 * the meeting ending 200/5001, rosters in Graph's shape with increasing rosterSequenceNumber,
 * join by meeting id and passcode, and P2P callees accepting, declining, busy, not answering.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GraphEmulator } from "../../../src/emulator/graph/graph-emulator.js";
import { parseMeetingJoinUrl } from "../../../src/graph/meeting-join-url.js";
import {
  callUserRequest,
  joinMeetingByIdRequest,
  joinMeetingByUrlRequest,
} from "../../../src/graph/outgoing-call-requests.js";
import type { CreateCallRequest, Participant, ResultInfo } from "../../../src/graph/types.js";
import type { BotReceiver } from "./bot-receiver.js";
import {
  APP_ID,
  acquireToken,
  control,
  graph,
  mediaBlob,
  startEmulatorWithBot,
  TENANT,
} from "./graph-test-kit.js";

let emulator: GraphEmulator;
let bot: BotReceiver;
let token: string;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ emulator, bot, close } = await startEmulatorWithBot());
  token = await acquireToken(emulator);
});
afterAll(() => close());

interface MeetingAddress {
  id: string;
  joinUrl: string;
  threadId: string;
  joinMeetingId: string;
  passcode: string;
  organizerId: string;
  tenantId: string;
}

async function createMeeting(body: Record<string, unknown>): Promise<MeetingAddress> {
  const reply = await control(emulator, "POST", "/meetings", body);
  expect(reply.status, reply.body.toString()).toBe(201);
  return reply.json();
}

const options = () => ({ callbackUri: "https://bot.contoso.com/api/calls", mediaBlob: mediaBlob() });

async function createCall(body: CreateCallRequest) {
  return graph(emulator, "POST", "/communications/calls", token, { ...body, callbackUri: bot.url });
}

async function join(meeting: MeetingAddress): Promise<{ id: string; myParticipantId: string }> {
  const created = await createCall(joinMeetingByUrlRequest(meeting.joinUrl, options()));
  expect(created.status, created.body.toString()).toBe(201);
  const call = created.json();
  expect(call.state).toBe("establishing");
  return call;
}

type Event =
  | { kind: "state"; state: string }
  | { kind: "roster"; roster: Participant[] }
  | { kind: "deleted"; resultInfo?: ResultInfo };

/** What the bot received for a call, in arrival order. */
function events(callId: string): Event[] {
  return bot.notificationsFor(callId).map((n): Event => {
    if (n.resourceUrl.endsWith("/participants"))
      return { kind: "roster", roster: n.resourceData as Participant[] };
    const data = n.resourceData as { state?: string; resultInfo?: ResultInfo };
    if (n.changeType === "deleted")
      return { kind: "deleted", ...(data.resultInfo ? { resultInfo: data.resultInfo } : {}) };
    return { kind: "state", state: String(data.state) };
  });
}

function rosters(callId: string): Participant[][] {
  return events(callId).flatMap((e) => (e.kind === "roster" ? [e.roster] : []));
}

function own(roster: Participant[], myParticipantId: string): Participant | undefined {
  return roster.find((p) => p.id === myParticipantId);
}

async function endedWith(callId: string): Promise<ResultInfo | undefined> {
  await bot.waitUntil(() => events(callId).some((e) => e.kind === "deleted"));
  const deleted = events(callId).find((e) => e.kind === "deleted");
  return deleted?.kind === "deleted" ? deleted.resultInfo : undefined;
}

const people = [
  { displayName: "Ada", audio: { toneHz: 300 } },
  { displayName: "Grace Guest", kind: "guest", audio: { toneHz: 500 } },
  { displayName: "Phone", kind: "phone", muted: true },
];

describe("emulated meetings: control API", () => {
  it("creates a meeting whose joinUrl parses to its thread, tenant and organizer", async () => {
    const organizer = randomUUID();
    const meeting = await createMeeting({
      organizer: { userId: organizer, displayName: "Org" },
      participants: people,
    });
    expect(parseMeetingJoinUrl(meeting.joinUrl)).toEqual({
      threadId: meeting.threadId,
      messageId: "0",
      tenantId: TENANT,
      organizerId: organizer,
    });
    expect(meeting).toMatchObject({ organizerId: organizer, tenantId: TENANT });
    expect(meeting.joinMeetingId).toMatch(/^\d{12}$/);
    expect(meeting.passcode).toMatch(/^\S+$/);
    const shown = (await control(emulator, "GET", `/meetings/${meeting.id}`)).json();
    expect(shown.participants.map((p: { displayName: string }) => p.displayName)).toEqual([
      "Ada",
      "Grace Guest",
      "Phone",
    ]);
    const sourceIds = shown.participants.map((p: { sourceId: string }) => p.sourceId);
    expect(new Set(sourceIds).size).toBe(3);
  });

  it.each([
    [{ participants: [{}] }, "participants[0].missing displayName"],
    [
      { participants: [{ displayName: "x", kind: "robot" }] },
      'participants[0].kind must be "user", "guest" or "phone", got "robot"',
    ],
    [
      { participants: [{ displayName: "x", audio: { toneHz: 9000 } }] },
      "participants[0].audio.toneHz must be a number in (0, 8000), got 9000",
    ],
    [
      { participants: [{ displayName: "x", joinAfterMs: -1 }] },
      "participants[0].joinAfterMs must be a number of ms in [0, 2147483647], got -1",
    ],
    [{ lobby: { admit: "sometimes" } }, 'lobby must be {admitAfterMs: number} or {admit: "never"}'],
    [{ lobbyTimeoutMs: "5" }, 'lobbyTimeoutMs must be a number of ms in [0, 2147483647], got "5"'],
    [{ tenantId: "contoso" }, 'tenantId must be a GUID, got "contoso"'],
    [{ joinMeetingId: "12ab" }, 'joinMeetingId must be 6 to 20 digits, got "12ab"'],
    [{ participants: "Ada" }, "participants must be an array of at most 100"],
    [
      { lobbyTimeout: 5 },
      "lobbyTimeout is not a known field (known: organizer, tenantId, participants, lobby, lobbyTimeoutMs, endAfterMs, joinMeetingId, passcode)",
    ],
    [
      { participants: [{ displayName: "x", mute: true }] },
      "participants[0].mute is not a known field (known: displayName, userId, kind, audio, muted, joinAfterMs, leaveAfterMs)",
    ],
  ])("refuses %o with a 400 naming the field", async (body, message) => {
    const reply = await control(emulator, "POST", "/meetings", body);
    expect(reply.status).toBe(400);
    expect(reply.json().error.message).toBe(message);
  });

  it("answers 404 for an unknown meeting or participant", async () => {
    expect((await control(emulator, "GET", `/meetings/${randomUUID()}`)).status).toBe(404);
    const meeting = await createMeeting({});
    expect((await control(emulator, "POST", `/meetings/${meeting.id}/participants/nobody/mute`)).status).toBe(
      404,
    );
  });
});

describe("joining an emulated meeting", () => {
  it("posts the full roster in Graph's shape on join, mute, leave; rosterSequenceNumber increases", async () => {
    const meeting = await createMeeting({ participants: people });
    const call = await join(meeting);
    await emulator.waitForCallState(call.id, "established");
    await bot.waitUntil(
      () =>
        rosters(call.id).length >= 2 &&
        events(call.id).some((e) => e.kind === "state" && e.state === "established"),
    );
    const shown = (await control(emulator, "GET", `/meetings/${meeting.id}`)).json();
    const [ada, grace, phone] = shown.participants as { id: string; sourceId: string }[];
    const first = rosters(call.id).at(-1) ?? [];
    expect(emulator.validator.validateValue(first, "microsoft.graph.participant", true, "roster")).toEqual(
      [],
    );
    expect(first.map((p) => p.id)).toEqual([ada?.id, grace?.id, phone?.id, call.myParticipantId]);
    expect(own(first, call.myParticipantId)).toMatchObject({
      info: { identity: { application: { id: APP_ID } } },
      isInLobby: false,
    });
    expect(first[0]).toMatchObject({
      info: { identity: { user: { displayName: "Ada", tenantId: TENANT } } },
      mediaStreams: [
        {
          mediaType: "audio",
          label: "main-audio",
          sourceId: ada?.sourceId,
          direction: "sendReceive",
          serverMuted: false,
        },
      ],
      isMuted: false,
      isInLobby: false,
    });
    expect(first[1]?.info?.identity?.guest).toMatchObject({ displayName: "Grace Guest" });
    expect(first[2]).toMatchObject({
      info: { identity: { phone: { displayName: "Phone" } } },
      isMuted: true,
    });

    const before = rosters(call.id).length;
    const joined = await control(emulator, "POST", `/meetings/${meeting.id}/participants`, {
      displayName: "Linus",
    });
    expect(joined.status).toBe(201);
    const linus = joined.json() as { id: string; sourceId: string };
    expect(
      (await control(emulator, "POST", `/meetings/${meeting.id}/participants/${ada?.id}/mute`)).status,
    ).toBe(200);
    expect(
      (await control(emulator, "POST", `/meetings/${meeting.id}/participants/${grace?.id}/leave`)).status,
    ).toBe(200);
    await bot.waitUntil(() => rosters(call.id).length >= before + 3);
    const [afterJoin, afterMute, afterLeave] = rosters(call.id).slice(before);
    expect(afterJoin?.find((p) => p.id === linus.id)?.mediaStreams?.[0]?.sourceId).toBe(linus.sourceId);
    expect(afterMute?.find((p) => p.id === ada?.id)?.isMuted).toBe(true);
    expect(afterLeave?.map((p) => p.id)).toEqual([ada?.id, phone?.id, linus.id, call.myParticipantId]);

    const sequence = rosters(call.id).map((r) => r[0]?.rosterSequenceNumber as number);
    expect(sequence.every((n, i) => i === 0 || n > (sequence[i - 1] as number))).toBe(true);
    expect(
      new Set(
        rosters(call.id)
          .at(-1)
          ?.map((p) => p.rosterSequenceNumber),
      ).size,
    ).toBe(1);
  });

  it("participants join and leave on their timers (joinAfterMs, leaveAfterMs from the join); unmute is posted", async () => {
    const meeting = await createMeeting({
      participants: [
        { displayName: "Early", muted: true },
        { displayName: "Late", joinAfterMs: 300, leaveAfterMs: 300 },
      ],
    });
    const call = await join(meeting);
    await emulator.waitForCallState(call.id, "established");
    const shown = (await control(emulator, "GET", `/meetings/${meeting.id}`)).json();
    const [early, late] = shown.participants as { id: string; state: string }[];
    expect(late?.state).toBe("waiting");
    const names = () =>
      rosters(call.id).map((r) => r.filter((p) => p.id !== call.myParticipantId).map((p) => p.id));
    await bot.waitUntil(() => names().some((ids) => ids.includes(late?.id ?? "")), 5000);
    await bot.waitUntil(() => names().at(-1)?.join() === early?.id, 5000);
    const sequence = names().map((ids) => ids.join());
    const joinedAt = sequence.indexOf(`${early?.id},${late?.id}`);
    expect(joinedAt).toBeGreaterThanOrEqual(0);
    expect(sequence.slice(joinedAt + 1)).toContain(early?.id);
    expect(
      (await control(emulator, "POST", `/meetings/${meeting.id}/participants/${early?.id}/unmute`)).status,
    ).toBe(200);
    await bot.waitUntil(
      () =>
        rosters(call.id)
          .at(-1)
          ?.find((p) => p.id === early?.id)?.isMuted === false,
    );
    // Someone who left cannot be muted.
    const refused = await control(emulator, "POST", `/meetings/${meeting.id}/participants/${late?.id}/mute`);
    expect(refused.status).toBe(400);
    expect(refused.json().error.message).toBe(`participant ${late?.id} is not in the meeting (left)`);
  });

  it("holds the bot in the lobby (establishing, isInLobby true) until admitted after a delay, then established", async () => {
    const meeting = await createMeeting({ participants: people, lobby: { admitAfterMs: 400 } });
    const call = await join(meeting);
    await bot.waitUntil(() => rosters(call.id).some((r) => own(r, call.myParticipantId)?.isInLobby === true));
    expect(emulator.call(call.id)?.state).toBe("establishing");
    const waiting = (await control(emulator, "GET", `/meetings/${meeting.id}`)).json();
    expect(waiting.botCalls).toMatchObject([{ callId: call.id, inLobby: true, state: "establishing" }]);
    await emulator.waitForCallState(call.id, "established");
    await bot.waitUntil(() => events(call.id).some((e) => e.kind === "state" && e.state === "established"));
    const kinds = events(call.id).map((e) =>
      e.kind === "roster"
        ? `lobby:${own(e.roster, call.myParticipantId)?.isInLobby}`
        : e.kind === "state"
          ? e.state
          : "deleted",
    );
    const inLobby = kinds.indexOf("lobby:true");
    const admitted = kinds.indexOf("lobby:false");
    expect(kinds[0]).toBe("establishing");
    expect(inLobby).toBeGreaterThan(0);
    expect(admitted).toBeGreaterThan(inLobby);
    expect(kinds.indexOf("established")).toBeGreaterThan(admitted);
    const history = emulator.call(call.id)?.stateHistory ?? [];
    const established = history.find((h) => h.state === "established")?.at ?? 0;
    expect(established - (history[0]?.at ?? 0)).toBeGreaterThanOrEqual(400);
  });

  it("admits the bot waiting in the lobby when the control API says so", async () => {
    const meeting = await createMeeting({ lobby: { admit: "never" } });
    const call = await join(meeting);
    await bot.waitUntil(() => rosters(call.id).some((r) => own(r, call.myParticipantId)?.isInLobby === true));
    const admitted = await control(emulator, "POST", `/meetings/${meeting.id}/admit`);
    expect(admitted.json()).toEqual({ admitted: 1 });
    await emulator.waitForCallState(call.id, "established");
  });

  it("a lobby's inactivity timer ends with the wait: admitted or hung up, no timer is left", async () => {
    const timers = () => process.getActiveResourcesInfo().filter((type) => type === "Timeout").length;
    const before = timers();
    // Admitted (by control), then hung up; and hung up while still waiting.
    const admittedMeeting = await createMeeting({ lobby: { admit: "never" }, lobbyTimeoutMs: 600_000 });
    const admitted = await join(admittedMeeting);
    await bot.waitUntil(() => rosters(admitted.id).some((r) => own(r, admitted.myParticipantId)?.isInLobby));
    await control(emulator, "POST", `/meetings/${admittedMeeting.id}/admit`);
    await emulator.waitForCallState(admitted.id, "established");
    const waitingMeeting = await createMeeting({ lobby: { admit: "never" }, lobbyTimeoutMs: 600_000 });
    const waiting = await join(waitingMeeting);
    await bot.waitUntil(() => rosters(waiting.id).some((r) => own(r, waiting.myParticipantId)?.isInLobby));
    for (const call of [admitted, waiting]) {
      expect((await graph(emulator, "DELETE", `/communications/calls/${call.id}`, token)).status).toBe(204);
      await emulator.waitForCallState(call.id, "terminated");
    }
    // The calls' own timers (keepAlive, terminating) go with them; a lobby timer of 10 minutes
    // would stay.
    const until = Date.now() + 5000;
    while (timers() > before && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(timers()).toBeLessThanOrEqual(before);
  });

  it("ends a bot never admitted 200/5855 after the lobby timeout, never established", async () => {
    const meeting = await createMeeting({ lobby: { admit: "never" }, lobbyTimeoutMs: 300 });
    const call = await join(meeting);
    expect(await endedWith(call.id)).toMatchObject({ code: 200, subcode: 5855 });
    expect(events(call.id).some((e) => e.kind === "state" && e.state === "established")).toBe(false);
    expect((await control(emulator, "GET", `/meetings/${meeting.id}`)).json().botCalls).toEqual([]);
  });

  it("remove-bot ends the bot's call 200/5300", async () => {
    const meeting = await createMeeting({ participants: people });
    const call = await join(meeting);
    await emulator.waitForCallState(call.id, "established");
    expect((await control(emulator, "POST", `/meetings/${meeting.id}/remove-bot`)).json()).toEqual({
      removed: 1,
    });
    expect(await endedWith(call.id)).toMatchObject({ code: 200, subcode: 5300 });
  });

  it("the organizer ending the meeting ends every bot call 200/5001, a bot in the lobby too; later joins are refused", async () => {
    const meeting = await createMeeting({ participants: people, lobby: { admit: "never" } });
    const waiting = await join(meeting);
    await control(emulator, "POST", `/meetings/${meeting.id}/admit`);
    await emulator.waitForCallState(waiting.id, "established");
    const second = await join(meeting);
    await bot.waitUntil(() =>
      rosters(second.id).some((r) => own(r, second.myParticipantId)?.isInLobby === true),
    );
    // The first bot sees the second one waiting in the lobby.
    await bot.waitUntil(() =>
      rosters(waiting.id).some((r) => own(r, second.myParticipantId)?.isInLobby === true),
    );
    expect((await control(emulator, "POST", `/meetings/${meeting.id}/end`)).status).toBe(200);
    expect(await endedWith(waiting.id)).toMatchObject({ code: 200, subcode: 5001 });
    expect(await endedWith(second.id)).toMatchObject({ code: 200, subcode: 5001 });
    const before = emulator.calls().length;
    const refused = await createCall(joinMeetingByUrlRequest(meeting.joinUrl, options()));
    expect(refused.status).toBe(404);
    expect(emulator.calls().length).toBe(before);
  });

  it("endAfterMs ends the meeting by itself", async () => {
    const meeting = await createMeeting({ endAfterMs: 500 });
    const call = await join(meeting);
    expect(await endedWith(call.id)).toMatchObject({ code: 200, subcode: 5001 });
  });

  it("joins by joinMeetingId and passcode; a wrong passcode is 403, an unknown id 404, nothing created", async () => {
    const meeting = await createMeeting({ participants: people });
    const byId = (passcode: string, id = meeting.joinMeetingId) =>
      createCall(joinMeetingByIdRequest({ joinMeetingId: id, passcode, tenantId: TENANT }, options()));
    const before = emulator.calls().length;
    const wrong = await byId("not-it");
    expect(wrong.status).toBe(403);
    expect(wrong.json().error).toMatchObject({
      code: "Forbidden",
      innerError: { "request-id": expect.any(String) },
    });
    const unknown = await byId(meeting.passcode, "999999999999");
    expect(unknown.status).toBe(404);
    expect(unknown.json().error.code).toBe("NotFound");
    expect(emulator.calls().length).toBe(before);
    const created = await byId(meeting.passcode);
    expect(created.status).toBe(201);
    expect(created.json().chatInfo).toEqual({ threadId: meeting.threadId, messageId: "0" });
    await emulator.waitForCallState(created.json().id, "established");
  });
});

describe("emulated callees (peer-to-peer)", () => {
  async function callUser(answer: Record<string, unknown>) {
    const userId = randomUUID();
    const registered = await control(emulator, "POST", "/users", {
      userId,
      displayName: "Callee",
      ...answer,
    });
    expect(registered.status, registered.body.toString()).toBe(201);
    const created = await createCall(callUserRequest({ userId, tenantId: TENANT }, options()));
    expect(created.status).toBe(201);
    return { call: created.json() as { id: string; myParticipantId: string }, userId };
  }

  it("accept: established after afterMs, roster of the bot and the callee with a sourceId", async () => {
    const { call, userId } = await callUser({ answer: "accept", afterMs: 300 });
    await emulator.waitForCallState(call.id, "established");
    const history = emulator.call(call.id)?.stateHistory ?? [];
    expect((history.at(-1)?.at ?? 0) - (history[0]?.at ?? 0)).toBeGreaterThanOrEqual(300);
    await bot.waitUntil(() => rosters(call.id).length > 0);
    const roster = rosters(call.id).at(-1) ?? [];
    expect(roster.map((p) => p.id)).toContain(call.myParticipantId);
    const callee = roster.find((p) => p.info?.identity?.user?.id === userId);
    expect(callee?.mediaStreams?.[0]?.sourceId).toMatch(/^\d+$/);
  });

  it.each([
    ["decline", { code: 603, subcode: 0 }, {}],
    ["busy", { code: 486, subcode: 0 }, {}],
    ["noAnswer", { code: 408, subcode: 10057 }, { ringTimeoutMs: 300 }],
  ])("%s ends the call with %o", async (answer, result, extra) => {
    const { call } = await callUser({ answer, ...extra });
    expect(await endedWith(call.id)).toMatchObject(result);
    expect(emulator.call(call.id)?.stateHistory.some((h) => h.state === "established")).toBe(false);
  });

  it("an unregistered user accepts at once (as before)", async () => {
    const created = await createCall(callUserRequest({ userId: randomUUID(), tenantId: TENANT }, options()));
    await emulator.waitForCallState(created.json().id, "established");
  });

  it.each([
    [{ answer: "accept" }, "missing userId"],
    [{ userId: "bob", answer: "accept" }, 'userId must be a GUID (an Entra user id), got "bob"'],
    [
      { userId: randomUUID(), answer: "maybe" },
      'answer must be one of accept, decline, noAnswer, busy, got "maybe"',
    ],
    [
      { userId: randomUUID(), answer: "accept", afterMs: "1" },
      'afterMs must be a number of ms in [0, 2147483647], got "1"',
    ],
    [
      { userId: randomUUID(), answer: "accept", audio: { wavPath: "" } },
      "audio.wavPath must be a non-empty string",
    ],
  ])("POST /emulator/users refuses %o with a 400", async (body, message) => {
    const reply = await control(emulator, "POST", "/users", body);
    expect(reply.status).toBe(400);
    expect(reply.json().error.message).toBe(message);
  });
});
