/**
 * Issue 17 finding: the worker stamped FrameBatch.sent_at_us with the tick's scheduled deadline
 * (exactly 20,000 µs apart, even for batches that left late), while the .proto says it is the
 * sender's clock when the batch is written to its connection. The real media worker playing a
 * prompt to a scripted host on loopback: its stamps are clock readings taken at send time.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { pcm16kWavHeader } from "../../src/media/wav-writer.js";
import { markedPcm } from "./scripted-media-host.js";
import { waitFor } from "./wait-for.js";
import { startWorkerOnScriptedHost } from "./worker-on-scripted-host.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("FrameBatch.sent_at_us of the worker's render batches", () => {
  it("is the clock when the batch was sent, not the tick's deadline", async () => {
    const { host, provider, stop } = await startWorkerOnScriptedHost({
      secret: "sent-at-secret-0123456",
      reconnectGraceMs: 2000,
      handlers: async (dir) => {
        const pcm = Buffer.concat(Array.from({ length: 150 }, (_, i) => markedPcm(1000 + i)));
        const wavPath = join(dir, "prompt.wav");
        await writeFile(wavPath, Buffer.concat([pcm16kWavHeader(pcm.length), pcm]));
        return [{ builtin: "player", options: { wavPath } }];
      },
    });
    cleanups.push(stop);
    const callId = "sent-at";
    await provider.createSession({ callId, direction: "sendRecv", unmixedAudio: false });
    host.sendStatus(callId, true);
    await waitFor(() => host.batches.length >= 101, 10_000);
    const batches = host.batches.slice(0, 101);
    for (const { sentAtUs, receivedAtUs } of batches) {
      expect(sentAtUs).toBeGreaterThan(0);
      // Both clocks are this machine's: a batch cannot arrive before it was sent.
      expect(receivedAtUs).toBeGreaterThanOrEqual(sentAtUs);
    }
    // A schedule advances by exactly one tick (20,000 µs) from batch to batch; clock readings
    // at send time almost never do (timer jitter is far above a microsecond).
    const exactTicks = batches
      .slice(1)
      .filter((batch, i) => batch.sentAtUs - (batches[i] as { sentAtUs: number }).sentAtUs === 20_000).length;
    expect(exactTicks).toBeLessThan(50);
  }, 30_000);
});
