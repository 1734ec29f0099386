/**
 * bench:load's result object from its runs (no sockets): which JSON + base64 layout the goal is
 * judged on, the shared socket's figures beside it, "all goals" leaving informative ones out, and
 * the idle rate taken as the median of its slices.
 */
import { describe, expect, it } from "vitest";
import { medianRatePerSecond } from "../../benchmarks/load/cpu.js";
import type { JsonLayout } from "../../benchmarks/load/far-end-messages.js";
import { allGoalsMet, buildResult, ratePercentOf } from "../../benchmarks/load/load-result.js";
import { jsonLayoutsOf, loadHardLimitSeconds, loadRunSeconds } from "../../benchmarks/load/run-estimate.js";
import {
  type BaselineRun,
  type CpuFigures,
  framesInCpuWindow,
  type WorkerRun,
} from "../../benchmarks/load/runs.js";

const farEnd = {
  framesSent: 1000,
  framesReceived: 1000,
  framesDropped: 0,
  dropDetail: {},
  skippedTicks: 0,
  echoRoundTrip: { count: 1000, p50Ms: 20, p99Ms: 30, maxMs: 40 },
  cpuUs: 1000,
  wallMs: 1000,
};

function cpu(cpuUsPerFrame: number | null): CpuFigures {
  return {
    processCpuUs: 0,
    idleCpuUs: 0,
    wallMs: 1000,
    framesHandled: 2000,
    framesCounted: 2000,
    framesCountedOverMs: 1000,
    cpuUsPerFrame,
    coreShare: 0.1,
  };
}

function worker(cpuUsPerFrame: number | null): WorkerRun {
  const buckets = { count: 10, p50Ms: 0.1, p99Ms: 1, maxMs: 1 };
  return {
    livePlayoutTargetFrames: 2,
    adaptiveLiveTarget: true,
    cpu: cpu(cpuUsPerFrame),
    workerThreadCpuUsPerFrame: null,
    farEnd,
    workerFramesReceived: 1000,
    workerFramesSent: 1000,
    workerDrops: {},
    bridgeSendDrops: {},
    pacerSkippedTicks: 0,
    framesConcealed: 0,
    transit: buckets,
    lateness: buckets,
    bridgeBatchTransit: buckets,
    playoutQueueDepth: { p50Frames: 1, p99Frames: 2 },
    probe: null,
  };
}

function baseline(kind: BaselineRun["kind"], layout: JsonLayout, cpuUsPerFrame: number | null): BaselineRun {
  const sockets = kind === "jsonBase64" && layout === "perCall" ? 1000 : 1;
  return { kind, layout, sockets, connectMs: 5, cpu: cpu(cpuUsPerFrame), farEnd, botFramesDropped: 0 };
}

describe("bench:load result", () => {
  const floor = baseline("floor", "shared", 4);
  const protocolEcho = baseline("protocolEcho", "shared", 2);

  it("judges the JSON + base64 goal on a socket per call and shows the shared socket beside it", () => {
    const perCall = baseline("jsonBase64", "perCall", 20);
    const shared = baseline("jsonBase64", "shared", 12);
    const r = buildResult(1000, 8, worker(5), {
      floor,
      protocolEcho,
      jsonPerCall: perCall,
      jsonShared: shared,
    });
    expect(r).toMatchObject({
      jsonBase64CpuUsPerFrame: 20,
      jsonBase64Layout: "perCall",
      jsonBase64OverWorker: 4,
      jsonBase64SharedCpuUsPerFrame: 12,
      jsonBase64SharedOverWorker: 2.4,
      workerOverFloor: 1.25,
      // The worker's ratio to the floor splits into the protocol's and the engine's.
      protocolEchoCpuUsPerFrame: 2,
      protocolEchoOverFloor: 0.5,
      workerOverProtocolEcho: 2.5,
    });
    expect(r.protocolEcho).toBe(protocolEcho);
    expect(r.jsonBase64).toBe(perCall);
    expect(r.jsonBase64Shared).toBe(shared);
    // 2000 frames handled of 1000 calls × 50/s × 2 ways over the CPU window's 1 s of wall time.
    expect(r.ratePercent).toEqual({
      worker: 2,
      floor: 2,
      protocolEcho: 2,
      jsonPerCall: 2,
      jsonShared: 2,
    });
    expect(r.goals.atLeast3xCheaperThanJsonBase64).toBe(true);
    expect(r.goals.atLeast3xCheaperThanJsonBase64Shared).toBe(false);
    // The worker at 2.5x its protocol (goal 1.5x) and an echo of 20/30 ms (goals 12/25) miss.
    expect(r.goals.workerWithin1_5xProtocolEcho).toBe(false);
    expect(r.goals.echoP50Within12Ms).toBe(false);
    expect(r.goals.echoP99Within25Ms).toBe(false);
    const issue17 = { workerWithin1_5xProtocolEcho: true, echoP50Within12Ms: true, echoP99Within25Ms: true };
    // The informative goals (the shared socket; 1.5x the floor, replaced) do not decide "all goals".
    expect(allGoalsMet({ ...r.goals, ...issue17 })).toBe(true);
    expect(allGoalsMet({ ...r.goals, ...issue17, workerWithin1_5xFloor: false })).toBe(true);
    expect(allGoalsMet(r.goals)).toBe(false);
    expect(allGoalsMet({ ...r.goals, ...issue17, atLeast3xCheaperThanJsonBase64: false })).toBe(false);
    expect(allGoalsMet({ ...r.goals, ...issue17, transitP99Under5Ms: null })).toBe(false);
    expect(r.method.jsonBase64Layouts).toMatch(/per call.*closest peer/);
  });

  it("falls back to the shared socket for the goal when only it ran", () => {
    const shared = baseline("jsonBase64", "shared", 12);
    const r = buildResult(1000, 8, worker(5), {
      floor,
      protocolEcho: null,
      jsonPerCall: null,
      jsonShared: shared,
    });
    expect(r.ratePercent.jsonPerCall).toBeNull();
    expect(r).toMatchObject({
      jsonBase64CpuUsPerFrame: 12,
      jsonBase64Layout: "shared",
      jsonBase64OverWorker: 2.4,
      jsonBase64SharedCpuUsPerFrame: 12,
      jsonBase64SharedOverWorker: 2.4,
    });
    expect(r.goals.atLeast3xCheaperThanJsonBase64).toBe(false);
  });

  it("leaves the shared figures null when only a socket per call ran, and everything null without baselines", () => {
    const perCall = baseline("jsonBase64", "perCall", 20);
    const r = buildResult(1000, 8, worker(5), {
      floor,
      protocolEcho: null,
      jsonPerCall: perCall,
      jsonShared: null,
    });
    expect(r).toMatchObject({
      jsonBase64Layout: "perCall",
      jsonBase64SharedCpuUsPerFrame: null,
      jsonBase64SharedOverWorker: null,
      jsonBase64Shared: null,
    });
    expect(r.goals.atLeast3xCheaperThanJsonBase64Shared).toBeNull();
    const bare = buildResult(100, 8, worker(5), {
      floor: null,
      protocolEcho: null,
      jsonPerCall: null,
      jsonShared: null,
    });
    expect(bare).toMatchObject({
      protocolEchoCpuUsPerFrame: null,
      protocolEchoOverFloor: null,
      workerOverProtocolEcho: null,
      jsonBase64CpuUsPerFrame: null,
      jsonBase64Layout: null,
      jsonBase64OverWorker: null,
      jsonBase64: null,
    });
    expect(bare.goals.atLeast3xCheaperThanJsonBase64).toBeNull();
  });

  it("refuses a run passed as the wrong layout", () => {
    const shared = baseline("jsonBase64", "shared", 12);
    expect(() =>
      buildResult(10, 1, worker(5), { floor, protocolEcho: null, jsonPerCall: shared, jsonShared: null }),
    ).toThrow(/not a per-call run/);
  });
});

describe("bench:load time estimate", () => {
  const shape = { calls: 1000, seconds: 10, warmupSeconds: 2, baselines: true };

  it("counts every design a call count runs, a socket per call the dearest to set up", () => {
    const both = loadRunSeconds({ ...shape, jsonLayouts: jsonLayoutsOf("both") });
    const perCall = loadRunSeconds({ ...shape, jsonLayouts: jsonLayoutsOf("per-call") });
    const shared = loadRunSeconds({ ...shape, jsonLayouts: jsonLayoutsOf("shared") });
    const workerOnly = loadRunSeconds({ ...shape, baselines: false, jsonLayouts: [] });
    expect(workerOnly).toBe(4 + 2 + 10 + 2);
    // The worker, the protocol echo, the floor and one JSON layout, all set up alike.
    expect(shared).toBe(4 * workerOnly);
    expect(perCall).toBeGreaterThan(shared);
    expect(both).toBe(perCall + workerOnly);
    expect(loadHardLimitSeconds({ ...shape, jsonLayouts: ["perCall", "shared"] })).toBe(both * 3 + 120);
  });
});

describe("bench:load idle rate", () => {
  it("is the median slice's rate, so one burst (a teardown) is not subtracted from the next design", () => {
    const quiet = { cpuUs: 1_500, wallMs: 100 }; // 15 ms of CPU a second
    const burst = { cpuUs: 45_000, wallMs: 100 };
    const slices = [burst, ...Array.from({ length: 9 }, () => quiet)];
    // One whole-second sample of the same slices would have read 58_500 µs/s.
    expect(medianRatePerSecond(slices)).toBe(15_000);
    expect(
      medianRatePerSecond([
        { cpuUs: 1_000, wallMs: 100 },
        { cpuUs: 3_000, wallMs: 100 },
      ]),
    ).toBe(20_000);
    expect(medianRatePerSecond([{ cpuUs: 5, wallMs: 0 }])).toBe(0);
  });
});

describe("bench:load frames over the CPU window", () => {
  it("scales frames counted between two reads to the CPU window's wall time", () => {
    // 1000 calls for 8 s: 800 000 frames in the CPU window; the reads bracket it by 30 ms.
    const counted = { frames: 803_000, overMs: 8030 };
    expect(framesInCpuWindow(8000, counted)).toBe(800_000);
    expect(framesInCpuWindow(8000, { frames: 5, overMs: 0 })).toBe(5);
  });

  it("takes the rate over the window's own wall time, so a design keeping pace reads 100 %", () => {
    expect(ratePercentOf(1000, { framesHandled: 800_000, wallMs: 8000 })).toBe(100);
    // A window that ran 4 ms long (a late timer) does not read as 100.05 %.
    expect(ratePercentOf(1000, { framesHandled: 800_400, wallMs: 8004 })).toBe(100);
    expect(ratePercentOf(1000, { framesHandled: 780_000, wallMs: 8000 })).toBe(97.5);
  });
});
