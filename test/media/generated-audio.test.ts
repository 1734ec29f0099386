/**
 * Generated audio longer than the playout queue, through the real media worker against the
 * media platform emulator (loopback): `play(pcm)` and `stream()` arrive complete at the far end,
 * sample for sample; `send()` of the same beep reports, counts and logs what it dropped.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { beep, framedBytes } from "./fixtures/beep.js";
import { sleep, waitFor } from "./wait-for.js";
import { startWorkerWithEmulator, type WorkerWithEmulator } from "./worker-with-emulator.js";

const SECRET = "generated-audio-secret-0123456789";

describe("generated audio of any length (media worker, emulator, loopback)", () => {
  let world: WorkerWithEmulator;
  const eventsPath = () => join(world.dir, "events.jsonl");
  const eventsOf = async (callId: string): Promise<Record<string, unknown>[]> => {
    const text = await readFile(eventsPath(), "utf8").catch(() => "");
    return text
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((event) => event.callId === callId);
  };

  beforeAll(async () => {
    world = await startWorkerWithEmulator(
      "generated-audio-handler.ts",
      (dir) => ({ eventsPath: join(dir, "events.jsonl") }),
      SECRET,
    );
  });
  afterAll(async () => {
    await world?.stop();
  });

  /** Starts a call, waits for the handler's mark, returns what the far end was played. */
  async function farEndOf(
    callId: string,
    timeoutMs: number,
    expectedFrames: number,
  ): Promise<{ played: Buffer; events: Record<string, unknown>[] }> {
    const { provider, emulator } = world;
    const session = await provider.createSession({ callId, direction: "sendRecv", unmixedAudio: false });
    expect(await emulator.connectMedia(session.mediaSessionId, 2000)).toBe(true);
    await waitFor(async () => (await eventsOf(callId)).some((e) => e.event === "mark"), timeoutMs);
    // The mark is reported when the last frame was handed to the bridge: give the far end time
    // to receive it (a busy machine can hold a batch back for a while), then a little longer so
    // that a frame too many would show.
    await waitFor(() => (emulator.recording(callId)?.length ?? 0) >= expectedFrames * 640, 5000).catch(
      () => undefined,
    );
    await sleep(100);
    const played = emulator.recording(callId) as Buffer;
    const stats = emulator.sessions().find((s) => s.callId === callId);
    expect(stats?.renderFramesDiscarded).toBe(0);
    await provider.closeSession(callId, "done");
    return { played, events: await eventsOf(callId) };
  }

  it("play(pcm) of a 300 ms beep and stream() of a 10 s beep arrive complete, in order", async () => {
    const [short, long] = await Promise.all([
      farEndOf("play-300", 5000, 15),
      farEndOf("stream-10000", 20_000, 500),
    ]);
    expect(short.played.equals(framedBytes(beep(300)))).toBe(true);
    expect(short.events).toContainEqual(
      expect.objectContaining({ event: "result", framesQueued: 15, completed: true }),
    );
    expect(short.events).toContainEqual(
      expect.objectContaining({ event: "mark", name: "done", played: true }),
    );
    expect(long.played.length).toBe(500 * 640);
    expect(long.played.equals(framedBytes(beep(10_000)))).toBe(true);
    expect(long.events).toContainEqual(
      expect.objectContaining({ event: "result", framesQueued: 500, completed: true }),
    );
    const dropped = /^media_frames_dropped_total\{reason="playout_overflow"\} (\d+)$/m.exec(
      await world.provider.metrics(),
    );
    expect(Number(dropped?.[1] ?? 0)).toBe(0);
  }, 30_000);

  it("send() of a 300 ms beep queues 10 frames, returns the 5 it dropped and counts them", async () => {
    const { played, events } = await farEndOf("send-300", 5000, 10);
    expect(events).toContainEqual(expect.objectContaining({ event: "send", dropped: 5 }));
    // The first 10 frames (the queue's bound) were played; the last 5 never were.
    expect(played.equals(framedBytes(beep(300)).subarray(0, 10 * 640))).toBe(true);
    const dropped = /^media_frames_dropped_total\{reason="playout_overflow"\} (\d+)$/m.exec(
      await world.provider.metrics(),
    );
    expect(Number(dropped?.[1])).toBe(5);
  });
});
