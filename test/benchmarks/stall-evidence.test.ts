/**
 * bench:load's stall evidence correlation (load/stall-evidence.ts): which recorded stalls each
 * trim and each gap is matched with. Plain data in, counts out.
 */
import { describe, expect, it } from "vitest";
import type { FarEndStallEvidence } from "../../benchmarks/load/far-end-stalls.js";
import { floorsOf } from "../../benchmarks/load/memory-steps.js";
import {
  byChance,
  correlate,
  formatStallEvidence,
  TRIM_LOOKBACK_MS,
} from "../../benchmarks/load/stall-evidence.js";
import type { ThreadStalls } from "../../src/media/thread-stall-probe.js";
import type { WorkerStallEvidence } from "../../src/media/worker-stall-evidence.js";

const T0 = 1_800_000_000_000;

function thread(overrides: Partial<ThreadStalls> = {}): ThreadStalls {
  return {
    fromMs: T0,
    toMs: T0 + 5000,
    gc: [],
    gcOverflowed: 0,
    loopDelay: { samples: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 },
    loopStalls: [],
    loopStallsOverflowed: 0,
    stallThresholdMs: 5,
    onCpuMs: null,
    waitingMs: null,
    heapUsedBytes: 0,
    heapTotalBytes: 0,
    ...overrides,
  };
}

function worker(overrides: Partial<WorkerStallEvidence> = {}): WorkerStallEvidence {
  return {
    thread: thread(),
    trims: [],
    lateTicks: [],
    ticks: 250,
    maxTickLatenessMs: 1,
    skippedTicks: [],
    inputGaps: [],
    sendGaps: [],
    overflowed: 0,
    ...overrides,
  };
}

function farEnd(overrides: Partial<FarEndStallEvidence> = {}): FarEndStallEvidence {
  return {
    thread: thread(),
    ticks: 250,
    maxTickLatenessMs: 0,
    maxTickWorkMs: 0,
    lateTicks: [],
    slowTicks: [],
    skippedTicks: [],
    renderBatches: 250,
    renderBatchGaps: [],
    renderBatchSendGaps: [],
    sourceBatches: 750,
    sourceBatchGaps: [],
    sourceBatchesBehind: [],
    slowTransitBatches: 0,
    maxRenderBatchTransitMs: 0,
    overflowed: 0,
    ...overrides,
  };
}

describe("stall evidence correlation", () => {
  it("attributes an input gap to the side stalled across it, and a trim to the gap two windows before it", () => {
    // Gap 1 (1000-1040): the far end's tick was 35 ms late. Gap 2 (3000-3035): a worker GC.
    const w = worker({
      thread: thread({ gc: [{ kind: "minor", atMs: T0 + 3005, durationMs: 25 }] }),
      inputGaps: [
        [T0 + 1040, 40],
        [T0 + 3035, 35],
        // Inside trim 2's own window: a burst there cannot be what trim 2 cut.
        [T0 + 4750, 30],
      ],
      // Trim 1: 350 ms after gap 1 (its backlog stood a window). Trim 2: no gap before its window.
      trims: [
        [T0 + 1390, 1000],
        [T0 + 4800, 200],
      ],
    });
    const far = farEnd({ lateTicks: [[T0 + 1038, 35]] });
    const r = correlate(w, thread(), far);

    expect(r.workerInputGaps.events).toBe(3);
    expect(r.inputGapSides).toMatchObject({ farEndOnly: 1, workerOnly: 1, both: 0, neither: 1, workerGc: 1 });
    expect(r.trims.events).toBe(2);
    expect(r.trimFrames).toBe(1200);
    expect(r.trimCauses).toEqual({
      afterFarEndGap: 1,
      afterWorkerGap: 0,
      afterBothGap: 0,
      afterUnexplainedGap: 0,
      noInputGap: 1,
      lookBackBeforeRecording: 0,
    });
    // The far end's late tick is within the lookback of trim 1, not of trim 2.
    expect(r.trimDetail[0]?.nearest.farEndLateTick).toBeLessThan(0);
    expect(r.trimDetail[0]?.nearest.farEndLateTick).toBeGreaterThan(-TRIM_LOOKBACK_MS);
    expect(r.trimDetail[1]?.nearest.workerInputGap).toBeUndefined();
    expect(r.trims.unexplained).toBe(1);
    expect(r.trimDetail[0]?.atMs).toBe(1390);
  });

  it("counts trims and gaps from the window's start, with causes recorded before it", () => {
    const w = worker({
      inputGaps: [[T0 + 960, 30]],
      trims: [
        [T0 + 950, 500],
        [T0 + 1300, 700],
      ],
    });
    const far = farEnd({ lateTicks: [[T0 + 958, 28]] });
    const r = correlate(w, thread(), far, T0 + 1000);
    expect(r.recordedFromMs).toBe(T0);
    expect(r.fromMs).toBe(T0 + 1000);
    expect(r.trims.events).toBe(1);
    expect(r.trimFrames).toBe(700);
    expect(r.workerInputGaps.events).toBe(0);
    expect(r.trimCauses).toMatchObject({ afterFarEndGap: 1, noInputGap: 0, lookBackBeforeRecording: 0 });
    expect(r.trimDetail[0]?.atMs).toBe(300);
  });

  it("tells a far end that sent late from one whose socket held its bytes (the worker not reading)", () => {
    const w = worker({
      inputGaps: [
        [T0 + 1030, 30],
        [T0 + 2030, 30],
      ],
    });
    // Gap 1: the far end's own sends were 30 ms apart. Gap 2: it sent on time into a full socket.
    const far = farEnd({ sourceBatchGaps: [[T0 + 1028, 29]], sourceBatchesBehind: [[T0 + 2010, 65_000]] });
    const r = correlate(w, thread(), far);
    expect(r.inputGapSides).toMatchObject({ farEndOnly: 1, workerOnly: 1, both: 0, neither: 0 });
    expect(r.workerInputGaps.near).toMatchObject({ farEndSourceGap: 1, farEndSocketBehind: 1 });
  });

  it("tells a loop stall spent waiting for a CPU from one spent running and one blocked", () => {
    const main = thread({
      loopStalls: [
        // Runnable, not running: scheduling.
        { atMs: T0 + 500, lateMs: 20, periodMs: 30, waitingMs: 18, onCpuMs: 1 },
        // Running: its own work or a GC.
        { atMs: T0 + 2500, lateMs: 20, periodMs: 30, waitingMs: 0, onCpuMs: 28 },
        // Neither: blocked (e.g. a scavenge waiting for its helper threads).
        { atMs: T0 + 4000, lateMs: 100, periodMs: 110, waitingMs: 0, onCpuMs: 10 },
      ],
    });
    const far = farEnd({
      renderBatchGaps: [
        [T0 + 510, 30],
        [T0 + 2510, 30],
        [T0 + 4010, 110],
      ],
      renderBatchSendGaps: [20, 20, 20],
    });
    const r = correlate(worker(), main, far);
    expect(r.farEndGaps.events).toBe(3);
    expect(r.farEndGaps.near.mainLoopStall).toBe(3);
    expect(r.farEndGaps.near.mainWaitingForCpu).toBe(1);
    expect(r.farEndGaps.near.mainBlocked).toBe(1);
    expect(formatStallEvidence(r)).toContain(
      "loop stalls > 5 ms: 3 (mostly waiting for a CPU: 1, blocked off a CPU: 1, running: 1)",
    );
    // A far-end gap is not matched with itself.
    expect(r.farEndGaps.near.farEndRenderBatchGap).toBeUndefined();
  });
});

describe("the chance control", () => {
  it("is the share of evenly spaced times the span matches with each kind", () => {
    // A GC over a tenth of a 1 s window; a point span sees it a tenth of the time, a span 100 ms
    // wide (before) a fifth.
    const causes = [{ kind: "workerGc" as const, fromMs: 500, toMs: 600 }];
    expect(byChance(causes, 0, 1000, { beforeMs: 0, afterMs: 0 }).workerGc).toBeCloseTo(0.1, 2);
    expect(byChance(causes, 0, 1000, { beforeMs: 100, afterMs: 0 }).workerGc).toBeCloseTo(0.2, 2);
    expect(byChance(causes, 0, 1000, { beforeMs: 0, afterMs: 0, exclude: "workerGc" })).toEqual({});
  });
});

describe("heap floors", () => {
  it("takes the smallest point of each group, the last partial group included", () => {
    const points = [5, 3, 4, 9, 8, 7, 1].map((value, t) => ({ t, value }));
    expect(floorsOf(points, 3)).toEqual([
      { t: 1, value: 3 },
      { t: 5, value: 7 },
      { t: 6, value: 1 },
    ]);
  });
});
