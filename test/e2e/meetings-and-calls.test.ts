/**
 * Issue 16's end-to-end tests, through both emulators with the real bot (BotApp on https,
 * msal-node, the media worker on the bridge): a meeting with three speakers recorded one file per
 * speaker, each byte-equal to what that speaker sent; a lobby join admitted after 5 s and one that
 * times out; a P2P call to a callee who accepts late (audio both ways), one who declines; the
 * organizer ending the meeting and the bot removed from it. Emulated meetings and callees are
 * driven over the Graph emulator's HTTP control API (/emulator), as a user of it would.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newEmulatedApp } from "../../src/demo/emulator-bot-env.js";
import { speakersInProcess } from "../../src/emulator/graph/participant-audio.js";
import type { CallEvent } from "../../src/media/bot-api.js";
import { readPcm16kWav } from "../../src/media/wav-file.js";
import { CallNotEstablishedError } from "../../src/signaling/place-call-errors.js";
import type { PlacedCall } from "../../src/signaling/placed-call.js";
import { control } from "../emulator/graph/graph-test-kit.js";
import { closeSharedGraph, FaultStack } from "../faults/fault-stack.js";
import { probeLines as probeLinesOf } from "../fixtures/probe-events.js";
import { sleep, waitFor } from "../media/wait-for.js";
import { alignAndCompare, writeSpeechLikeWav } from "./speaker-audio.js";

const APP = newEmulatedApp();
const TENANT = APP.tenantId;
const PROBE = path.join(import.meta.dirname, "..", "fixtures", "meeting-probe.ts");
const EVENTS = path.join(tmpdir(), `meeting-probe-${process.pid}-${randomUUID()}.jsonl`);
process.env.MEETING_PROBE_EVENTS = EVENTS;
const AUDIO_DIR = mkdtempSync(path.join(tmpdir(), "e2e-speakers-"));

interface ProbeLine {
  callId: string;
  event: string;
  type?: string;
  reason?: string;
  participants?: {
    displayName?: string;
    userId?: string;
    kind: string;
    role: string;
    audioSourceIds: number[];
  }[];
}

function probeLines(callId: string): ProbeLine[] {
  return probeLinesOf<ProbeLine>(EVENTS, callId);
}

/** Each event of a placed call with the performance.now() it reached the app at. */
function timedEvents(placed: PlacedCall): { event: CallEvent; at: number }[] {
  const events: { event: CallEvent; at: number }[] = [];
  placed.onEvent((event) => events.push({ event, at: performance.now() }));
  return events;
}

let stack: FaultStack;

/** A control request to the Graph emulator that must succeed; its JSON answer. */
async function emulator<T = Record<string, unknown>>(
  method: "GET" | "POST",
  route: string,
  body?: unknown,
): Promise<T> {
  const reply = await control(stack.graph, method, route, body);
  if (reply.status >= 300) throw new Error(`${method} /emulator${route}: ${reply.status} ${reply.body}`);
  return reply.json() as T;
}

interface MeetingAddress {
  id: string;
  joinUrl: string;
}

/** The placed call ended and nothing of it is left: at Graph, in the bot, on the media host. */
async function expectGone(placed: PlacedCall): Promise<void> {
  await placed.ended;
  await stack.graph.waitForCallState(placed.callId, "terminated", 10_000);
  const listed = await emulator<{ value: { id: string; state: string }[] }>("GET", "/calls");
  expect(listed.value.find((call) => call.id === placed.callId)?.state).toBe("terminated");
  await stack.expectNothingLeft();
  expect(stack.media.sessions().filter((s) => s.mediaSessionId === placed.mediaSessionId)).toEqual([]);
}

interface RecordingIndex {
  callId: string;
  frames: number;
  mixed: string;
  speakers: { sourceId: number; file: string; participant: { displayName?: string } | null }[];
}

/**
 * The recording of a call once finalized: its folder `<recordingsDir>/<callId>-<time>` and its
 * recording.json, which the recorder writes last, after every WAV header (the worker may have
 * dropped the session and counted the recording inactive before that I/O is done).
 */
async function finishedRecording(callId: string): Promise<{ folder: string; index: RecordingIndex }> {
  const folders = readdirSync(stack.recordingsDir).filter((name) => name.startsWith(callId));
  expect(folders).toHaveLength(1);
  const folder = path.join(stack.recordingsDir, folders[0] as string);
  const index = await waitFor(async () => {
    try {
      return JSON.parse(await readFile(path.join(folder, "recording.json"), "utf8")) as RecordingIndex;
    } catch {
      return undefined;
    }
  }, 15_000);
  return { folder, index };
}

beforeAll(async () => {
  stack = await FaultStack.start({
    graceMs: 2000,
    // The recorder keeps each speaker's file; the probe echoes and writes rosters and events.
    handlers: `recorder:unmixed,module:${PROBE}`,
    app: APP,
    env: { BOT_ALLOWED_TENANTS: TENANT },
  });
  // Meeting participants' and callees' audio goes to the media host the bot uses.
  stack.graph.setSpeakerSink(speakersInProcess(stack.media));
}, 60_000);

afterAll(async () => {
  stack?.graph.setSpeakerSink(undefined);
  const left = await stack?.stop();
  await closeSharedGraph();
  rmSync(EVENTS, { force: true });
  rmSync(AUDIO_DIR, { recursive: true, force: true });
  delete process.env.MEETING_PROBE_EVENTS;
  if (left && left.length > 0) throw new Error(`handles left open: ${left.join(", ")}`);
});

describe("a meeting with three speakers, recorded per speaker", () => {
  it("one file per speaker, byte-equal to what that speaker sent, named through the roster; roles seen", async () => {
    const organizerId = randomUUID();
    const speakers = [
      { displayName: "Olivia Organizer", userId: organizerId, seed: 11 },
      { displayName: "Ben Attendee", userId: randomUUID(), seed: 22 },
      { displayName: "Chloe Guest", kind: "guest", seed: 33 },
    ].map((s) => ({ ...s, wavPath: writeSpeechLikeWav(AUDIO_DIR, s.seed, 8) }));
    const meeting = await emulator<MeetingAddress>("POST", "/meetings", {
      tenantId: TENANT,
      organizer: { userId: organizerId, displayName: "Olivia Organizer" },
      participants: [
        ...speakers.map(({ seed: _seed, wavPath, ...who }) => ({ ...who, audio: { wavPath } })),
        { displayName: "Quiet Listener", userId: randomUUID() },
      ],
    });
    const placed = await stack.bot.joinMeeting(meeting.joinUrl, { unmixedAudio: true });
    await placed.established;
    // The recorder starts once Graph accepted the recording status; then N seconds of audio.
    await waitFor(
      () => readdirSync(stack.recordingsDir).some((name) => name.startsWith(placed.callId)),
      10_000,
    );
    await sleep(3000);
    await placed.hangUp();
    expect(await placed.ended).toMatchObject({ reason: "hungUp" });
    expect(stack.graph.call(placed.callId)?.resultInfo).toMatchObject({ code: 200, subcode: 7000 });
    await expectGone(placed);

    const shown = await emulator<{ participants: { displayName: string; sourceId: string }[] }>(
      "GET",
      `/meetings/${meeting.id}`,
    );
    const sourceIdOf = new Map(shown.participants.map((p) => [p.displayName, Number(p.sourceId)]));
    const { folder, index } = await finishedRecording(placed.callId);
    // One file per speaker, keyed by sourceId, named after the participant the roster gave.
    expect(index.speakers.map((s) => s.participant?.displayName).sort()).toEqual(
      speakers.map((s) => s.displayName).sort(),
    );
    const mixed = await readPcm16kWav(path.join(folder, index.mixed));
    expect(mixed.length).toBeGreaterThan(0);
    for (const entry of index.speakers) {
      const speaker = speakers.find((s) => s.displayName === entry.participant?.displayName);
      expect(speaker, `speaker ${entry.sourceId}`).toBeDefined();
      expect(entry.sourceId).toBe(sourceIdOf.get(speaker?.displayName as string));
      expect(entry.file).toBe(`speaker-${entry.sourceId}.wav`);
      const recorded = await readPcm16kWav(path.join(folder, entry.file));
      // Every file runs on the call's timeline: as long as the mixed one.
      expect(recorded.length).toBe(mixed.length);
      const sent = await readPcm16kWav(speaker?.wavPath as string);
      const aligned = alignAndCompare(recorded, sent);
      // At least 2 s of the 3 s recorded are that speaker's audio, all of it equal.
      expect(aligned.frames, entry.participant?.displayName).toBeGreaterThanOrEqual(100);
    }

    // The handler's rosters: kinds and roles as Graph's participants give them.
    const rosters = probeLines(placed.callId).filter((line) => line.event === "roster");
    expect(rosters.length).toBeGreaterThan(0);
    const roster = rosters.at(-1)?.participants ?? [];
    const byName = (name: string) => roster.find((p) => p.displayName === name);
    expect(byName("Olivia Organizer")).toMatchObject({
      kind: "user",
      role: "organizer",
      userId: organizerId,
    });
    expect(byName("Ben Attendee")).toMatchObject({ kind: "user", role: "attendee" });
    expect(byName("Chloe Guest")).toMatchObject({ kind: "guest", role: "attendee" });
    expect(byName("Quiet Listener")).toMatchObject({ kind: "user", role: "attendee" });
    const self = roster.filter((p) => p.role === "self");
    expect(self).toHaveLength(1);
    expect(self[0]?.kind).toBe("application");
    for (const s of speakers)
      expect(byName(s.displayName)?.audioSourceIds).toEqual([sourceIdOf.get(s.displayName)]);
  }, 90_000);
});

describe("the lobby", () => {
  it("admitted after 5 s: lobby, admitted, established; the admission took at least 5 s", async () => {
    const meeting = await emulator<MeetingAddress>("POST", "/meetings", {
      tenantId: TENANT,
      lobby: { admitAfterMs: 5000 },
      participants: [{ displayName: "Host", audio: { toneHz: 300 } }],
    });
    const joinedAt = performance.now();
    const placed = await stack.bot.joinMeeting(meeting.joinUrl, { lobbyTimeoutMs: 60_000 });
    const events = timedEvents(placed);
    await waitFor(() => events.some((e) => e.event.type === "lobby"), 10_000);
    expect(stack.botState(placed.callId)).toBe("establishing");
    expect(stack.graph.call(placed.callId)?.state).toBe("establishing");
    await placed.established;
    expect(events.map((e) => e.event.type)).toEqual(["lobby", "admitted", "established"]);
    const admittedAt = events.find((e) => e.event.type === "admitted")?.at as number;
    expect(admittedAt - joinedAt).toBeGreaterThanOrEqual(5000);
    // Graph's side: the call stayed establishing for the 5 s before it was established.
    const history = stack.graph.call(placed.callId)?.stateHistory ?? [];
    const establishingAt = history.find((h) => h.state === "establishing")?.at as number;
    const establishedAt = history.find((h) => h.state === "established")?.at as number;
    expect(establishedAt - establishingAt).toBeGreaterThanOrEqual(5000);
    await stack.audioFlows(placed.mediaSessionId);
    await placed.hangUp();
    await expectGone(placed);
  }, 60_000);

  it("never admitted: the bot's lobby limit hangs it up (DELETE), ended lobbyTimeout, nothing left", async () => {
    const meeting = await emulator<MeetingAddress>("POST", "/meetings", {
      tenantId: TENANT,
      lobby: { admit: "never" },
    });
    const placed = await stack.bot.joinMeeting(meeting.joinUrl, { lobbyTimeoutMs: 1500 });
    const events = timedEvents(placed);
    const notEstablished = await placed.established.catch((error: unknown) => error);
    expect(notEstablished).toBeInstanceOf(CallNotEstablishedError);
    expect(await placed.ended).toMatchObject({ reason: "lobbyTimeout" });
    expect(events.map((e) => e.event.type)).toEqual(["lobby", "ended"]);
    expect((await stack.endedThroughGraph(placed.callId, 10_000)).by).toBe("hangUp");
    expect(stack.requestsFor(placed.callId, "delete").map((r) => r.status)).toEqual([204]);
    await expectGone(placed);
    const shown = await emulator<{ botCalls: { callId: string; state: string }[] }>(
      "GET",
      `/meetings/${meeting.id}`,
    );
    expect(shown.botCalls.find((c) => c.callId === placed.callId)?.state ?? "terminated").toBe("terminated");
    await waitFor(() => probeLines(placed.callId).some((line) => line.event === "end"), 5000);
    expect(probeLines(placed.callId).find((line) => line.event === "end")?.reason).toBe("lobbyTimeout");
  }, 60_000);
});

describe("a P2P call the bot places", () => {
  it("a callee who accepts after 2 s: established, audio both ways, hung up 200/7000", async () => {
    const userId = randomUUID();
    const wavPath = writeSpeechLikeWav(AUDIO_DIR, 44, 8);
    await emulator("POST", "/users", {
      userId,
      tenantId: TENANT,
      displayName: "Dana Callee",
      answer: "accept",
      afterMs: 2000,
      audio: { wavPath },
    });
    const placedAt = performance.now();
    const placed = await stack.bot.callUser({ userId, tenantId: TENANT }, { unmixedAudio: true });
    const events = timedEvents(placed);
    await placed.established;
    expect(
      (events.find((e) => e.event.type === "established")?.at as number) - placedAt,
    ).toBeGreaterThanOrEqual(2000);
    // The handler's echo reaches the media host (played at the far end), the callee's audio the bot.
    await stack.audioFlows(placed.mediaSessionId);
    await waitFor(
      () => readdirSync(stack.recordingsDir).some((name) => name.startsWith(placed.callId)),
      10_000,
    );
    await sleep(2500);
    await placed.hangUp();
    expect(await placed.ended).toMatchObject({ reason: "hungUp" });
    expect(stack.graph.call(placed.callId)?.resultInfo).toMatchObject({ code: 200, subcode: 7000 });
    expect(stack.requestsFor(placed.callId, "delete").map((r) => r.status)).toEqual([204]);
    await expectGone(placed);
    // What the handlers got from the callee is the callee's audio, byte for byte.
    const { folder, index } = await finishedRecording(placed.callId);
    expect(index.speakers).toHaveLength(1);
    const recorded = await readPcm16kWav(path.join(folder, index.speakers[0]?.file as string));
    expect(alignAndCompare(recorded, await readPcm16kWav(wavPath)).frames).toBeGreaterThanOrEqual(75);
    expect(
      probeLines(placed.callId)
        .filter((l) => l.event === "callEvent")
        .map((l) => l.type),
    ).toEqual(["established", "ended"]);
  }, 60_000);

  it("a callee who declines: ended declined (603), never established, no session left", async () => {
    const userId = randomUUID();
    await emulator("POST", "/users", { userId, tenantId: TENANT, answer: "decline", afterMs: 300 });
    const placed = await stack.bot.callUser({ userId, tenantId: TENANT });
    const notEstablished = await placed.established.catch((error: unknown) => error);
    expect(notEstablished).toBeInstanceOf(CallNotEstablishedError);
    const ended = await placed.ended;
    expect(ended.reason).toBe("declined");
    expect(ended.resultInfo).toMatchObject({ code: 603 });
    await expectGone(placed);
  }, 60_000);
});

describe("the meeting goes on without the bot", () => {
  it("the organizer ends the meeting: ended meetingEnded (200/5001), nothing left", async () => {
    const meeting = await emulator<MeetingAddress>("POST", "/meetings", {
      tenantId: TENANT,
      participants: [{ displayName: "Host", audio: { toneHz: 300 } }],
    });
    const placed = await stack.bot.joinMeeting(meeting.joinUrl);
    await placed.established;
    await emulator("POST", `/meetings/${meeting.id}/end`);
    expect(await placed.ended).toMatchObject({
      reason: "meetingEnded",
      resultInfo: { code: 200, subcode: 5001 },
    });
    await expectGone(placed);
    expect(stack.requestsFor(placed.callId, "delete")).toEqual([]);
    await waitFor(() => probeLines(placed.callId).some((line) => line.event === "end"), 5000);
    expect(probeLines(placed.callId).find((line) => line.event === "end")?.reason).toBe("meetingEnded");
  }, 60_000);

  it("the bot is removed from the meeting: ended removed (200/5300), nothing left", async () => {
    const meeting = await emulator<MeetingAddress>("POST", "/meetings", {
      tenantId: TENANT,
      participants: [{ displayName: "Host", audio: { toneHz: 300 } }],
    });
    const placed = await stack.bot.joinMeeting(meeting.joinUrl);
    await placed.established;
    expect(await emulator("POST", `/meetings/${meeting.id}/remove-bot`)).toEqual({ removed: 1 });
    expect(await placed.ended).toMatchObject({ reason: "removed", resultInfo: { code: 200, subcode: 5300 } });
    await expectGone(placed);
    await waitFor(() => probeLines(placed.callId).some((line) => line.event === "end"), 5000);
    expect(probeLines(placed.callId).find((line) => line.event === "end")?.reason).toBe("removed");
  }, 60_000);
});
