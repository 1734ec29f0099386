/**
 * End to end through real loopback sockets: the media worker thread (BridgeMediaSessionProvider)
 * against the media platform emulator, with the test handler module loaded in the worker.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readWatermark } from "../../src/emulator/media/audio-source.js";
import { MediaPlatformEmulator } from "../../src/emulator/media/media-platform-emulator.js";
import { silentLogger } from "../../src/log/logger.js";
import { FRAME_BYTES } from "../../src/media/audio-format.js";
import { BridgeMediaSessionProvider } from "../../src/media/bridge-media-session-provider.js";
import type { MediaSessionEvent } from "../../src/media/media-session-provider.js";
import { pcm16kWavHeader } from "../../src/media/wav-writer.js";
import { pcmFor, tone } from "./frame-helpers.js";
import { sleep, waitFor } from "./wait-for.js";

const SECRET = "e2e-secret-0123456789";
/** The emulator hides a 16-bit watermark in the low bits of a frame's first 32 samples. */
const WATERMARK_BYTES = 64;

function frameAt(pcm: Buffer, index: number): Buffer {
  return pcm.subarray(index * FRAME_BYTES, (index + 1) * FRAME_BYTES);
}

interface Harness {
  dir: string;
  eventsPath: string;
  wavPcm: Buffer;
  emulator: MediaPlatformEmulator;
  provider: BridgeMediaSessionProvider;
  events: MediaSessionEvent[];
  handlerEvents(callId: string): Promise<Record<string, unknown>[]>;
  dataOf(wavPath: string): Promise<Buffer>;
  close(): Promise<void>;
}

const SOURCE = tone(50, 1); // one second of far-end audio, looped
const SPEAKER_A = tone(50, 101);
const SPEAKER_B = tone(50, 202);

async function startHarness(options: { graceMs?: number; seed?: number } = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), "media-e2e-"));
  const eventsPath = join(dir, "events.jsonl");
  await writeFile(eventsPath, "");
  const wavPcm = Buffer.concat([tone(12, 55), pcmFor(99).subarray(0, 300)]);
  const wavPath = join(dir, "prompt.wav");
  await writeFile(wavPath, Buffer.concat([pcm16kWavHeader(wavPcm.length), wavPcm]));
  let state = options.seed ?? 7;
  const emulator = await MediaPlatformEmulator.start({
    secret: SECRET,
    defaultSource: { kind: "pcm", pcm: SOURCE, loop: true },
    random: () => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state / 2147483648;
    },
  });
  const provider = await BridgeMediaSessionProvider.start({
    bridge: { url: emulator.url, secret: SECRET, reconnectGraceMs: options.graceMs ?? 2000 },
    media: {
      fqdn: "media.test",
      publicPort: 8445,
      unmixedAudio: false,
      recordingsDir: join(dir, "recordings"),
    },
    handlers: [
      { module: join(import.meta.dirname, "fixtures", "test-handler.ts"), options: { wavPath, eventsPath } },
    ],
    logger: silentLogger(),
    workerLogLevel: "silent",
    requestTimeoutMs: 2000,
  });
  const events: MediaSessionEvent[] = [];
  provider.onEvent((event) => {
    events.push(event);
    // Signaling's part: Graph accepts the recording status at once.
    if (event.kind === "recordingStatusRequested")
      provider.recordingStatusUpdated(event.callId, event.status, true);
  });
  await provider.waitUntilConnected(3000);
  return {
    dir,
    eventsPath,
    wavPcm,
    emulator,
    provider,
    events,
    async handlerEvents(callId) {
      const lines = (await readFile(eventsPath, "utf8")).split("\n").filter(Boolean);
      return lines.map((line) => JSON.parse(line)).filter((event) => event.callId === callId);
    },
    async dataOf(wavPath) {
      const bytes = await readFile(wavPath);
      expect(bytes.readUInt32LE(40)).toBe(bytes.length - 44);
      return bytes.subarray(44);
    },
    async close() {
      await provider.close();
      await emulator.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Where the test handler records the call: it asked at session creation, and recording starts
 * once signaling reports the call established (Graph refuses recording status before).
 */
async function recordingDirOf(h: Harness, callId: string): Promise<string> {
  h.provider.callEstablished(callId);
  const started = await waitFor(async () =>
    (await h.handlerEvents(callId)).find((e) => e.event === "recording"),
  );
  return started.dir as string;
}

describe("media worker end to end (emulator, loopback)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it("builds the session's blob from the host's SessionCreated and reports the host healthy", async () => {
    expect(h.provider.unavailableReason()).toBeNull();
    const session = await h.provider.createSession({
      callId: "idle-1",
      direction: "sendRecv",
      unmixedAudio: false,
    });
    expect(session.configuration.callId).toBe("idle-1");
    expect(session.configuration.mpMediaSessionId).toBe(session.mediaSessionId);
    expect(session.configuration.mpUri).toMatch(/^net\.tcp:\/\/.+:\d+\/MediaProcessor$/);
    expect(h.emulator.session("idle-1")).toBeDefined();
    await h.provider.closeSession("idle-1", "test over");
    await waitFor(() => h.emulator.session("idle-1") === undefined);
  });

  it("echoes the received audio back sample for sample, and records exactly what it received", async () => {
    const callId = "echo-1";
    const session = await h.provider.createSession({ callId, direction: "sendRecv", unmixedAudio: false });
    const dir = await recordingDirOf(h, callId); // recording runs before any audio flows
    expect(await h.emulator.connectMedia(session.mediaSessionId, 2000)).toBe(true);
    await waitFor(() => h.events.find((e) => e.kind === "mediaConnected" && e.callId === callId));
    await sleep(700);
    h.emulator.setPaused(callId, true);
    await sleep(300); // let the last echoed frames play out
    const played = h.emulator.recording(callId) as Buffer;
    const stats = h.emulator.sessions().find((s) => s.callId === callId);
    await h.provider.closeSession(callId, "hang up");
    const received = await h.dataOf(join(dir, "mixed.wav"));

    expect(played.length).toBeGreaterThanOrEqual(20 * FRAME_BYTES);
    expect(played.length % FRAME_BYTES).toBe(0);
    // Echo: everything played at the far end is what the bot received, from the first frame on.
    expect(received.length).toBeGreaterThanOrEqual(played.length);
    expect(played.equals(received.subarray(0, played.length))).toBe(true);
    // And what the bot received is the far end's source, frame for frame (watermark aside).
    for (let i = 0; i < received.length / FRAME_BYTES; i++) {
      expect(
        frameAt(received, i)
          .subarray(WATERMARK_BYTES)
          .equals(frameAt(SOURCE, i % 50).subarray(WATERMARK_BYTES)),
      ).toBe(true);
    }
    expect(stats?.renderFramesDiscarded).toBe(0);
    expect(stats?.echo.count).toBeGreaterThan(10);
  });

  it("sends nothing before send status Active, then plays the WAV byte for byte and reports its mark", async () => {
    const callId = "play-1";
    const session = await h.provider.createSession({ callId, direction: "sendRecv", unmixedAudio: false });
    await sleep(200);
    const before = h.emulator.sessions().find((s) => s.callId === callId);
    expect(before?.renderFramesReceived).toBe(0);
    await h.emulator.connectMedia(session.mediaSessionId, 2000);
    const mark = await waitFor(async () => (await h.handlerEvents(callId)).find((e) => e.event === "mark"));
    expect(mark).toMatchObject({ name: "played", played: true });
    await sleep(200);
    const played = h.emulator.recording(callId) as Buffer;
    const padded = Buffer.concat([h.wavPcm, Buffer.alloc(FRAME_BYTES - (h.wavPcm.length % FRAME_BYTES))]);
    expect(played.equals(padded)).toBe(true);
    const stats = h.emulator.sessions().find((s) => s.callId === callId);
    expect(stats?.renderFramesDiscarded).toBe(0);
    await h.provider.closeSession(callId, "done");
  });

  it("restores order, conceals losses in place and absorbs jitter", async () => {
    const callId = "echo-impaired";
    const session = await h.provider.createSession({ callId, direction: "sendRecv", unmixedAudio: false });
    const dir = await recordingDirOf(h, callId);
    h.emulator.setImpairments(callId, { loss: 0.1, reorder: 0.15, jitterMs: 40 });
    await h.emulator.connectMedia(session.mediaSessionId, 2000);
    await sleep(1000);
    h.emulator.setPaused(callId, true);
    await sleep(150);
    const stats = h.emulator.sessions().find((s) => s.callId === callId);
    await h.provider.closeSession(callId, "done");
    const received = await h.dataOf(join(dir, "mixed.wav"));
    const frames = received.length / FRAME_BYTES;
    let concealed = 0;
    for (let i = 0; i < frames; i++) {
      const frame = frameAt(received, i);
      if (frame.equals(Buffer.alloc(FRAME_BYTES))) {
        concealed++;
        continue;
      }
      // Position i holds the frame the emulator numbered i + 1: nothing out of order, and
      // every lost frame kept its slot (as silence). A lost frame's audio is gone (the
      // emulator's source advances all the same), so the content is source frame i.
      expect(readWatermark(frame, 0)).toBe(i + 1);
      const content = frameAt(SOURCE, i % 50).subarray(WATERMARK_BYTES);
      expect(frame.subarray(WATERMARK_BYTES).equals(content)).toBe(true);
    }
    expect(stats?.framesLost).toBeGreaterThan(0);
    expect(stats?.framesReordered).toBeGreaterThan(0);
    // Losses at the very end of the stream cannot be told from its end.
    expect(concealed).toBeGreaterThanOrEqual((stats?.framesLost ?? 0) - 2);
    expect(frames).toBeGreaterThanOrEqual((stats?.framesSent ?? 0) - 2);
    const metrics = await h.provider.metrics();
    expect(metrics).toMatch(/media_frames_concealed_total [1-9]/);
    expect(metrics).toMatch(/media_interarrival_jitter_seconds_count [1-9]/);
  });

  it("clear flushes a playback at once and reports its mark unplayed; tones and roster reach the handler", async () => {
    const callId = "ctl-1";
    const session = await h.provider.createSession({ callId, direction: "sendRecv", unmixedAudio: false });
    await h.emulator.connectMedia(session.mediaSessionId, 2000);
    h.provider.updateRoster(callId, [
      {
        id: "p1",
        mediaStreams: [{ mediaType: "audio", sourceId: "11" }],
        info: { identity: { user: { id: "u1", displayName: "Ann" } } },
      },
    ]);
    // The roster travels signaling -> worker, the dominant speaker host -> worker: order them.
    await waitFor(async () => (await h.handlerEvents(callId)).find((e) => e.event === "roster"));
    h.emulator.setDominantSpeaker(callId, 11);
    h.emulator.sendTone(callId, "1"); // play with mark m1
    await waitFor(async () =>
      (await h.handlerEvents(callId)).find((e) => e.event === "tone" && e.tone === "1"),
    );
    await sleep(60);
    h.emulator.sendTone(callId, "2"); // barge-in
    const mark = await waitFor(async () => (await h.handlerEvents(callId)).find((e) => e.event === "mark"));
    expect(mark).toMatchObject({ name: "m1", played: false });
    await sleep(150);
    const stats = h.emulator.sessions().find((s) => s.callId === callId);
    // The 13-frame prompt was cut short at the far end too (ClearPlayout flushed its queue).
    expect(stats?.framesPlayed).toBeLessThan(13);
    h.provider.toneReceived(callId, "5");
    const all = await waitFor(async () => {
      const events = await h.handlerEvents(callId);
      return events.some((e) => e.event === "tone" && e.origin === "graph") ? events : undefined;
    });
    expect(all).toContainEqual(expect.objectContaining({ event: "roster", ids: ["p1"] }));
    expect(all).toContainEqual(
      expect.objectContaining({ event: "dominant", sourceId: 11, participant: "p1" }),
    );
    expect(all).toContainEqual(expect.objectContaining({ event: "tone", tone: "1", origin: "media" }));
    await h.provider.closeSession(callId, "done");
  });

  it("records each speaker of an unmixed session into its own file on the call's timeline", async () => {
    const callId = "unmixed-1";
    const session = await h.provider.createSession({ callId, direction: "sendRecv", unmixedAudio: true });
    h.emulator.setSpeakers(callId, [
      { id: 11, source: { kind: "pcm", pcm: SPEAKER_A } },
      { id: 22, source: { kind: "pcm", pcm: SPEAKER_B } },
    ]);
    const dir = await recordingDirOf(h, callId);
    await h.emulator.connectMedia(session.mediaSessionId, 2000);
    await sleep(500);
    await h.provider.closeSession(callId, "done");
    const a = await h.dataOf(join(dir, "speaker-11.wav"));
    const b = await h.dataOf(join(dir, "speaker-22.wav"));
    const mixed = await h.dataOf(join(dir, "mixed.wav"));
    expect(a.length).toBeGreaterThanOrEqual(10 * FRAME_BYTES);
    expect(a.length).toBe(mixed.length);
    expect(b.length).toBe(mixed.length);
    for (let i = 0; i < a.length / FRAME_BYTES; i++) {
      expect(frameAt(a, i).equals(frameAt(SPEAKER_A, i % 50))).toBe(true);
      expect(frameAt(b, i).equals(frameAt(SPEAKER_B, i % 50))).toBe(true);
    }
    const index = JSON.parse(await readFile(join(dir, "recording.json"), "utf8"));
    expect(index.speakers.map((s: { sourceId: number }) => s.sourceId)).toEqual([11, 22]);
  });

  it("a malformed or oversized message does not disturb the calls", async () => {
    const sessions = await Promise.all(
      ["echo-m1", "echo-m2"].map((callId) =>
        h.provider.createSession({ callId, direction: "sendRecv", unmixedAudio: false }),
      ),
    );
    for (const s of sessions) await h.emulator.connectMedia(s.mediaSessionId, 2000);
    await sleep(200);
    const echoes = () =>
      ["echo-m1", "echo-m2"].map((id) => h.emulator.sessions().find((s) => s.callId === id)?.echo.count ?? 0);
    const before = echoes();
    h.emulator.injectFault({ kind: "malformed", variant: "bad_frame" });
    h.emulator.injectFault({ kind: "malformed", variant: "truncated" });
    h.emulator.injectFault({ kind: "oversized" });
    await sleep(400);
    const after = echoes();
    expect(after[0]).toBeGreaterThan((before[0] ?? 0) + 10);
    expect(after[1]).toBeGreaterThan((before[1] ?? 0) + 10);
    expect(h.events.filter((e) => e.kind === "sessionLost")).toEqual([]);
    const metrics = await h.provider.metrics();
    expect(metrics).toMatch(/media_frames_dropped_total\{reason="(bad_size|malformed)"\} [1-9]/);
    for (const s of sessions) await h.provider.closeSession(s.callId, "done");
  });
});

describe("media host loss", () => {
  it("resumes the calls when the host returns within the grace period", async () => {
    const h = await startHarness({ graceMs: 3000 });
    try {
      const callId = "echo-resume";
      const session = await h.provider.createSession({ callId, direction: "sendRecv", unmixedAudio: false });
      await h.emulator.connectMedia(session.mediaSessionId, 2000);
      await sleep(200);
      const first = h.emulator.session(callId)?.session;
      h.emulator.injectFault({ kind: "disconnect" });
      await waitFor(() => h.provider.unavailableReason() === "disconnected", 2000);
      // The worker reconnects and creates the session again under the same media session id.
      await waitFor(() => {
        const again = h.emulator.session(session.mediaSessionId);
        return again !== undefined && again.session !== first;
      }, 3000);
      expect(await h.emulator.connectMedia(session.mediaSessionId, 2000)).toBe(true);
      await sleep(300);
      const stats = h.emulator.sessions().find((s) => s.callId === callId);
      expect(stats?.echo.count).toBeGreaterThan(5);
      expect(h.events.filter((e) => e.kind === "sessionLost")).toEqual([]);
      expect(h.provider.unavailableReason()).toBeNull();
    } finally {
      await h.close();
    }
  });

  it("reports sessionLost once the host stays away past the grace period", async () => {
    const h = await startHarness({ graceMs: 300 });
    try {
      const session = await h.provider.createSession({
        callId: "echo-lost",
        direction: "sendRecv",
        unmixedAudio: false,
      });
      await h.emulator.connectMedia(session.mediaSessionId, 2000);
      // Timed from before the stop: the worker may see the connection drop (and start its
      // grace) before stop() returns, so a clock started after it could show less than the grace.
      const stoppedAt = Date.now();
      await h.emulator.stop();
      const lost = await waitFor(() => h.events.find((e) => e.kind === "sessionLost"), 3000);
      expect(lost).toMatchObject({ kind: "sessionLost", callId: "echo-lost" });
      expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(250);
      expect(h.provider.unavailableReason()).toBe("disconnected");
      // Closing a lost session is a no-op.
      await h.provider.closeSession("echo-lost", "hang up");
    } finally {
      await h.provider.close();
      await rm(h.dir, { recursive: true, force: true });
    }
  });
});
