/**
 * A bot joining an emulated meeting hears each participant unmixed under the participant's
 * roster sourceId: the Graph emulator sets the speakers of the call's media session on a real
 * media platform emulator (in process, or over its HTTP control API as a standalone Graph
 * emulator does), and a real bridge client (the worker's end) receives the frames.
 */
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { BridgeClient } from "../../../src/bridge/bridge-client.js";
import type { FrameBatchReader } from "../../../src/bridge/frame-batch-reader.js";
import { GraphEmulator } from "../../../src/emulator/graph/graph-emulator.js";
import {
  type SpeakerSink,
  speakersInProcess,
  speakersOverLink,
} from "../../../src/emulator/graph/participant-audio.js";
import { MediaPlatformEmulator } from "../../../src/emulator/media/media-platform-emulator.js";
import { callUserRequest, joinMeetingByUrlRequest } from "../../../src/graph/outgoing-call-requests.js";
import type { Participant } from "../../../src/graph/types.js";
import { silentLogger } from "../../../src/log/logger.js";
import {
  buildMediaSessionConfiguration,
  serializeMediaBlob,
} from "../../../src/media/media-session-config.js";
import { pcm16kWavHeader } from "../../../src/media/wav-writer.js";
import { openBridgeClient } from "../open-bridge-client.js";
import { BotReceiver } from "./bot-receiver.js";
import { APP_ID, acquireToken, control, graph, SECRET, TENANT } from "./graph-test-kit.js";

const MEDIA_SECRET = "meeting-audio-test-secret-0123456789";
/** 10 s per file: no wrap-around while a test runs. */
const FRAMES_PER_FILE = 500;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A WAV whose frame i holds the value base + i in every sample: a frame says whose and which it is. */
function writeMarkedWav(dir: string, base: number): string {
  const pcm = Buffer.alloc(FRAMES_PER_FILE * 640);
  for (let frame = 0; frame < FRAMES_PER_FILE; frame++)
    for (let s = 0; s < 320; s++) pcm.writeInt16LE(base + frame, frame * 640 + s * 2);
  const path = join(dir, `speaker-${base}.wav`);
  writeFileSync(path, Buffer.concat([pcm16kWavHeader(pcm.length), pcm]));
  return path;
}

interface UnmixedFrame {
  speakers: number[];
  ids: number[];
  /** Per unmixed buffer: its single sample value, or NaN when its samples differ. */
  values: number[];
}

function collect(client: BridgeClient, session: number, until: (frames: UnmixedFrame[]) => boolean) {
  const frames: UnmixedFrame[] = [];
  const pcm = new Uint8Array(640);
  const view = new DataView(pcm.buffer);
  return new Promise<UnmixedFrame[]>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off("frames", listener);
      reject(new Error(`timed out collecting frames; last ids ${JSON.stringify(frames.at(-1)?.ids)}`));
    }, 10_000);
    const listener = (reader: FrameBatchReader) => {
      while (reader.next()) {
        if (reader.session !== session) continue;
        const values: number[] = [];
        for (let u = 0; u < reader.unmixedCount; u++) {
          reader.copyUnmixedPcm(u, pcm);
          const first = view.getInt16(0, true);
          let same = true;
          for (let s = 1; s < 320; s++) if (view.getInt16(2 * s, true) !== first) same = false;
          values.push(same ? first : Number.NaN);
        }
        frames.push({
          speakers: Array.from(reader.activeSpeakers.subarray(0, reader.activeSpeakerCount)),
          ids: Array.from(reader.unmixedSpeakerIds.subarray(0, reader.unmixedCount)),
          values,
        });
      }
      if (until(frames)) {
        clearTimeout(timer);
        client.off("frames", listener);
        resolve(frames);
      }
    };
    client.on("frames", listener);
  });
}

function blobFor(callId: string, mediaSessionId: string): string {
  return serializeMediaBlob(
    buildMediaSessionConfiguration({
      callId,
      mediaSessionId,
      mpUri: "net.tcp://bot.example.test:18732/MediaProcessor",
      audioRenderContextId: crypto.randomUUID(),
      audioSourceContextId: crypto.randomUUID(),
      versions: {
        skypeMediaBotsVersion: "1.31.0.225",
        mediaStackVersion: "2024.4.1.1",
        mpVersion: "7.2.0.3881",
      },
    }),
  );
}

async function setup(sinkOf: (media: MediaPlatformEmulator) => SpeakerSink) {
  const dir = mkdtempSync(join(tmpdir(), "meeting-audio-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const media = await MediaPlatformEmulator.start({ secret: MEDIA_SECRET, logger: silentLogger() });
  cleanups.push(() => media.stop());
  const client = await openBridgeClient(media.url, MEDIA_SECRET, cleanups);
  const bot = await BotReceiver.start();
  cleanups.push(() => bot.close());
  const emulator = await GraphEmulator.start({
    logger: silentLogger(),
    // As src/dev/local-stack.ts: established once the call's media session connects.
    establishWhen: (call) =>
      call.mediaSession ? media.connectMedia(call.mediaSession, 5000) : Promise.resolve(false),
    speakers: sinkOf(media),
  });
  cleanups.push(() => emulator.close());
  emulator.registerApp({ appId: APP_ID, secret: SECRET, tenantId: TENANT, callbackUrl: bot.url });
  return { dir, media, client, bot, emulator, token: await acquireToken(emulator) };
}

describe("meeting participants' audio reaches the bot unmixed under their roster sourceIds", () => {
  it.each([
    ["in process", (media: MediaPlatformEmulator) => speakersInProcess(media)],
    [
      "over the media emulator's control API",
      (media: MediaPlatformEmulator) =>
        speakersOverLink({ url: `http://${new URL(media.url).host}`, secret: MEDIA_SECRET }),
    ],
  ])(
    "%s: one unmixed stream per speaking participant, muted ones silent, dominant speaker set",
    async (_how, sinkOf) => {
      const { dir, client, bot, emulator, token } = await setup(sinkOf);
      const bases = [1000, 2000, 3000];
      const meeting = (
        await control(emulator, "POST", "/meetings", {
          participants: [
            ...bases.map((base, i) => ({
              displayName: `Speaker ${i}`,
              audio: { wavPath: writeMarkedWav(dir, base) },
            })),
            { displayName: "Muted", audio: { toneHz: 440 }, muted: true },
            { displayName: "Listener" },
          ],
        })
      ).json() as { id: string; joinUrl: string };
      const shown = (await control(emulator, "GET", `/meetings/${meeting.id}`)).json();
      const sourceIds = (shown.participants as { sourceId: string }[]).map((p) => Number(p.sourceId));
      const baseOf = new Map(bases.map((base, i) => [sourceIds[i] as number, base]));

      const mediaSessionId = crypto.randomUUID();
      const created = await client.createSession({
        callId: "meeting-bot",
        mediaSessionId,
        direction: "sendRecv",
        unmixedAudio: true,
      });
      const dominant = once(client, "dominantSpeaker");
      const blob = blobFor("meeting-bot", mediaSessionId);
      const body = joinMeetingByUrlRequest(meeting.joinUrl, {
        callbackUri: "https://bot.contoso.com/api/calls",
        mediaBlob: blob,
      });
      const call = (
        await graph(emulator, "POST", "/communications/calls", token, { ...body, callbackUri: bot.url })
      ).json();
      await emulator.waitForCallState(call.id, "established");

      const speaking = sourceIds.slice(0, 3);
      const frames = await collect(
        client,
        created.session,
        (f) => f.filter((x) => x.ids.length === 3).length >= 20,
      );
      const full = frames.filter((f) => f.ids.length === 3);
      expect(full[0]?.ids).toEqual(speaking);
      expect(full[0]?.speakers).toEqual(speaking);
      // Each unmixed buffer is that participant's own WAV, frame after frame, unmixed.
      for (const [index, id] of speaking.entries()) {
        const base = baseOf.get(id) as number;
        const got = full.map((f) => (f.values[index] as number) - base);
        for (const [i, frame] of got.entries()) {
          expect(frame).toBeGreaterThanOrEqual(0);
          expect(frame).toBeLessThan(FRAMES_PER_FILE);
          if (i > 0) expect(frame).toBe(((got[i - 1] as number) + 1) % FRAMES_PER_FILE);
        }
      }
      expect((await dominant)[0]).toEqual({ session: created.session, speakerId: speaking[0] });

      // The bot's roster names the same source ids.
      const roster = bot
        .notificationsFor(call.id)
        .filter((n) => n.resourceUrl.endsWith("/participants"))
        .at(-1)?.resourceData as Participant[];
      expect(roster.slice(0, 5).map((p) => Number(p.mediaStreams?.[0]?.sourceId))).toEqual(sourceIds);

      // Muting the first speaker takes it out of the unmixed speakers; the next one is dominant.
      const nextDominant = once(client, "dominantSpeaker");
      const first = (shown.participants as { id: string }[])[0]?.id;
      await control(emulator, "POST", `/meetings/${meeting.id}/participants/${first}/mute`);
      const after = await collect(client, created.session, (f) => f.some((x) => x.ids.length === 2));
      const firstAfter = after.find((f) => f.ids.length === 2);
      expect(firstAfter?.ids).toEqual(speaking.slice(1));
      // The others go on where they were: a roster change does not restart their audio.
      for (const [index, id] of speaking.slice(1).entries()) {
        const base = baseOf.get(id) as number;
        const before = (full.at(-1)?.values[index + 1] as number) - base;
        expect((firstAfter?.values[index] as number) - base).toBeGreaterThan(before);
      }
      expect((await nextDominant)[0].speakerId).toBe(speaking[1]);
    },
  );

  it("a P2P callee who accepts is the one unmixed speaker, under its roster sourceId", async () => {
    const { dir, client, bot, emulator, token } = await setup(speakersInProcess);
    const userId = crypto.randomUUID();
    const wavPath = writeMarkedWav(dir, 4000);
    const registered = await control(emulator, "POST", "/users", {
      userId,
      answer: "accept",
      afterMs: 100,
      audio: { wavPath },
    });
    expect(registered.status).toBe(201);
    const mediaSessionId = crypto.randomUUID();
    const created = await client.createSession({
      callId: "p2p-bot",
      mediaSessionId,
      direction: "sendRecv",
      unmixedAudio: true,
    });
    const body = callUserRequest(
      { userId, tenantId: TENANT },
      { callbackUri: "https://bot.contoso.com/api/calls", mediaBlob: blobFor("p2p-bot", mediaSessionId) },
    );
    const call = (
      await graph(emulator, "POST", "/communications/calls", token, { ...body, callbackUri: bot.url })
    ).json();
    await emulator.waitForCallState(call.id, "established");
    await bot.waitUntil(() =>
      bot.notificationsFor(call.id).some((n) => n.resourceUrl.endsWith("/participants")),
    );
    const roster = bot.notificationsFor(call.id).find((n) => n.resourceUrl.endsWith("/participants"))
      ?.resourceData as Participant[];
    const callee = roster.find((p) => p.info?.identity?.user?.id === userId);
    const sourceId = Number(callee?.mediaStreams?.[0]?.sourceId);
    const frames = await collect(
      client,
      created.session,
      (f) => f.filter((x) => x.ids.length === 1).length >= 10,
    );
    const heard = frames.filter((f) => f.ids.length === 1);
    expect(heard[0]?.ids).toEqual([sourceId]);
    const got = heard.map((f) => (f.values[0] as number) - 4000);
    for (const [i, frame] of got.entries()) if (i > 0) expect(frame).toBe((got[i - 1] as number) + 1);
  });
});
