/**
 * bench:soak in a tiny configuration (2 calls, 30 s, one Graph fault): it runs to the end, writes
 * a result with the documented shape, samples every process (bot, media worker thread, both
 * emulators), and leaves no process behind. No figure is judged: this checks the machinery.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alive, runBenchmark } from "./run-benchmark.js";

describe("bench:soak (smoke)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "soak-smoke-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("churns calls, injects a fault, samples every process and writes the report", async () => {
    const run = await runBenchmark(
      "soak.ts",
      [
        "--calls",
        "2",
        "--seconds",
        "30",
        "--call-seconds",
        "6",
        "--sample-seconds",
        "1",
        "--grace-ms",
        "1000",
        "--fault-every",
        "14",
        "--faults",
        "graph-answer-503",
        "--results-dir",
        dir,
      ],
      170_000,
    );
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(await readFile(path.join(dir, "soak-latest.json"), "utf8"));
    expect(result.benchmark).toBe("soak");
    expect(result.settings).toMatchObject({ calls: 2, runSeconds: 30, faults: ["graph-answer-503"] });
    for (const key of [
      "placed",
      "established",
      "botDecisions",
      "endedBySoak",
      "lost",
      "failed",
      "endedWithReason",
    ])
      expect(result.calls, key).toHaveProperty(key);
    // Churn: with 6 s calls over 30 s, calls were hung up and replaced.
    expect(result.calls.placed).toBeGreaterThan(2);
    expect(result.calls.endedBySoak).toBeGreaterThan(0);
    for (const key of ["workerReceived", "workerSent", "droppedByReason", "trimmed", "bridgeSendDrops"])
      expect(result.frames, key).toHaveProperty(key);
    expect(result.frames.workerReceived).toBeGreaterThan(0);

    // One fault, with its outcome.
    expect(result.faults).toHaveLength(1);
    expect(result.faults[0]).toMatchObject({ name: "graph-answer-503" });
    for (const key of [
      "callsUp",
      "survived",
      "survivedWithMedia",
      "withoutMedia",
      "lost",
      "placedMeanwhile",
      "bot",
    ])
      expect(result.faults[0], key).toHaveProperty(key);

    // Samples from every process, the worker thread's heap included.
    const samples = result.samples as Record<string, unknown>[];
    expect(samples.length).toBeGreaterThan(5);
    const taken = (pick: (s: Record<string, unknown>) => unknown) =>
      samples.filter((s) => typeof pick(s) === "number" && (pick(s) as number) > 0).length;
    const rss = (name: string) => (s: Record<string, unknown>) =>
      (s[name] as { rssBytes?: number } | null)?.rssBytes;
    const heap = (name: string) => (s: Record<string, unknown>) =>
      (s[name] as { heapUsedBytes?: number } | null)?.heapUsedBytes;
    for (const name of ["bot", "graphEmulator", "mediaEmulator"]) {
      expect(taken(rss(name)), `${name} RSS`).toBeGreaterThan(5);
      expect(taken(heap(name)), `${name} heap`).toBeGreaterThan(5);
    }
    expect(
      taken((s) => s.workerHeapUsedBytes),
      "worker heap",
    ).toBeGreaterThan(5);

    // A growth figure for each process's RSS and heap, each saying what it is.
    const processes = new Set(result.memory.map((m: { process: string }) => m.process));
    expect([...processes].sort()).toEqual(["bot", "graph emulator", "media emulator", "media worker thread"]);
    for (const m of result.memory)
      for (const key of [
        "bytesPerMinute",
        "r2",
        "fittedGrowthBytes",
        "callsEnded",
        "bytesPerCall",
        "samples",
      ])
        expect(m.growth, `${m.process} ${m.measure} ${key}`).toHaveProperty(key);
    expect(result.method.join(" ")).toContain("least-squares");
    expect(result.residue).toMatchObject({ botCalls: 0, workerSessions: 0, mediaHostSessions: 0 });

    // Printed, and nothing left running.
    expect(run.stdout).toContain("frames dropped by reason");
    expect(run.stdout).toMatch(/fit MiB\/min/);
    const pids = Object.values(result.pids as Record<string, number>);
    expect(new Set(pids).size).toBe(3);
    for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
  }, 180_000);

  it("refuses an unknown flag and a fault it does not know", async () => {
    const flag = await runBenchmark("soak.ts", ["--calls", "2", "--minuts", "1"], 30_000);
    expect(flag.code).not.toBe(0);
    expect(flag.stderr).toContain("unknown flag --minuts");
    const fault = await runBenchmark("soak.ts", ["--faults", "media-explode"], 30_000);
    expect(fault.code).not.toBe(0);
    expect(fault.stderr).toContain('unknown fault "media-explode"');
  }, 60_000);
});
