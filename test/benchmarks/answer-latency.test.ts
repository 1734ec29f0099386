/**
 * bench:answer stopped from outside leaves no Graph emulator behind: SIGTERM (the suite's time
 * limit) and SIGKILL (nothing runs in the benchmark; the child sees its IPC channel close). And a
 * mistyped flag stops it before anything starts. Its join variant (--join) runs a few joins to
 * the end and writes its result. No timing is asserted.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { alive, ROOT, runBenchmark } from "./run-benchmark.js";

/** Starts a long bench:answer and resolves with it and its emulator's pid once that is printed. */
function startLongRun(): Promise<{ bench: ChildProcess; emulatorPid: number }> {
  const bench = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      path.join(ROOT, "benchmarks", "answer-latency.ts"),
      ...[
        "--calls",
        "50000",
        "--rate",
        "1",
        "--warmup",
        "0",
        "--results-dir",
        path.join(tmpdir(), "bench-answer-never-written"),
      ],
    ],
    { cwd: ROOT, env: { ...process.env, BOT_LOG_LEVEL: "warn" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const timer = setTimeout(() => {
      bench.kill("SIGKILL");
      reject(new Error(`no emulator pid within 30 s: ${out} ${err}`));
    }, 30_000);
    bench.stderr?.on("data", (chunk: Buffer) => {
      err += chunk.toString();
    });
    bench.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /graph emulator: pid (\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ bench, emulatorPid: Number(match[1]) });
      }
    });
  });
}

async function goneWithin(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!alive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return !alive(pid);
}

describe("bench:answer", () => {
  for (const signal of ["SIGTERM", "SIGKILL"] as const)
    it(`takes its Graph emulator with it when stopped with ${signal}`, async () => {
      const { bench, emulatorPid } = await startLongRun();
      try {
        expect(alive(emulatorPid)).toBe(true);
        // Let the run get under way (the bot starts, the calls are placed) before stopping it.
        await new Promise((resolve) => setTimeout(resolve, 1500));
        // Still running: the run is long, so only the signal ends it.
        expect(bench.exitCode).toBe(null);
        const exited = new Promise((resolve) => bench.once("exit", resolve));
        bench.kill(signal);
        await exited;
        expect(await goneWithin(emulatorPid, 5000)).toBe(true);
      } finally {
        bench.kill("SIGKILL");
        if (alive(emulatorPid)) process.kill(emulatorPid, "SIGKILL");
      }
    }, 60_000);

  it("refuses an unknown flag before starting anything", async () => {
    const run = await runBenchmark("answer-latency.ts", ["--calls", "5", "--rtae", "10"], 30_000);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("unknown flag --rtae");
    expect(run.stdout).not.toContain("graph emulator: pid");
  }, 40_000);

  it("--join places a few meeting joins, measures createCall sent -> established, and stops its emulator", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "bench-join-"));
    try {
      const run = await runBenchmark(
        "answer-latency.ts",
        ["--join", "--calls", "4", "--warmup", "1", "--rate", "10", "--results-dir", dir],
        90_000,
      );
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toBe("");
      const result = JSON.parse(await readFile(path.join(dir, "join-latency-latest.json"), "utf8"));
      expect(result).toMatchObject({
        benchmark: "join-latency",
        joins: 4,
        established: 4,
        failed: 0,
        warmup: 1,
      });
      expect(result.p50Ms).toBeGreaterThan(0);
      expect(result.p99Ms).toBeGreaterThanOrEqual(result.p50Ms);
      // (No max >= p99: an HDR percentile is its bucket's top, a little above the exact max.)
      expect(result.maxMs).toBeGreaterThan(0);
      // Graph's 201 comes before the call is established.
      expect(result.to201.maxMs).toBeLessThanOrEqual(result.maxMs);
      expect(run.stdout).toMatch(/createCall sent -> established\s+4\s/);
      const pid = Number(/graph emulator: pid (\d+)/.exec(run.stdout)?.[1]);
      expect(pid).toBeGreaterThan(0);
      expect(await goneWithin(pid, 5000)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("--media emulator answers a few waves over the media emulator, with Graph's interval and the bot's stages", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "bench-answer-media-"));
    try {
      const run = await runBenchmark(
        "answer-latency.ts",
        ["--media", "emulator", "--concurrency", "3", "--waves", "2", "--warmup", "1", "--results-dir", dir],
        90_000,
      );
      expect(run.code, run.stderr).toBe(0);
      const result = JSON.parse(
        await readFile(path.join(dir, "answer-latency-media-emulator-latest.json"), "utf8"),
      );
      expect(result).toMatchObject({ concurrency: 3, waves: 2, answered: 6, failed: 0, unmatched: 0 });
      expect(result.atGraph.postedToAnswer.p50Ms).toBeGreaterThan(0);
      for (const stage of [
        "tokenCheckedAt",
        "parsedAt",
        "sessionRequestedAt",
        "sessionCreatedAt",
        "answerSentAt",
      ])
        expect({ stage, count: result.botStagesFromArrival[stage].count }).toEqual({ stage, count: 6 });
      // Warmed up: the waves measured reuse the connections both ways. A loaded machine can
      // overlap more answers than the warm-up did, and a busy pool opens one more connection
      // (seen once in a CI-like run beside other benchmarks): at most one per notification of a wave.
      const opened = result.tlsConnectionsOpenedWhileMeasuring;
      expect(opened.botToGraph + opened.graphToBot).toBeLessThanOrEqual(3);
      expect(run.stdout).toMatch(/graph: posted -> answer received\s+6\s/);
      const pid = Number(/graph \+ media emulators: pid (\d+)/.exec(run.stdout)?.[1]);
      expect(pid).toBeGreaterThan(0);
      expect(await goneWithin(pid, 5000)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("--concurrency applies only with --media emulator", async () => {
    const run = await runBenchmark("answer-latency.ts", ["--concurrency", "8"], 30_000);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("--concurrency applies only with --media emulator");
    expect(run.stdout).not.toContain("pid");
  }, 40_000);

  it("--join takes no value", async () => {
    const run = await runBenchmark("answer-latency.ts", ["--join", "5"], 30_000);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("--join takes no value");
    expect(run.stdout).not.toContain("graph emulator: pid");
  }, 40_000);
});
