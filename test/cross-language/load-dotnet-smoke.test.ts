/**
 * bench:load:dotnet in a tiny configuration: it runs to the end against the .NET host and the
 * TypeScript emulator, writes a result file with the documented keys (the echo round trip at
 * arrival and played, the breakdown), and leaves neither far end running. No timing is asserted.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alive, runBenchmark } from "../benchmarks/run-benchmark.js";
import { ensureHostBuilt } from "./dotnet-host.js";

describe("bench:load:dotnet (smoke)", () => {
  let dir = "";
  beforeAll(async () => {
    // Built here, with the long hook timeout, so the run below only measures.
    await ensureHostBuilt("Release", { timeoutMs: 280_000 });
    dir = await mkdtemp(path.join(tmpdir(), "bench-load-dotnet-"));
  }, 300_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("runs 5 calls against the .NET host and the TypeScript emulator and writes the documented keys", async () => {
    const run = await runBenchmark(
      "load-dotnet.ts",
      ["--calls", "5", "--seconds", "2", "--warmup", "1", "--results-dir", dir],
      120_000,
    );
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const files = (await readdir(dir)).filter((f) => /^load-dotnet-.*\.json$/.test(f));
    expect(files).toContain("load-dotnet-latest.json");
    expect(files.length).toBe(2);
    const result = JSON.parse(await readFile(path.join(dir, "load-dotnet-latest.json"), "utf8"));
    for (const key of [
      "calls",
      "seconds",
      "framesSent",
      "framesReceived",
      "framesDropped",
      "framesLostInTransit",
      "transitP99Ms",
      "latenessP99Ms",
      "transitExact",
      "echoRoundTripArrival",
      "echoRoundTripPlayed",
      "echoUnmatched",
      "breakdown",
      "hostCpuUsPerFrame",
      "tsEmulatorCpuUsPerFrame",
      "workerCpuUsPerFrame",
    ])
      expect(result, key).toHaveProperty(key);
    expect(result.benchmark).toBe("load-dotnet");
    expect(result.calls).toBe(5);
    expect(result.seconds).toBe(2);
    // 5 calls for 2 s at 50 frames a second each way; loose bounds, the machine may be busy.
    expect(result.framesReceived).toBeGreaterThan(200);
    expect(result.framesSent).toBeGreaterThan(200);
    expect(result.dotnet.farEnd.framesSent).toBeGreaterThan(200);
    expect(result.tsEmulator.farEnd.framesSent).toBeGreaterThan(200);
    expect(result.hostCpuUsPerFrame).toBeGreaterThan(0);
    // The fake platform matched the worker's echoes of its marked frames, at arrival and played
    // (each echo is played after it arrived); no timing bound beyond that order.
    expect(result.echoRoundTripArrival.count).toBeGreaterThan(200);
    expect(result.echoRoundTripPlayed.count).toBeGreaterThan(200);
    expect(result.echoRoundTripPlayed.p50Ms).toBeGreaterThanOrEqual(result.echoRoundTripArrival.p50Ms);
    expect(result.echoUnmatched).toBe(0);
    expect(result.transitExact).toBe(true);
    expect(result.breakdown.hostSend.count).toBeGreaterThan(200);
    expect(result.breakdown.hostRenderQueue.count).toBeGreaterThan(200);
    expect(result.drops.host).toHaveProperty("renderLatencyTrim");
    expect(result.tsEmulatorCpuUsPerFrame).toBeGreaterThan(0);
    expect(run.stdout).toContain("bench:load:dotnet summary");
    expect(run.stdout).toContain("echo round trip played");
    expect(run.stdout).toContain("worker total: delivered -> live batch sent");
    for (const name of [".NET host", "TypeScript far end"]) {
      const pid = Number(new RegExp(`${name}: pid (\\d+)`).exec(run.stdout)?.[1]);
      expect(pid, name).toBeGreaterThan(0);
      expect(alive(pid), name).toBe(false);
    }
  }, 150_000);

  it("refuses an unknown flag before starting anything", async () => {
    const run = await runBenchmark("load-dotnet.ts", ["--calls", "5", "--sconds", "2"], 30_000);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("unknown flag --sconds");
    expect(run.stdout).not.toContain("pid");
  }, 60_000);
});
