/**
 * The media worker's stall evidence (bench:load --stall-evidence): recorded only between
 * start() and stop(), through the metrics the media path already updates, which count as
 * before while it records and are themselves again after it.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MediaPlatformEmulator } from "../../src/emulator/media/media-platform-emulator.js";
import { silentLogger } from "../../src/log/logger.js";
import { BridgeMediaSessionProvider } from "../../src/media/bridge-media-session-provider.js";
import { epochMs, TimedEvents } from "../../src/media/timed-events.js";
import { WorkerStallRecorder } from "../../src/media/worker-stall-evidence.js";
import { createMediaMetrics } from "../../src/metrics/media-metrics.js";
import { parseExposition } from "../../src/metrics/prometheus-text.js";
import { createRegistry } from "../../src/metrics/registry.js";
import { tone } from "./frame-helpers.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function counterOf(registry: ReturnType<typeof createRegistry>, name: string): Promise<number> {
  return parseExposition(await registry.metrics()).get(name) ?? 0;
}

describe("TimedEvents", () => {
  it("keeps the first `capacity` events, counts the rest, and merges close ones on request", () => {
    const events = new TimedEvents(2);
    events.addMerged(100, 3, 2);
    events.addMerged(101.5, 4, 2);
    events.addMerged(110, 1, 2);
    events.add(120, 1);
    expect(events.toPairs()).toEqual([
      [100, 7],
      [110, 1],
    ]);
    expect(events.overflowed).toBe(1);
  });
});

describe("WorkerStallRecorder", () => {
  it("records trims, late ticks, skipped ticks and batch gaps only while started; the metrics count throughout", async () => {
    const registry = createRegistry();
    const metrics = createMediaMetrics(registry);
    const trim = metrics.dropped.latency_trim;
    const methods = () => [
      metrics.renderLateness.observeUnits,
      metrics.framesReceived.inc,
      metrics.framesSent.inc,
      metrics.pacerSkippedTicks.inc,
    ];
    const original = methods();
    const recorder = new WorkerStallRecorder(metrics);
    expect(recorder.stop()).toBeNull();

    recorder.start();
    const from = epochMs();
    metrics.dropped.latency_trim.inc(3);
    metrics.dropped.latency_trim.inc(2); // the same tick: one event of 5 frames
    metrics.renderLateness.observeUnits(700);
    metrics.renderLateness.observeUnits(12_000);
    metrics.pacerSkippedTicks.inc(4);
    metrics.framesReceived.inc(10);
    metrics.framesSent.inc(10);
    // Sleeping only lengthens the gap: > 25 ms however busy the machine is.
    await sleep(40);
    metrics.framesReceived.inc(10);
    metrics.framesSent.inc(10);
    const evidence = recorder.stop();

    expect(evidence).not.toBeNull();
    if (!evidence) return;
    expect(evidence.trims).toHaveLength(1);
    expect(evidence.trims[0]?.[1]).toBe(5);
    expect(evidence.trims[0]?.[0]).toBeGreaterThanOrEqual(Math.floor(from));
    expect(evidence.ticks).toBe(2);
    expect(evidence.maxTickLatenessMs).toBe(12);
    expect(evidence.lateTicks.map(([, ms]) => ms)).toEqual([12]);
    expect(evidence.skippedTicks.map(([, ticks]) => ticks)).toEqual([4]);
    expect(evidence.inputGaps).toHaveLength(1);
    expect(evidence.inputGaps[0]?.[1]).toBeGreaterThanOrEqual(25);
    expect(evidence.sendGaps).toHaveLength(1);
    expect(evidence.thread.loopDelay.samples).toBeGreaterThanOrEqual(0);

    // The metrics counted every call, and are their own objects and methods again.
    expect(await counterOf(registry, 'media_frames_dropped_total{reason="latency_trim"}')).toBe(5);
    expect(await counterOf(registry, "media_frames_received_total")).toBe(20);
    expect(await counterOf(registry, "media_pacer_skipped_ticks_total")).toBe(4);
    expect(metrics.dropped.latency_trim).toBe(trim);
    expect(methods()).toEqual(original);
    expect(Object.hasOwn(metrics.renderLateness, "observeUnits")).toBe(false);

    // Not started: nothing is recorded.
    metrics.dropped.latency_trim.inc(1);
    recorder.start();
    const empty = recorder.stop();
    expect(empty?.trims).toEqual([]);
    expect(empty?.ticks).toBe(0);
  });

  it("is reached through the provider: the real worker thread records its ticks, GCs and loop delay", async () => {
    const secret = "0123456789abcdef-stall-evidence";
    const dir = await mkdtemp(join(tmpdir(), "stall-evidence-"));
    const emulator = await MediaPlatformEmulator.start({
      secret,
      defaultSource: { kind: "pcm", pcm: tone(50, 3), loop: true },
    });
    const provider = await BridgeMediaSessionProvider.start({
      bridge: { url: emulator.url, secret, reconnectGraceMs: 2000 },
      media: { fqdn: "media.test", publicPort: 8445, unmixedAudio: false, recordingsDir: dir },
      handlers: [{ builtin: "echo" }],
      logger: silentLogger(),
      workerLogLevel: "silent",
    });
    try {
      await provider.waitUntilConnected(3000);
      const session = await provider.createSession({
        callId: randomUUID(),
        direction: "sendRecv",
        unmixedAudio: false,
      });
      expect(await emulator.connectMedia(session.mediaSessionId, 3000)).toBe(true);
      expect(await provider.stallEvidence("stop")).toBeNull();
      // The far end's side: the emulator tells its observer about its ticks and the render batches.
      const ticks: number[] = [];
      const batches: { sentAtUs: number; frames: number; receivedMs: number }[] = [];
      const sources: number[] = [];
      const played: number[] = [];
      emulator.timingObserver = {
        tick: (_startMs, latenessMs) => ticks.push(latenessMs),
        renderBatch: (receivedMs, sentAtUs, frames) => batches.push({ receivedMs, sentAtUs, frames }),
        sourceBatch: (sentMs) => sources.push(sentMs),
        renderFramePlayed: (waitUs) => played.push(waitUs),
      };
      await provider.stallEvidence("start");
      const before = epochMs();
      await sleep(300);
      const evidence = await provider.stallEvidence("stop");
      expect(evidence).not.toBeNull();
      if (!evidence) return;
      // The worker's render ticks ran while it recorded (every 20 ms; a few at least).
      expect(evidence.ticks).toBeGreaterThan(3);
      expect(evidence.thread.fromMs).toBeLessThanOrEqual(before + 1);
      expect(evidence.thread.toMs).toBeGreaterThan(evidence.thread.fromMs);
      expect(evidence.thread.heapUsedBytes).toBeGreaterThan(0);
      for (const gc of evidence.thread.gc) expect(gc.durationMs).toBeGreaterThanOrEqual(0);
      emulator.timingObserver = null;
      expect(ticks.length).toBeGreaterThan(3);
      expect(batches.length).toBeGreaterThan(3);
      expect(sources.length).toBeGreaterThan(3);
      // The echo's frames were played, each after a wait in the render queue (under a second).
      expect(played.length).toBeGreaterThan(3);
      for (const waitUs of played) {
        expect(waitUs).toBeGreaterThanOrEqual(0);
        expect(waitUs).toBeLessThan(1e6);
      }
      for (const batch of batches) {
        expect(batch.frames).toBe(1);
        // sent_at_us is the worker's clock reading (epoch µs), before the far end read it.
        expect(batch.sentAtUs / 1000).toBeLessThanOrEqual(performance.timeOrigin + batch.receivedMs + 1);
        expect(batch.sentAtUs / 1000).toBeGreaterThan(before - 1000);
      }
    } finally {
      await provider.close();
      await emulator.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
