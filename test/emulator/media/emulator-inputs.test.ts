import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { FrameBatchReader } from "../../../src/bridge/frame-batch-reader.js";
import { EmulatedSession } from "../../../src/emulator/media/emulated-session.js";
import {
  MAX_OVERSIZED_FAULT_BYTES,
  MediaPlatformEmulator,
  type MediaPlatformEmulatorOptions,
} from "../../../src/emulator/media/media-platform-emulator.js";
import { openBridgeClient } from "../open-bridge-client.js";

const SECRET = "emulator-inputs-secret-0123456789";
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: Partial<MediaPlatformEmulatorOptions> = {}) {
  const emulator = await MediaPlatformEmulator.start({ secret: SECRET, ...options });
  cleanups.push(() => emulator.stop());
  const client = await openBridgeClient(emulator.url, SECRET, cleanups);
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${emulator.controlUrl}/control${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${SECRET}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as { error?: string } };
  };
  return { emulator, client, post };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("media emulator: default source and session creation failures", () => {
  it("refuses to start with a default WAV it cannot read, naming the file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "emu-bad-wav-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const missing = join(dir, "missing.wav");
    await expect(
      MediaPlatformEmulator.start({ secret: SECRET, defaultSource: { kind: "wav", path: missing } }),
    ).rejects.toThrow(`cannot read ${missing}: no such file`);
    const text = join(dir, "text.wav");
    writeFileSync(text, "not a wav file");
    await expect(
      MediaPlatformEmulator.start({ secret: SECRET, defaultSource: { kind: "wav", path: text } }),
    ).rejects.toThrow(/is not a RIFF\/WAVE file/);
    await expect(
      MediaPlatformEmulator.start({ secret: SECRET, defaultSource: { kind: "wav", path: dir } }),
    ).rejects.toThrow(/is not a regular file/);
    await expect(
      MediaPlatformEmulator.start({
        secret: SECRET,
        defaultSpeakers: [{ id: 1, source: { kind: "tone", frequencyHz: 9000 } }],
      }),
    ).rejects.toThrow(/tone frequency/);
  });

  it("answers a CreateSession it cannot serve with Error{PLATFORM_ERROR} and its request id, and goes on", async () => {
    const { emulator, client } = await setup();
    vi.spyOn(EmulatedSession.prototype, "setSpeakers").mockImplementationOnce(() => {
      throw new Error("speaker source exploded");
    });
    await expect(
      client.createSession({ callId: "bad", direction: "sendRecv", unmixedAudio: false }),
    ).rejects.toMatchObject({
      code: "PLATFORM_ERROR",
      message: expect.stringMatching(/speaker source exploded/),
    });
    const good = await client.createSession({ callId: "good", direction: "sendRecv", unmixedAudio: false });
    expect(emulator.session("good")?.session).toBe(good.session);
    expect(emulator.session("bad")).toBeUndefined();
  });

  it("refuses a CreateSession without a direction, as the .NET host does", async () => {
    const { emulator, client } = await setup();
    await expect(
      client.createSession({ callId: "nowhere", direction: "sideways" as never, unmixedAudio: false }),
    ).rejects.toMatchObject({ code: "BAD_MESSAGE", message: expect.stringMatching(/direction must be/) });
    expect(emulator.session("nowhere")).toBeUndefined();
  });
});

describe("media emulator control surface: inputs are checked, not coerced", () => {
  it("answers 404 for a route it does not have and 405 for a route's wrong method", async () => {
    const { emulator } = await setup();
    const status = async (method: string, path: string) =>
      (
        await fetch(`${emulator.controlUrl}/control${path}`, {
          method,
          headers: { authorization: `Bearer ${SECRET}`, "content-type": "application/json" },
          body: method === "GET" ? undefined : "{}",
        })
      ).status;
    expect(await status("GET", "/nosuch")).toBe(404);
    expect(await status("POST", "/nosuch")).toBe(404);
    expect(await status("POST", "/stats")).toBe(405);
    expect(await status("GET", "/health")).toBe(405);
    expect(await status("PUT", "/faults")).toBe(405);
    expect(await status("GET", "/stats")).toBe(200);
  });

  it("refuses values of the wrong type or out of range with 400 and the field's name", async () => {
    const { emulator, client, post } = await setup();
    const { session } = await client.createSession({
      callId: "c1",
      direction: "sendRecv",
      unmixedAudio: false,
    });
    const refused: [string, unknown, RegExp][] = [
      ["/connect-media", { mediaSessionId: "nope", timeoutMs: "abc" }, /timeoutMs must be a number of ms/],
      ["/connect-media", { mediaSessionId: "nope", timeoutMs: 1e12 }, /timeoutMs must be a number of ms/],
      ["/connect-media", { mediaSessionId: "nope", timeoutMs: -1 }, /timeoutMs/],
      ["/connect-media", { mediaSessionId: 5 }, /mediaSessionId must be a non-empty string/],
      [`/sessions/${session}/send-status`, { active: "false" }, /active must be true or false/],
      [`/sessions/${session}/pause`, { paused: "no" }, /paused must be true or false/],
      [`/sessions/${session}/dominant-speaker`, { speakerId: 2 ** 40 }, /speakerId must be an integer/],
      [`/sessions/${session}/dominant-speaker`, { speakerId: "7" }, /speakerId must be an integer/],
      [
        `/sessions/${session}/speakers`,
        { speakers: [{ id: 2 ** 33, source: { kind: "silence" } }] },
        /speakers\[0\]\.id must be an integer in \[0, 4294967295\]/,
      ],
      [`/sessions/${session}/speakers`, { speakers: [null] }, /speakers\[0\] must be an object/],
      [
        `/sessions/${session}/source`,
        { kind: "wav", path: "/x.wav", loop: "no" },
        /loop must be true or false/,
      ],
      [`/sessions/${session}/source`, { kind: "tone", frequencyHz: 9000 }, /frequencyHz/],
      [`/sessions/${session}/impairments`, { reorder: 0.6 }, /reorder must be a number in \[0, 0.5\]/],
      [`/sessions/${session}/impairments`, { loss: "0.1" }, /loss must be a number/],
      [`/sessions/${session}/impairments`, { lost: 0.1 }, /unknown impairment "lost"/],
      [`/sessions/${session}/impairments`, { toString: 0.1 }, /unknown impairment "toString"/],
      [`/sessions/${session}/end`, { reason: 42 }, /reason must be a non-empty string/],
      [
        "/faults",
        { kind: "oversized", bytes: 1e10 },
        /oversized bytes must be an integer in \[1, 67108864\]/,
      ],
      ["/faults", { kind: "oversized", bytes: -5 }, /oversized bytes/],
      ["/faults", { kind: "oversized", bytes: 1.5 }, /oversized bytes/],
    ];
    for (const [path, body, message] of refused) {
      const answer = await post(path, body);
      expect({ path, body, status: answer.status }).toEqual({ path, body, status: 400 });
      expect(answer.body.error).toMatch(message);
    }
    const state = emulator.session(session);
    expect({ sendActive: state?.sendActive, paused: state?.paused, speakers: state?.speakerIds }).toEqual({
      sendActive: false,
      paused: false,
      speakers: [],
    });
    expect(state?.dominantSpeaker).toBeUndefined();
    // The well-formed versions are accepted.
    expect((await post(`/sessions/${session}/send-status`, { active: true })).status).toBe(200);
    expect((await post(`/sessions/${session}/dominant-speaker`, { speakerId: 0xfffffffe })).status).toBe(200);
    expect(
      (
        await post(`/sessions/${session}/speakers`, {
          speakers: [{ id: 0xffffffff, source: { kind: "silence" } }],
        })
      ).status,
    ).toBe(200);
    expect(emulator.session(session)?.speakerIds).toEqual([0xffffffff]);
    expect(await post("/connect-media", { mediaSessionId: "nope", timeoutMs: 10 })).toEqual({
      status: 200,
      body: { connected: false },
    });
  });

  it("an oversized fault at the largest size is delivered; the emulator stays up", async () => {
    const { emulator, client, post } = await setup();
    const errors: { reason: string }[] = [];
    client.on("protocolError", (error: { reason: string }) => errors.push(error));
    const closed = once(client, "disconnected");
    expect((await post("/faults", { kind: "oversized", bytes: MAX_OVERSIZED_FAULT_BYTES })).status).toBe(200);
    // The worker refuses it (over its limit) or drops the connection (over ws's): either way it
    // noticed, and the emulator still answers.
    await Promise.race([
      closed,
      (async () => {
        while (errors.length === 0) await sleep(10);
      })(),
    ]);
    const stats = await fetch(`${emulator.controlUrl}/control/stats`, {
      headers: { authorization: `Bearer ${SECRET}` },
    });
    expect(stats.status).toBe(200);
  });
});

describe("media emulator: frames counted as sent only when sent", () => {
  it("a stall's frames count as dropped, and framesSent is what the worker received", async () => {
    const { emulator, client } = await setup({ autoConnectMediaMs: 0 });
    let received = 0;
    client.on("frames", (reader: FrameBatchReader) => {
      while (reader.next()) received++;
    });
    const { session } = await client.createSession({
      callId: "stall",
      direction: "sendRecv",
      unmixedAudio: false,
    });
    await sleep(200);
    emulator.injectFault({ kind: "stall", ms: 400 });
    await sleep(600);
    emulator.setPaused(session, true);
    await sleep(100);
    const stats = emulator.session(session)?.snapshot();
    expect(stats?.framesSent).toBe(received);
    expect(stats?.framesDropped).toBeGreaterThanOrEqual(15);
    expect(emulator.stats().batchesStalled).toBe(stats?.framesDropped);
  });
});
