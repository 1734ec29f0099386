/**
 * Issue 13 defect 11 end to end: a host that sends a frame twice (the second copy after the
 * first was handed on) gets it counted once under media_frames_dropped_total{reason="duplicate"},
 * not "late". The real media worker against a scripted host on loopback.
 */
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "./wait-for.js";
import { startWorkerOnScriptedHost } from "./worker-on-scripted-host.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function dropped(metrics: string, reason: string): number {
  const match = new RegExp(`media_frames_dropped_total\\{reason="${reason}"\\} (\\d+)`).exec(metrics);
  return Number(match?.[1] ?? Number.NaN);
}

describe("received frames sent twice", () => {
  it("are counted as duplicate, whether the first copy is still held or already handed on", async () => {
    const { host, provider, stop } = await startWorkerOnScriptedHost({
      secret: "duplicate-secret-0123",
      reconnectGraceMs: 2000,
    });
    cleanups.push(stop);
    const callId = "duplicates";
    await provider.createSession({ callId, direction: "sendRecv", unmixedAudio: false });
    // 0, 1 handed on; 1 again (already handed on); 3 held (2 missing); 3 again (still held);
    // then 2 fills the gap and 0 comes a second time, two frames back.
    const sequences = [0, 1, 1, 3, 3, 2, 0];
    host.sendFrames(
      callId,
      sequences.map((sequence) => ({ sequence, marker: 1000 + sequence })),
    );
    const metrics = await waitFor(async () => {
      const text = await provider.metrics();
      return dropped(text, "duplicate") + dropped(text, "late") >= 3 && text;
    }, 5000);
    expect(dropped(metrics, "duplicate")).toBe(3);
    expect(dropped(metrics, "late")).toBe(0);
  });
});
