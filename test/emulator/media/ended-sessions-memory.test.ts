import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, describe, expect, it } from "vitest";
import type { BridgeClient } from "../../../src/bridge/bridge-client.js";
import { FrameBatchWriter } from "../../../src/bridge/frame-batch-writer.js";
import { v1 } from "../../../src/bridge/protocol.js";
import {
  DEFAULT_KEPT_RECORDINGS,
  MediaPlatformEmulator,
  type MediaPlatformEmulatorOptions,
} from "../../../src/emulator/media/media-platform-emulator.js";
import { sleep, waitFor } from "../../media/wait-for.js";
import { openBridgeClient } from "../open-bridge-client.js";

const SECRET = "emulator-memory-secret-0123456789";
const RENDER = v1.MediaContext.MEDIA_CONTEXT_AUDIO_RENDER;
const FRAME = 640;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: Partial<MediaPlatformEmulatorOptions> = {}) {
  const emulator = await MediaPlatformEmulator.start({ secret: SECRET, autoConnectMediaMs: 0, ...options });
  cleanups.push(() => emulator.stop());
  const client = await openBridgeClient(emulator.url, SECRET, cleanups);
  return { emulator, client };
}

/** Calls that each get `frames` render frames (frame i of call c filled with c), played out, then ended in order. */
async function playAndEnd(
  emulator: MediaPlatformEmulator,
  client: BridgeClient,
  calls: number,
  frames: number,
): Promise<void> {
  const created: { session: number }[] = [];
  for (let c = 0; c < calls; c++)
    created.push(
      await client.createSession({ callId: `call-${c}`, direction: "sendRecv", unmixedAudio: false }),
    );
  await waitFor(() => created.every((s) => emulator.session(s.session)?.sendActive));
  const writer = new FrameBatchWriter();
  writer.begin(1);
  for (const [c, s] of created.entries()) {
    for (let i = 0; i < frames; i++)
      writer.addFrame(s.session, RENDER, i + 1, 0, new Uint8Array(FRAME).fill(c), 0, false);
  }
  client.sendFrameBatch(writer.finish());
  await waitFor(() => created.every((s) => emulator.session(s.session)?.snapshot().framesPlayed === frames));
  for (const s of created) await client.closeSession(s.session, "hang up");
}

describe("the media emulator's memory for ended sessions", () => {
  it("keeps the recordings of the most recently ended calls only, within a count and a byte bound", async () => {
    const { emulator, client } = await setup({ keptRecordings: 3 });
    await playAndEnd(emulator, client, 5, 10);

    expect(emulator.stats()).toMatchObject({
      sessions: 0,
      recordingsKept: 3,
      recordingsKeptBytes: 3 * 10 * FRAME,
      recordingsEvicted: 2,
    });
    // The oldest went first; the recent ones are served whole, through the control route too.
    expect(emulator.recording("call-0")).toBeUndefined();
    expect(emulator.recording("call-1")).toBeUndefined();
    for (const c of [2, 3, 4]) expect(emulator.recording(`call-${c}`)).toEqual(Buffer.alloc(10 * FRAME, c));
    const headers = { authorization: `Bearer ${SECRET}` };
    const gone = await fetch(`${emulator.controlUrl}/control/sessions/call-0/recording.wav`, { headers });
    expect(gone.status).toBe(404);
    expect(((await gone.json()) as { error: string }).error).toMatch(/no longer kept/);
    const kept = await fetch(`${emulator.controlUrl}/control/sessions/call-4/recording.wav`, { headers });
    expect(kept.status).toBe(200);
    expect((await kept.arrayBuffer()).byteLength).toBe(44 + 10 * FRAME);
  });

  it("lets go of the oldest recordings when their bytes pass the bound", async () => {
    const { emulator, client } = await setup({ keptRecordingBytes: 25 * FRAME });
    await playAndEnd(emulator, client, 4, 10);
    expect(emulator.stats()).toMatchObject({
      recordingsKept: 2,
      recordingsKeptBytes: 20 * FRAME,
      recordingsEvicted: 2,
    });
    expect(emulator.recording("call-3")).toEqual(Buffer.alloc(10 * FRAME, 3));
  });

  it("holds at most DEFAULT_KEPT_RECORDINGS ended calls by default, however many end", async () => {
    const { emulator, client } = await setup();
    for (let c = 0; c < DEFAULT_KEPT_RECORDINGS + 20; c++) {
      const s = await client.createSession({
        callId: `short-${c}`,
        direction: "sendRecv",
        unmixedAudio: false,
      });
      await client.closeSession(s.session, "hang up");
    }
    expect(emulator.stats()).toMatchObject({
      recordingsKept: DEFAULT_KEPT_RECORDINGS,
      recordingsEvicted: 20,
    });
    expect(emulator.recording(`short-${DEFAULT_KEPT_RECORDINGS + 19}`)).toBeDefined();
    expect(emulator.recording("short-0")).toBeUndefined();
  });

  it("does not hold an ended session (and what it recorded) while its connection lives on", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const { emulator, client } = await setup();
    // The one ending comes second in each tick's batch: a later tick with one frame fewer leaves its slot.
    await client.createSession({ callId: "still-up", direction: "sendRecv", unmixedAudio: false });
    const created = await client.createSession({
      callId: "ended",
      direction: "sendRecv",
      unmixedAudio: false,
    });
    // Its far end sends frames: the connection's frame ledger records the session for each.
    await waitFor(() => (emulator.session("ended")?.snapshot().framesSent ?? 0) > 3);
    const ended = new WeakRef(emulator.session("ended") as object);
    await client.closeSession(created.session, "hang up");
    // Ticks go on for the other session, with fewer frames than before.
    await sleep(100);
    gc();
    await sleep(0);
    gc();
    expect(ended.deref()).toBeUndefined();
    expect(emulator.session("still-up")).toBeDefined();
  });
});
