/**
 * bench:load's --stall-evidence and --memory in tiny configurations: they run to the end,
 * print their section, write their keys, and leave no far end behind. No figure is asserted
 * beyond "something was read".
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alive, runBenchmark } from "./run-benchmark.js";

describe("bench:load evidence flags (smoke)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "bench-evidence-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("--stall-evidence records every side over the worker run and prints the matched counts", async () => {
    const run = await runBenchmark(
      "load.ts",
      [
        "--calls",
        "5",
        "--seconds",
        "1",
        "--warmup",
        "0",
        "--no-baselines",
        "--stall-evidence",
        "--results-dir",
        dir,
      ],
      90_000,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("stall evidence (");
    expect(run.stdout).toMatch(/trims \(ticks with latency_trim drops, \d+ frames\): \d+/);
    expect(run.stdout).toMatch(/worker thread: GCs \d+/);
    expect(run.stdout).toMatch(/bot main thread: GCs \d+/);
    expect(run.stdout).toMatch(/far end: GCs \d+/);
    const result = JSON.parse(await readFile(path.join(dir, "load-latest.json"), "utf8"));
    const evidence = result.worker.stallEvidence;
    expect(evidence.worker.ticks).toBeGreaterThan(10);
    expect(evidence.farEnd.ticks).toBeGreaterThan(10);
    expect(evidence.farEnd.renderBatches).toBeGreaterThan(10);
    expect(evidence.mainThread.toMs).toBeGreaterThan(evidence.mainThread.fromMs);
    for (const key of ["trims", "farEndGaps", "workerInputGaps", "inputGapSides", "trimCauses"])
      expect(evidence, key).toHaveProperty(key);
    const pid = Number(/far end: pid (\d+)/.exec(run.stdout)?.[1]);
    expect(alive(pid)).toBe(false);
  }, 120_000);

  it("--memory reads the bot's memory at 0, N/2 and N calls and over the run, and writes load-memory", async () => {
    const run = await runBenchmark(
      "load.ts",
      ["--memory", "--calls", "4", "--memory-minutes", "0", "--memory-settle", "0", "--results-dir", dir],
      90_000,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("bench:load --memory: 4 calls");
    expect(run.stdout).toMatch(/KiB per call \(0 → 4\)/);
    const result = JSON.parse(await readFile(path.join(dir, "load-memory-latest.json"), "utf8"));
    expect(result.steps.map((s: { calls: number }) => s.calls)).toEqual([0, 2, 4]);
    for (const step of result.steps) {
      expect(step.rssBytes).toBeGreaterThan(0);
      expect(step.workerHeapUsedBytes).toBeGreaterThan(0);
    }
    expect(result.run.length).toBeGreaterThan(0);
    for (const key of ["bytesPerCall", "bytesPerCallHalf", "growth", "floorGrowth"])
      expect(result, key).toHaveProperty(key);
    const pid = Number(/far end: pid (\d+)/.exec(run.stdout)?.[1]);
    expect(alive(pid)).toBe(false);
  }, 120_000);
});
