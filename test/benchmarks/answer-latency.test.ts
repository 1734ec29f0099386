/**
 * bench:answer stopped from outside leaves no Graph emulator behind: SIGTERM (the suite's time
 * limit) and SIGKILL (nothing runs in the benchmark; the child sees its IPC channel close). And a
 * mistyped flag stops it before anything starts.
 */
import { type ChildProcess, spawn } from "node:child_process";
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
});
