/**
 * Issue 13 defect 8: after a media host outage, the echo rendered audio received before it.
 * The real media worker (its provider, the built-in echo) against a scripted host on loopback
 * that cuts the connection without a close frame, refuses reconnects for a second, then
 * accepts the resume: live audio queued before the cut must not be rendered after it.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { HandlerSpec } from "../../src/media/bot-api.js";
import { pcm16kWavHeader } from "../../src/media/wav-writer.js";
import { markedPcm, markerOf } from "./scripted-media-host.js";
import { sleep, waitFor } from "./wait-for.js";
import { startWorkerOnScriptedHost, type WorkerOnScriptedHost } from "./worker-on-scripted-host.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Marker ranges of the far end's frames: before the burst, the burst, after the resume. */
const TALK = 1000;
const BURST = 2000;
const FRESH = 3000;

const PROMPT = 5000;

async function start(handlers: (dir: string) => Promise<HandlerSpec[]>): Promise<WorkerOnScriptedHost> {
  const worker = await startWorkerOnScriptedHost({
    secret: "stale-audio-secret-0123",
    reconnectGraceMs: 10_000,
    handlers,
    // A fixed live target of 2 frames: the queue keeps up to 2 live frames standing.
    adaptiveLiveTarget: false,
  });
  cleanups.push(worker.stop);
  return worker;
}

describe("live audio across a media host outage", () => {
  it("renders no live audio queued before a cut without a close frame once the session is resumed", async () => {
    const { host, provider } = await start(async () => [{ builtin: "echo" }]);
    const callId = "stale-echo";
    await provider.createSession({ callId, direction: "sendRecv", unmixedAudio: false });
    host.sendStatus(callId, true);
    let sequence = 0;
    // The far end talks: one frame per 20 ms, echoed back.
    for (let i = 0; i < 10; i++) {
      host.sendFrames(callId, [{ sequence, marker: TALK + sequence }]);
      sequence++;
      await sleep(20);
    }
    await waitFor(() => host.rendered.some((f) => markerOf(f.pcm) >= TALK), 5000);
    // A burst (a host catching up after a hiccup) fills the echo's queue; the host is cut
    // while the echo is still sending it (the live trim leaves the target's 2 frames standing).
    const burst = Array.from({ length: 9 }, (_, i) => ({ sequence: sequence + i, marker: BURST + i }));
    sequence += burst.length;
    host.sendFrames(callId, burst);
    await waitFor(() => host.rendered.some((f) => markerOf(f.pcm) >= BURST), 5000);
    const cutAt = performance.now();
    const resumed = host.resumed();
    host.cut(1000);
    await waitFor(() => provider.unavailableReason() === "disconnected", 5000);
    await resumed;
    const outageMs = performance.now() - cutAt;
    host.sendStatus(callId, true);
    // The resumed session's sequence numbers start over.
    for (let i = 0; i < 15; i++) {
      host.sendFrames(callId, [{ sequence: i, marker: FRESH + i }]);
      await sleep(20);
    }
    await waitFor(() => host.rendered.some((f) => f.connection > 1 && markerOf(f.pcm) >= FRESH), 5000);
    const afterResume = host.rendered.filter((f) => f.connection > 1).map((f) => markerOf(f.pcm));
    expect(outageMs).toBeGreaterThan(900);
    // Only audio the far end sent after the resume: nothing from before the outage.
    expect(afterResume.filter((marker) => marker < FRESH)).toEqual([]);
    expect(afterResume[0]).toBeGreaterThanOrEqual(FRESH);
    expect(await provider.metrics()).toMatch(/media_frames_dropped_total\{reason="latency_trim"\} [1-9]/);
  });

  it("resumes a prompt paused by the outage where it stopped: buffered audio is not dropped for its age", async () => {
    const frames = 150; // 3 s
    const { host, provider } = await start(async (dir) => {
      const pcm = Buffer.concat(Array.from({ length: frames }, (_, i) => markedPcm(PROMPT + i)));
      const wavPath = join(dir, "prompt.wav");
      await writeFile(wavPath, Buffer.concat([pcm16kWavHeader(pcm.length), pcm]));
      return [{ builtin: "player", options: { wavPath } }];
    });
    const callId = "stale-prompt";
    await provider.createSession({ callId, direction: "sendRecv", unmixedAudio: false });
    host.sendStatus(callId, true);
    await waitFor(() => host.rendered.some((f) => markerOf(f.pcm) >= PROMPT + 10), 5000);
    const resumed = host.resumed();
    host.cut(1000);
    await resumed;
    host.sendStatus(callId, true);
    await waitFor(() => host.rendered.some((f) => markerOf(f.pcm) === PROMPT + frames - 1), 10_000);
    const before = host.rendered.filter((f) => f.connection === 1).map((f) => markerOf(f.pcm) - PROMPT);
    const after = host.rendered.filter((f) => f.connection > 1).map((f) => markerOf(f.pcm) - PROMPT);
    const last = before[before.length - 1] as number;
    expect(before).toEqual(Array.from({ length: before.length }, (_, i) => i));
    // Only the frames sent into the dying connection are lost (the host drops its queued render
    // audio): the rest of the prompt follows, in order, to its end.
    const first = after[0] as number;
    expect(first).toBeGreaterThan(last);
    expect(first - last).toBeLessThan(25);
    expect(after).toEqual(Array.from({ length: frames - first }, (_, i) => first + i));
  });
});
