/**
 * Session resume after a bridge reconnect, as the .NET host does it (see the proto's header):
 * the sessions of a lost or replaced connection wait for the reconnect grace period, a
 * CreateSession with the same call and media session ids resumes one, later they end.
 * First at the protocol level with a BridgeClient, then with the real media worker.
 */
import { once } from "node:events";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BridgeClient, BridgeRequestError } from "../../../src/bridge/bridge-client.js";
import type { SessionCreatedInfo } from "../../../src/bridge/bridge-client-types.js";
import type { FrameBatchReader } from "../../../src/bridge/frame-batch-reader.js";
import { FrameBatchWriter } from "../../../src/bridge/frame-batch-writer.js";
import { v1 } from "../../../src/bridge/protocol.js";
import { readWatermark } from "../../../src/emulator/media/audio-source.js";
import {
  DEFAULT_RECONNECT_GRACE_MS,
  MediaPlatformEmulator,
  type MediaPlatformEmulatorOptions,
} from "../../../src/emulator/media/media-platform-emulator.js";
import { silentLogger } from "../../../src/log/logger.js";
import { BridgeMediaSessionProvider } from "../../../src/media/bridge-media-session-provider.js";
import type { MediaSessionEvent } from "../../../src/media/media-session-provider.js";
import { sleep, waitFor } from "../../media/wait-for.js";

const SECRET = "resume-test-secret-0123456789";
const RENDER = v1.MediaContext.MEDIA_CONTEXT_AUDIO_RENDER;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** One second of far-end audio whose every frame differs, looped. */
function ramp(frames: number): Uint8Array {
  const pcm = new Uint8Array(frames * 640);
  const view = new DataView(pcm.buffer);
  for (let i = 0; i < pcm.length / 2; i++) view.setInt16(2 * i, ((i * 37) % 20000) - 10000, true);
  return pcm;
}

async function startEmulator(options: Partial<MediaPlatformEmulatorOptions> = {}) {
  const emulator = await MediaPlatformEmulator.start({
    secret: SECRET,
    defaultSource: { kind: "pcm", pcm: ramp(50), loop: true },
    ...options,
  });
  cleanups.push(() => emulator.stop());
  return emulator;
}

async function connectClient(emulator: MediaPlatformEmulator) {
  const client = new BridgeClient({
    url: emulator.url,
    secret: SECRET,
    peer: "resume-test",
    logger: silentLogger(),
    pingIntervalMs: 0,
    reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
  });
  cleanups.push(() => client.close());
  const opened = once(client, "open");
  client.connect();
  await opened;
  return client;
}

interface Seen {
  session: number;
  sequence: number;
  timestampTicks: number;
  watermark: number;
}

function watch(client: BridgeClient): Seen[] {
  const seen: Seen[] = [];
  const pcm = new Uint8Array(640);
  client.on("frames", (reader: FrameBatchReader) => {
    while (reader.next()) {
      reader.copyPcm(pcm);
      seen.push({
        session: reader.session,
        sequence: reader.sequence,
        timestampTicks: reader.timestampTicks,
        watermark: readWatermark(pcm, 0),
      });
    }
  });
  return seen;
}

function renderFrames(client: BridgeClient, session: number, from: number, count: number): void {
  const writer = new FrameBatchWriter();
  const pcm = new Uint8Array(640);
  for (let i = from; i < from + count; i++) {
    pcm.fill(i & 0xff);
    writer.begin(1);
    writer.addFrame(session, RENDER, i, 0, pcm, 0, false);
    client.sendFrameBatch(writer.finish());
  }
}

const sameConfiguration = (info: SessionCreatedInfo) => ({ ...info, session: 0 });

describe("session resume on the media platform emulator", () => {
  it("defaults to the .NET host's grace period", () => {
    expect(DEFAULT_RECONNECT_GRACE_MS).toBe(5000);
  });

  it("keeps a lost connection's session and resumes it: same configuration, state first, audio and recording go on", async () => {
    const emulator = await startEmulator({ reconnectGraceMs: 3000 });
    const client = await connectClient(emulator);
    const first = await client.createSession({
      callId: "call-r",
      direction: "sendRecv",
      unmixedAudio: false,
    });
    const seen = watch(client);
    expect(await emulator.connectMedia(first.mediaSessionId, 2000)).toBe(true);
    emulator.setDominantSpeaker("call-r", 4242);
    await waitFor(() => seen.length >= 10);
    renderFrames(client, first.session, 1, 5);
    await waitFor(() => emulator.session("call-r")?.snapshot().framesPlayed === 5);

    const reconnected = once(client, "open");
    emulator.injectFault({ kind: "disconnect" });
    await once(client, "disconnected");
    // Counted once the old socket is gone: frames already in flight when the fault hit still land.
    const before = seen.length;
    const lastBefore = seen[before - 1] as Seen;
    await waitFor(() => emulator.stats().detachedSessions === 1);
    const kept = emulator.session("call-r");
    expect(kept?.snapshot()).toMatchObject({ attached: false, mediaConnected: true, sendActive: true });
    // The far end goes on while nobody listens; its state changes are remembered.
    emulator.setDominantSpeaker("call-r", 77);
    await reconnected;
    await sleep(150);
    expect(seen.length).toBe(before);

    const status = new Promise<{ session: number; active: boolean }>((resolve) =>
      client.once("sendStatus", resolve),
    );
    const dominant = new Promise<{ session: number; speakerId: number }>((resolve) =>
      client.once("dominantSpeaker", resolve),
    );
    const resumed = await client.createSession({
      callId: "call-r",
      mediaSessionId: first.mediaSessionId.toUpperCase(), // GUIDs compare case-blind
      direction: "sendRecv",
      unmixedAudio: false,
    });
    expect(resumed.session).not.toBe(first.session);
    expect(sameConfiguration(resumed)).toEqual(sameConfiguration(first));
    expect(await status).toEqual({ session: resumed.session, active: true });
    expect(await dominant).toEqual({ session: resumed.session, speakerId: 77 });
    expect(emulator.session(first.mediaSessionId)).toBe(kept);
    expect(emulator.stats()).toMatchObject({ detachedSessions: 0, sessionsResumed: 1, sessions: 1 });

    await waitFor(() => seen.length >= before + 10);
    expect(seen.slice(0, before).every((f) => f.session === first.session)).toBe(true);
    const after = seen.slice(before);
    expect(after.every((f) => f.session === resumed.session)).toBe(true);
    // Sequence numbers start again, as for a new session; the platform clock and the far
    // end's audio went on meanwhile (frames produced while detached were lost).
    expect(after.map((f) => f.sequence)).toEqual(after.map((_, i) => i + 1));
    const whileDetached = kept?.snapshot().framesWhileDetached ?? 0;
    expect(whileDetached).toBeGreaterThan(5);
    // A few frames can be lost on the dying socket besides those produced while detached.
    const skipped = (after[0] as Seen).watermark - lastBefore.watermark - 1;
    expect(skipped).toBeGreaterThanOrEqual(whileDetached);
    expect(skipped).toBeLessThanOrEqual(whileDetached + 5);
    // The platform clock: every frame's timestamp is its platform frame number's.
    for (const frame of seen) expect(frame.timestampTicks).toBe(frame.watermark * 200_000);

    renderFrames(client, resumed.session, 6, 5);
    await waitFor(() => kept?.snapshot().framesPlayed === 10);
    const recording = emulator.recording("call-r") as Buffer;
    expect(recording.length).toBe(10 * 640);
    for (let i = 0; i < 10; i++) expect(recording[i * 640]).toBe(i + 1);
    expect(kept?.snapshot().resumes).toBe(1);
  });

  it("refuses a request that names a kept session without matching it (DUPLICATE_SESSION)", async () => {
    const emulator = await startEmulator({ reconnectGraceMs: 3000 });
    const client = await connectClient(emulator);
    const first = await client.createSession({
      callId: "call-d",
      direction: "sendRecv",
      unmixedAudio: false,
    });
    const reconnected = once(client, "open");
    emulator.injectFault({ kind: "disconnect" });
    await reconnected;
    await waitFor(() => emulator.stats().detachedSessions === 1);
    const refused = async (request: Parameters<BridgeClient["createSession"]>[0]) => {
      const error = await client.createSession(request).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(BridgeRequestError);
      return error as BridgeRequestError;
    };
    const id = first.mediaSessionId;
    const otherCall = await refused({
      callId: "call-x",
      mediaSessionId: id,
      direction: "sendRecv",
      unmixedAudio: false,
    });
    expect(otherCall.code).toBe("DUPLICATE_SESSION");
    expect(otherCall.message).toContain("does not match");
    expect(
      (await refused({ callId: "call-d", mediaSessionId: id, direction: "recvOnly", unmixedAudio: false }))
        .code,
    ).toBe("DUPLICATE_SESSION");
    expect(
      (await refused({ callId: "call-d", mediaSessionId: id, direction: "sendRecv", unmixedAudio: true }))
        .code,
    ).toBe("DUPLICATE_SESSION");
    const sameCall = await refused({ callId: "call-d", direction: "sendRecv", unmixedAudio: false });
    expect(sameCall.code).toBe("DUPLICATE_SESSION");
    expect(sameCall.message).toContain(id);
    // The refusals did not disturb it: the matching request still resumes it.
    const resumed = await client.createSession({
      callId: "call-d",
      mediaSessionId: id,
      direction: "sendRecv",
      unmixedAudio: false,
    });
    expect(resumed.audioSourceContextId).toBe(first.audioSourceContextId);
  });

  it("a newer connection replaces the older one, whose sessions it can resume", async () => {
    const emulator = await startEmulator({ reconnectGraceMs: 3000 });
    const older = await connectClient(emulator);
    const first = await older.createSession({ callId: "call-n", direction: "sendRecv", unmixedAudio: false });
    const dropped = once(older, "disconnected");
    const newer = await connectClient(emulator);
    expect(String((await dropped)[0].reason)).toMatch(/1008/);
    await older.close();
    const resumed = await newer.createSession({
      callId: "call-n",
      mediaSessionId: first.mediaSessionId,
      direction: "sendRecv",
      unmixedAudio: false,
    });
    expect(sameConfiguration(resumed)).toEqual(sameConfiguration(first));
    expect(emulator.stats()).toMatchObject({ connections: 1, sessionsResumed: 1 });
  });

  it("ends a kept session once the grace period is over; the same ids then make a new session", async () => {
    const emulator = await startEmulator({ reconnectGraceMs: 200 });
    const client = await connectClient(emulator);
    const first = await client.createSession({
      callId: "call-e",
      direction: "sendRecv",
      unmixedAudio: false,
    });
    await emulator.connectMedia(first.mediaSessionId, 2000);
    const lost = Date.now();
    emulator.injectFault({ kind: "disconnect", refuseReconnectMs: 400 });
    await waitFor(() => emulator.stats().sessionsExpired === 1);
    expect(Date.now() - lost).toBeGreaterThanOrEqual(180);
    expect(emulator.session("call-e")).toBeUndefined();
    expect(emulator.stats()).toMatchObject({ detachedSessions: 0, sessions: 0 });
    expect(emulator.stats().upgradesRefused).toBeGreaterThan(0);
    await waitFor(() => client.isOpen);
    // As on the .NET host: nothing is kept, so this is a new platform session (new contexts),
    // whose media has not connected.
    const again = await client.createSession({
      callId: "call-e",
      mediaSessionId: first.mediaSessionId,
      direction: "sendRecv",
      unmixedAudio: false,
    });
    expect(again.mediaSessionId).toBe(first.mediaSessionId);
    expect(again.audioSourceContextId).not.toBe(first.audioSourceContextId);
    expect(emulator.session("call-e")?.mediaConnected).toBe(false);
  });

  it("with grace 0 a lost connection's sessions end at once", async () => {
    const emulator = await startEmulator({ reconnectGraceMs: 0 });
    const client = await connectClient(emulator);
    await client.createSession({ callId: "call-z", direction: "sendRecv", unmixedAudio: false });
    emulator.injectFault({ kind: "disconnect" });
    await waitFor(() => emulator.stats().connections === 0 || emulator.stats().sessions === 0);
    await waitFor(() => emulator.session("call-z") === undefined);
    expect(emulator.stats().detachedSessions).toBe(0);
  });
});

// ---- the media worker against the emulator -----------------------------------------------------

async function startWorker(emulator: MediaPlatformEmulator, graceMs: number) {
  const dir = await mkdtemp(join(tmpdir(), "resume-"));
  const provider = await BridgeMediaSessionProvider.start({
    bridge: { url: emulator.url, secret: SECRET, reconnectGraceMs: graceMs },
    media: { fqdn: "media.test", publicPort: 8445, unmixedAudio: false, recordingsDir: dir },
    handlers: [{ builtin: "echo" }, { builtin: "recorder" }],
    logger: silentLogger(),
    workerLogLevel: "silent",
    requestTimeoutMs: 2000,
  });
  const events: MediaSessionEvent[] = [];
  provider.onEvent((event) => {
    events.push(event);
    if (event.kind === "recordingStatusRequested")
      provider.recordingStatusUpdated(event.callId, event.status, true);
  });
  cleanups.push(async () => {
    await provider.close();
    await rm(dir, { recursive: true, force: true });
  });
  await provider.waitUntilConnected(3000);
  return { provider, events, dir };
}

/** Watermarks (platform frame numbers) of the non-silent frames of a worker's mixed.wav. */
async function recordedWatermarks(dir: string, callId: string): Promise<number[]> {
  const callDir = (await readdir(dir)).find((name) => name.startsWith(`${callId}-`));
  if (!callDir) throw new Error(`no recording of ${callId}`);
  const pcm = (await readFile(join(dir, callDir, "mixed.wav"))).subarray(44);
  const marks: number[] = [];
  for (let offset = 0; offset + 640 <= pcm.length; offset += 640) {
    const mark = readWatermark(pcm, offset);
    if (mark > 0) marks.push(mark);
  }
  return marks;
}

describe("session resume with the media worker", () => {
  it("the calls go on after a reconnect within the grace period, with .NET-style session numbers", async () => {
    // Numbered per connection: after the reconnect, call B gets number 1 (call A's, which
    // ended) and call C number 2 (B's old one). Routing by an old number would mix them up.
    const emulator = await startEmulator({ reconnectGraceMs: 3000, numberSessionsPerConnection: true });
    const { provider, events, dir } = await startWorker(emulator, 3000);
    const calls = ["echo-a", "echo-b", "echo-c"];
    const sessions = [];
    for (const callId of calls) {
      const session = await provider.createSession({ callId, direction: "sendRecv", unmixedAudio: false });
      // Recording starts once signaling reports the call established (as Graph would).
      provider.callEstablished(callId);
      expect(await emulator.connectMedia(session.mediaSessionId, 2000)).toBe(true);
      sessions.push(session);
    }
    await provider.closeSession("echo-a", "hang up");
    const numbersBefore = ["echo-b", "echo-c"].map((id) => emulator.session(id)?.session);
    expect(numbersBefore).toEqual([2, 3]);
    await waitFor(() =>
      ["echo-b", "echo-c"].every((id) => (emulator.session(id)?.snapshot().echo.count ?? 0) >= 10),
    );
    const echoedBefore = ["echo-b", "echo-c"].map((id) => emulator.session(id)?.snapshot().framesPlayed ?? 0);

    emulator.injectFault({ kind: "disconnect" });
    await waitFor(() => provider.unavailableReason() === "disconnected", 2000);
    await waitFor(() => emulator.stats().sessionsResumed === 2);
    expect(["echo-b", "echo-c"].map((id) => emulator.session(id)?.session)).toEqual(
      expect.arrayContaining([1, 2]),
    );
    for (const [i, id] of ["echo-b", "echo-c"].entries()) {
      const kept = emulator.session(id);
      expect(kept?.mediaSessionId).toBe(sessions[i + 1]?.mediaSessionId);
      // Both calls echo again: each one's audio reached its own call after the resume.
      await waitFor(() => (kept?.snapshot().framesPlayed ?? 0) >= (echoedBefore[i] ?? 0) + 25);
    }
    expect(events.filter((e) => e.kind === "sessionLost")).toEqual([]);
    expect(provider.unavailableReason()).toBeNull();

    await provider.closeSession("echo-b", "hang up");
    // The worker's recording is one file across the reconnect: platform frames only go up, with
    // one gap (the frames produced while nobody was connected).
    const marks = await recordedWatermarks(dir, "echo-b");
    let gaps = 0;
    for (let i = 1; i < marks.length; i++) {
      expect(marks[i]).toBeGreaterThan(marks[i - 1] as number);
      if ((marks[i] as number) - (marks[i - 1] as number) > 3) gaps++;
    }
    expect(gaps).toBe(1);
    const echoB = emulator.recording("echo-b") as Buffer;
    expect(echoB.length / 640).toBeGreaterThanOrEqual((echoedBefore[0] ?? 0) + 25);
  });

  it("after the grace period the host ends the session and the provider reports sessionLost", async () => {
    const emulator = await startEmulator({ reconnectGraceMs: 300 });
    const { provider, events } = await startWorker(emulator, 300);
    const session = await provider.createSession({
      callId: "echo-gone",
      direction: "sendRecv",
      unmixedAudio: false,
    });
    await emulator.connectMedia(session.mediaSessionId, 2000);
    await waitFor(() => (emulator.session("echo-gone")?.snapshot().framesPlayed ?? 0) > 5);
    const started = Date.now();
    emulator.injectFault({ kind: "disconnect", refuseReconnectMs: 1500 });
    const lost = await waitFor(() => events.find((e) => e.kind === "sessionLost"), 3000);
    expect(lost).toMatchObject({ kind: "sessionLost", callId: "echo-gone" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await waitFor(() => emulator.stats().sessionsExpired === 1, 2000);
    expect(emulator.session("echo-gone")).toBeUndefined();
    // What the bot rendered before the loss stays available.
    expect((emulator.recording("echo-gone")?.length ?? 0) / 640).toBeGreaterThan(5);
    // Once the host takes connections again, the worker is back, without the lost call.
    await waitFor(() => provider.unavailableReason() === null, 6000);
    expect(emulator.stats().sessions).toBe(0);
  });
});
