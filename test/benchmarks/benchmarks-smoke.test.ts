/**
 * bench:frames and bench:load in tiny configurations: they run to the end, write a result
 * file with the documented keys, and leave no far-end process behind. No timing is asserted.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alive, runBenchmark } from "./run-benchmark.js";

describe("benchmarks (smoke)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "bench-smoke-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("bench:frames times all three designs and the protocol echo, and writes ns per frame", async () => {
    const run = await runBenchmark(
      "frames.ts",
      ["--sessions", "20", "--ticks", "20", "--warmup", "5", "--results-dir", dir],
      60_000,
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const result = JSON.parse(await readFile(path.join(dir, "frames-latest.json"), "utf8"));
    expect(result.benchmark).toBe("frames");
    expect(result.machine.cores).toBeGreaterThan(0);
    expect(result.pipelines.map((p: { name: string }) => p.name)).toEqual([
      "bridge codec + media engine",
      "protocol echo, no engine",
      "generated protobufjs",
      "JSON + base64",
    ]);
    expect(result.protocolEchoNsPerFrame).toBe(result.pipelines[1].totalNsPerFrame);
    expect(result.bridgeOverProtocolEcho).toBeGreaterThan(0);
    for (const pipeline of result.pipelines) {
      expect(pipeline.frames).toBe(20 * 20);
      for (const key of ["decodeNsPerFrame", "dispatchNsPerFrame", "encodeNsPerFrame", "totalNsPerFrame"])
        expect(pipeline[key]).toBeGreaterThan(0);
      // getrusage counts whole microseconds: a tiny run may read 0, never less.
      expect(pipeline.cpuNsPerFrame).toBeGreaterThanOrEqual(0);
    }
    expect(result).toHaveProperty("bridgeOverProtocolEchoCpu");
    expect(run.stdout).toContain("JSON + base64");
    expect(run.stdout).toContain("engine ÷ protocol echo");
  }, 90_000);

  it("bench:frames counts every message of a tick the engine splits over 256 KiB", async () => {
    // 450 sessions' render frames (~660 bytes each) do not fit in one 256 KiB FrameBatch.
    const run = await runBenchmark(
      "frames.ts",
      ["--sessions", "450", "--ticks", "4", "--warmup", "1", "--results-dir", dir],
      60_000,
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const result = JSON.parse(await readFile(path.join(dir, "frames-latest.json"), "utf8"));
    expect(result.sessions).toBe(450);
    expect(result.pipelines[0].name).toBe("bridge codec + media engine");
    expect(result.pipelines[0].frames).toBe(450 * 4);
  }, 90_000);

  it("bench:load runs the worker, the protocol echo, the floor and JSON + base64 in both layouts, writes the documented keys, and stops its far end", async () => {
    const run = await runBenchmark(
      "load.ts",
      ["--calls", "5", "--seconds", "2", "--warmup", "1", "--results-dir", dir],
      120_000,
    );
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(await readFile(path.join(dir, "load-latest.json"), "utf8"));
    for (const key of [
      "calls",
      "seconds",
      "framesSent",
      "framesReceived",
      "framesDropped",
      "transitP50Ms",
      "transitP99Ms",
      "latenessP99Ms",
      "workerCpuUsPerFrame",
      "floorCpuUsPerFrame",
      "protocolEchoCpuUsPerFrame",
      "protocolEchoOverFloor",
      "workerOverProtocolEcho",
      "jsonBase64CpuUsPerFrame",
      "jsonBase64Layout",
      "jsonBase64SharedCpuUsPerFrame",
      "jsonBase64OverWorker",
      "jsonBase64SharedOverWorker",
      "jsonBase64Shared",
      "echoRoundTripP50Ms",
      "echoRoundTripP99Ms",
    ])
      expect(result, key).toHaveProperty(key);
    expect(result.calls).toBe(5);
    expect(result.seconds).toBe(2);
    // 5 calls for 2 s at 50 frames a second each way; loose bounds, the machine may be busy.
    expect(result.framesReceived).toBeGreaterThan(200);
    expect(result.framesSent).toBeGreaterThan(200);
    expect(result.worker.farEnd.echoRoundTrip.count).toBeGreaterThan(0);
    expect(result.floor.cpu.framesHandled).toBeGreaterThan(200);
    // The protocol echo ran its own sessions on the emulator, and they came back as echoes.
    expect(result.protocolEcho).toMatchObject({ kind: "protocolEcho", sockets: 1, botFramesDropped: 0 });
    expect(result.protocolEcho.cpu.framesHandled).toBeGreaterThan(200);
    expect(result.protocolEcho.farEnd.echoRoundTrip.count).toBeGreaterThan(0);
    expect(result.protocolEchoCpuUsPerFrame).toBe(result.protocolEcho.cpu.cpuUsPerFrame);
    // The goal's JSON run is the peer's layout, a socket per call; the shared socket beside it.
    expect(result.jsonBase64Layout).toBe("perCall");
    expect(result.jsonBase64).toMatchObject({ kind: "jsonBase64", layout: "perCall", sockets: 5 });
    expect(result.jsonBase64Shared).toMatchObject({ kind: "jsonBase64", layout: "shared", sockets: 1 });
    expect(result.jsonBase64.cpu.framesHandled).toBeGreaterThan(200);
    expect(result.jsonBase64Shared.cpu.framesHandled).toBeGreaterThan(200);
    expect(result.jsonBase64CpuUsPerFrame).toBe(result.jsonBase64.cpu.cpuUsPerFrame);
    expect(result.jsonBase64SharedCpuUsPerFrame).toBe(result.jsonBase64Shared.cpu.cpuUsPerFrame);
    expect(Object.keys(result.goals)).toContain("atLeast3xCheaperThanJsonBase64Shared");
    // Printed: a row per design, and both ratios.
    expect(run.stdout).toMatch(/JSON\+base64, socket per call \(peer\)\s+5\s/);
    expect(run.stdout).toMatch(/JSON\+base64, one shared socket\s+1\s/);
    expect(run.stdout).toMatch(/protocol echo, no engine\s+1\s/);
    expect(run.stdout).toMatch(
      /ratios: worker\/protocol echo [\d.]+ \(goal ≤ 1.5\); worker\/floor [\d.]+ = protocol echo\/floor [\d.]+/,
    );
    // The echo's breakdown: exact worker stages and the far end's, and the round trip.
    for (const stage of [
      "transit: host -> worker socket",
      "worker total: delivered -> live batch sent",
      "far end: render queue until played",
    ])
      expect(run.stdout).toContain(stage);
    expect(result.transitExact).toBe(true);
    expect(result.breakdown.receiveToLiveSent.count).toBeGreaterThan(0);
    expect(result.breakdown.framesSentLive).toBeGreaterThan(0);
    expect(run.stdout).toMatch(/JSON\+base64\/worker: socket per call [\d.]+, shared socket [\d.]+/);
    const pid = Number(/far end: pid (\d+)/.exec(run.stdout)?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid)).toBe(false);
  }, 150_000);

  it("bench:load --repeat runs a call count again, writes each run, and prints the median and range", async () => {
    const repeatDir = await mkdtemp(path.join(tmpdir(), "bench-repeat-"));
    try {
      const run = await runBenchmark(
        "load.ts",
        [
          "--calls",
          "3",
          "--seconds",
          "1",
          "--warmup",
          "0",
          "--no-baselines",
          "--repeat",
          "2",
          "--results-dir",
          repeatDir,
        ],
        120_000,
      );
      expect(run.code, run.stderr).toBe(0);
      const files = (await readdir(repeatDir)).filter((f) => /^load-\d.*\.json$/.test(f));
      expect(files).toHaveLength(2);
      expect(run.stdout).toContain("3 calls, 1 s (warm-up 0 s, run 2 of 2)");
      expect(run.stdout).toContain("repeated runs: median (min-max) of each figure");
      expect(run.stdout).toMatch(/\n\s*3\s+2\s+worker µs\/fr\s+[\d.]+\s+[\d.]+-[\d.]+/);
    } finally {
      await rm(repeatDir, { recursive: true, force: true });
    }
  }, 150_000);

  it("bench:load refuses an unknown flag without leaving anything running", async () => {
    const run = await runBenchmark("load.ts", ["--calls", "5", "--sconds", "2"], 30_000);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("unknown flag --sconds");
    const layout = await runBenchmark("load.ts", ["--calls", "5", "--json-layout", "sideways"], 30_000);
    expect(layout.code).not.toBe(0);
    expect(layout.stderr).toContain('--json-layout must be both, per-call or shared, got "sideways"');
  }, 60_000);
});
