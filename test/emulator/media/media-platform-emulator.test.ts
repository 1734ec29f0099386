import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { BridgeClient } from "../../../src/bridge/bridge-client.js";
import type { FrameBatchReader } from "../../../src/bridge/frame-batch-reader.js";
import { FrameBatchWriter } from "../../../src/bridge/frame-batch-writer.js";
import { v1 } from "../../../src/bridge/protocol.js";
import { readWatermark } from "../../../src/emulator/media/audio-source.js";
import {
  MediaPlatformEmulator,
  type MediaPlatformEmulatorOptions,
} from "../../../src/emulator/media/media-platform-emulator.js";
import { buildMediaSessionConfiguration } from "../../../src/media/media-session-config.js";
import { pcm16kWavHeader } from "../../../src/media/wav-writer.js";
import { openBridgeClient } from "../open-bridge-client.js";
import { seeded } from "./session-driver.js";

const SECRET = "emulator-test-secret-0123456789";
const RENDER = v1.MediaContext.MEDIA_CONTEXT_AUDIO_RENDER;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: Partial<MediaPlatformEmulatorOptions> = {}) {
  const emulator = await MediaPlatformEmulator.start({ secret: SECRET, random: seeded(1), ...options });
  cleanups.push(() => emulator.stop());
  const client = await openBridgeClient(emulator.url, SECRET, cleanups);
  return { emulator, client };
}

interface SeenFrame {
  session: number;
  sequence: number;
  isSilence: boolean;
  speakers: number[];
  unmixed: number[];
  pcm: Uint8Array;
}

/** Collects frames until `until` says stop (copies them: the reader is valid only in the callback). */
function collect(
  client: BridgeClient,
  until: (frames: SeenFrame[], batches: number) => boolean,
): Promise<SeenFrame[]> {
  const frames: SeenFrame[] = [];
  let batches = 0;
  return new Promise((resolve) => {
    const listener = (reader: FrameBatchReader) => {
      batches++;
      while (reader.next()) {
        const pcm = new Uint8Array(640);
        reader.copyPcm(pcm);
        frames.push({
          session: reader.session,
          sequence: reader.sequence,
          isSilence: reader.isSilence,
          speakers: Array.from(reader.activeSpeakers.subarray(0, reader.activeSpeakerCount)),
          unmixed: Array.from(reader.unmixedSpeakerIds.subarray(0, reader.unmixedCount)),
          pcm,
        });
      }
      if (until(frames, batches)) {
        client.off("frames", listener);
        resolve(frames);
      }
    };
    client.on("frames", listener);
  });
}

describe("MediaPlatformEmulator", () => {
  it("connects a session's media only through connectMedia, then streams about 50 batches/s", async () => {
    const { emulator, client } = await setup();
    const statuses: boolean[] = [];
    client.on("sendStatus", (e) => statuses.push(e.active));
    const created = await client.createSession({ callId: "c1", direction: "sendRecv", unmixedAudio: false });
    expect(await emulator.connectMedia("8b1a9953-c461-4d2e-9b3b-000000000000", 50)).toBe(false);

    const blob = buildMediaSessionConfiguration({
      callId: "c1",
      mediaSessionId: created.mediaSessionId,
      mpUri: created.mpUri,
      audioRenderContextId: created.audioRenderContextId,
      audioSourceContextId: created.audioSourceContextId,
      versions: created,
    });
    let batches = 0;
    client.on("frames", () => batches++);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(batches).toBe(0); // No media before it connects.
    expect(await emulator.connectMedia(blob, 1000)).toBe(true);
    const start = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const rate = (batches * 1000) / (performance.now() - start);
    expect(rate).toBeGreaterThan(40);
    expect(rate).toBeLessThan(60);
    expect(statuses).toEqual([false, true]);
  });

  it("connectMedia waits for a session created later", async () => {
    const { emulator, client } = await setup();
    const id = "5d6f9ad7-5a32-4f8e-9d44-7b0b5e2b6c11";
    const waiting = emulator.connectMedia(id, 2000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await client.createSession({
      callId: "later",
      mediaSessionId: id,
      direction: "sendRecv",
      unmixedAudio: false,
    });
    expect(await waiting).toBe(true);
    expect(emulator.session("later")?.sendActive).toBe(true);
  });

  it("makes loss, reordering and silence visible to the client", async () => {
    const { emulator, client } = await setup({ autoConnectMediaMs: 0 });
    const created = await client.createSession({ callId: "imp", direction: "sendRecv", unmixedAudio: false });
    emulator.setImpairments(created.session, { loss: 0.2, reorder: 0.2, silence: 0.2 });
    const frames = await collect(client, (f) => f.length >= 100);
    const sequences = frames.map((f) => f.sequence);
    const max = Math.max(...sequences);
    const min = Math.min(...sequences);
    expect(max - min + 1).toBeGreaterThan(new Set(sequences).size); // gaps: lost frames
    expect(sequences.some((s, i) => i > 0 && s < (sequences[i - 1] as number))).toBe(true); // reordered
    const silent = frames.filter((f) => f.isSilence);
    expect(silent.length).toBeGreaterThan(0);
    expect(silent.every((f) => f.pcm.every((b) => b === 0))).toBe(true);
    const stats = emulator.session(created.session)?.snapshot();
    expect(stats?.framesLost).toBeGreaterThan(0);
    expect(stats?.framesReordered).toBeGreaterThan(0);
  });

  it("delays frames with jitter but keeps their order", async () => {
    const { emulator, client } = await setup({ autoConnectMediaMs: 0 });
    const created = await client.createSession({ callId: "jit", direction: "sendRecv", unmixedAudio: false });
    emulator.setImpairments(created.session, { jitterMs: 100 });
    let emptyTicks = 0;
    let lastBatchAt = 0;
    let maxGap = 0;
    const frames = await collect(client, (f) => {
      const now = performance.now();
      if (lastBatchAt) maxGap = Math.max(maxGap, now - lastBatchAt);
      lastBatchAt = now;
      return f.length >= 60;
    });
    emptyTicks = maxGap;
    const sequences = frames.map((f) => f.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    expect(emptyTicks).toBeGreaterThan(30); // some ticks delivered nothing, later ones a burst
  });

  it("sends unmixed buffers and active speakers for up to four speakers, and speaker events", async () => {
    const { emulator, client } = await setup({
      autoConnectMediaMs: 0,
      defaultSpeakers: [
        { id: 101, source: { kind: "tone", frequencyHz: 300 } },
        { id: 202, source: { kind: "tone", frequencyHz: 500 } },
      ],
    });
    const created = await client.createSession({ callId: "mix", direction: "sendRecv", unmixedAudio: true });
    const frames = await collect(client, (f) => f.length >= 3);
    expect(frames[0]?.speakers).toEqual([101, 202]);
    expect(frames[0]?.unmixed).toEqual([101, 202]);
    expect(() =>
      emulator.setSpeakers(
        created.session,
        [1, 2, 3, 4, 5].map((id) => ({ id, source: { kind: "silence" } })),
      ),
    ).toThrow();

    const dominant = once(client, "dominantSpeaker");
    emulator.setDominantSpeaker("mix", 202);
    expect((await dominant)[0]).toEqual({ session: created.session, speakerId: 202 });
    const nobody = once(client, "dominantSpeaker");
    emulator.setDominantSpeaker("mix", null);
    expect((await nobody)[0].speakerId).toBe(0xffffffff);
    const tone = once(client, "tone");
    emulator.sendTone("mix", "pound");
    expect((await tone)[0]).toMatchObject({ session: created.session, tone: "pound" });
    const health = once(client, "health");
    emulator.setHealth("heavilyLoaded");
    expect((await health)[0]).toEqual({ previous: "normal", current: "heavilyLoaded" });
    expect(client.health).toBe("heavilyLoaded");
  });

  it("streams a WAV file once, then silence", async () => {
    const dir = mkdtempSync(join(tmpdir(), "emu-wav-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const pcm = Buffer.alloc(640 * 3);
    for (let i = 0; i < pcm.length; i += 2) pcm.writeInt16LE(1000 + i, i);
    const file = join(dir, "three-frames.wav");
    writeFileSync(file, Buffer.concat([pcm16kWavHeader(pcm.length), pcm]));
    const { client } = await setup({
      autoConnectMediaMs: 0,
      defaultSource: { kind: "wav", path: file, loop: false },
    });
    await client.createSession({ callId: "wav", direction: "sendRecv", unmixedAudio: false });
    const frames = await collect(client, (f) => f.length >= 6);
    // Apart from the watermark bits, the first frames are the file.
    expect(
      Buffer.from(frames[1]?.pcm ?? [])
        .subarray(64)
        .equals(pcm.subarray(640 + 64, 1280)),
    ).toBe(true);
    expect(frames.slice(0, 3).every((f) => !f.isSilence)).toBe(true);
    expect(frames.slice(3).every((f) => f.isSilence)).toBe(true);
  });

  it("records what an echo bot renders, measures echo latency and discards audio sent before ACTIVE", async () => {
    const dir = mkdtempSync(join(tmpdir(), "emu-rec-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const { emulator, client } = await setup({ recordDir: dir });
    const created = await client.createSession({
      callId: "echo",
      direction: "sendRecv",
      unmixedAudio: false,
    });
    const writer = new FrameBatchWriter();
    const pcm = new Uint8Array(640).fill(1);
    // Before media connects the platform discards render audio.
    writer.begin(1);
    writer.addFrame(created.session, RENDER, 1, 0, pcm, 0, false);
    client.sendFrameBatch(writer.finish());
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(emulator.session("echo")?.snapshot().renderFramesDiscarded).toBe(1);

    // The echo bot: every received frame goes straight back as a render frame.
    let sequence = 0;
    client.on("frames", (reader, receivedAtUs) => {
      writer.begin(receivedAtUs);
      while (reader.next()) {
        writer.addFrame(
          reader.session,
          RENDER,
          ++sequence,
          reader.timestampTicks,
          reader.buffer,
          reader.pcmOffset,
          false,
        );
      }
      client.sendFrameBatch(writer.finish());
    });
    await emulator.connectMedia(created.mediaSessionId, 1000);
    await new Promise((resolve) => setTimeout(resolve, 600));
    const stats = emulator.session("echo")?.snapshot();
    expect(stats?.echo.count).toBeGreaterThan(15);
    expect(stats?.echo.p50Ms).toBeGreaterThanOrEqual(0);
    expect(stats?.echo.p50Ms).toBeLessThan(20);
    expect(stats?.framesPlayed).toBeGreaterThan(15);
    const recording = emulator.recording("echo");
    expect(recording?.length).toBe((stats?.framesPlayed ?? 0) * 640);
    // What was played carries the emulator's own watermarks: it is the echoed far-end audio.
    expect(readWatermark(recording as Buffer, 0)).toBeGreaterThan(0);

    await client.closeSession(created.session, "done");
    const wav = readFileSync(join(dir, `echo-${created.session}.wav`));
    expect(wav.toString("ascii", 0, 4)).toBe("RIFF");
    expect(wav.length).toBeGreaterThan(44 + 15 * 640);
  });

  it("reports a mark when the frames before it were played, and unplayed marks on clear", async () => {
    const { emulator, client } = await setup({ autoConnectMediaMs: 0, playoutQueueFrames: 100 });
    const created = await client.createSession({
      callId: "marks",
      direction: "sendRecv",
      unmixedAudio: false,
    });
    // The send status events may come in the same read as SessionCreated: poll the emulator.
    while (!emulator.session("marks")?.sendActive) await new Promise((resolve) => setTimeout(resolve, 5));
    const writer = new FrameBatchWriter();
    const pcm = new Uint8Array(640).fill(3);
    const sendFrames = (n: number) => {
      writer.begin(1);
      for (let i = 0; i < n; i++) writer.addFrame(created.session, RENDER, i + 1, 0, pcm, 0, false);
      client.sendFrameBatch(writer.finish());
    };
    const marks: { name: string; played: boolean; at: number }[] = [];
    client.on("markPlayed", (m) => marks.push({ name: m.name, played: m.played, at: performance.now() }));
    const start = performance.now();
    sendFrames(10);
    client.sendMark(created.session, "after-ten");
    while (marks.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(marks[0]).toMatchObject({ name: "after-ten", played: true });
    // Ten frames take 200 ms to play, not less.
    expect((marks[0]?.at ?? 0) - start).toBeGreaterThan(150);
    expect(emulator.session("marks")?.snapshot().framesPlayed).toBe(10);

    sendFrames(50);
    client.sendMark(created.session, "never");
    await new Promise((resolve) => setTimeout(resolve, 60));
    client.sendClear(created.session);
    while (marks.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(marks[1]).toMatchObject({ name: "never", played: false });
    const stats = emulator.session("marks")?.snapshot();
    expect(stats?.playoutQueueDepth).toBe(0);
    expect(stats?.framesPlayed).toBeLessThan(25);
    expect(stats?.marksCleared).toBe(1);
  });

  it("answers bad worker frames with BAD_FRAME and keeps serving the other sessions", async () => {
    const { emulator, client } = await setup({ autoConnectMediaMs: 0 });
    const a = await client.createSession({ callId: "a", direction: "sendRecv", unmixedAudio: false });
    const b = await client.createSession({ callId: "b", direction: "sendRecv", unmixedAudio: false });
    const { encodeEnvelope } = await import("../../../src/bridge/codec.js");
    const hostError = once(client, "hostError");
    client.sendFrameBatch(
      encodeEnvelope({
        frames: {
          frames: [
            { session: a.session, context: RENDER, pcm: new Uint8Array(10) },
            { session: b.session, context: RENDER, pcm: new Uint8Array(640) },
          ],
        },
      }),
    );
    expect((await hostError)[0]).toMatchObject({ code: "BAD_FRAME", session: a.session });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(emulator.session("b")?.snapshot().renderFramesReceived).toBe(1);
    expect(emulator.stats().protocolErrors).toEqual({});
    const frames = await collect(
      client,
      (f) => f.some((x) => x.session === a.session) && f.some((x) => x.session === b.session),
    );
    expect(frames.length).toBeGreaterThanOrEqual(2);
  });

  it("stalls: sends nothing for the given time, then carries on", async () => {
    const { emulator, client } = await setup({ autoConnectMediaMs: 0 });
    await client.createSession({ callId: "stall", direction: "sendRecv", unmixedAudio: false });
    await collect(client, (f) => f.length >= 2);
    let last = performance.now();
    let maxGap = 0;
    client.on("frames", () => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    });
    emulator.injectFault({ kind: "stall", ms: 200 });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(maxGap).toBeGreaterThan(180);
    expect(performance.now() - last).toBeLessThan(100);
  });

  it("stalls: control messages sent meanwhile are answered at its end, not lost (a stalled process's socket keeps them)", async () => {
    const { emulator, client } = await setup({ autoConnectMediaMs: 0 });
    emulator.injectFault({ kind: "stall", ms: 300 });
    const startedAt = performance.now();
    // Before the fix the stalled host dropped both: the CreateSession timed out and the call was lost.
    const [created, rttMs] = await Promise.all([
      client.createSession({ callId: "during-stall", direction: "sendRecv", unmixedAudio: false }),
      client.ping(),
    ]);
    const waitedMs = performance.now() - startedAt;
    expect(created.callId).toBe("during-stall");
    expect(rttMs).toBeGreaterThan(200);
    expect(waitedMs).toBeGreaterThan(200);
    expect(emulator.session("during-stall")).toBeDefined();
    expect(emulator.stats().sessions).toBe(1);
  });

  it("control surface: bearer-protected JSON", async () => {
    const { emulator, client } = await setup({ autoConnectMediaMs: 0 });
    const created = await client.createSession({ callId: "ctl", direction: "sendRecv", unmixedAudio: false });
    const refused = await fetch(`${emulator.controlUrl}/control/stats`);
    expect(refused.status).toBe(401);
    const auth = { authorization: `Bearer ${SECRET}` };
    const stats = await (await fetch(`${emulator.controlUrl}/control/stats`, { headers: auth })).json();
    expect(stats).toMatchObject({ connections: 1, sessions: 1, health: "normal" });
    const tone = once(client, "tone");
    const post = await fetch(`${emulator.controlUrl}/control/sessions/ctl/tone`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ tone: "5" }),
    });
    expect(post.status).toBe(200);
    expect((await tone)[0]).toMatchObject({ session: created.session, tone: "5" });
    const bad = await fetch(`${emulator.controlUrl}/control/sessions/ctl/impairments`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ loss: 2 }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/loss/);
    const missing = await fetch(`${emulator.controlUrl}/control/sessions/nope/tone`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ tone: "1" }),
    });
    expect(missing.status).toBe(404);
  });
});
