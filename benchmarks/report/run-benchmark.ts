/**
 * One benchmark as a child process (`node --import tsx benchmarks/X.ts ...`), so benchmarks
 * never share an event loop or a JIT with each other or with the suite. Its output is passed
 * through as it comes, and the result files it reports ("written <path>") are collected.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const BENCHMARKS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const ROOT = path.join(BENCHMARKS_DIR, "..");

export interface BenchmarkExit {
  /** Exit code; null when it ended by a signal (the timeout included). */
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Result files the benchmark said it wrote, as absolute paths. */
  written: string[];
}

const WRITTEN = /^written (.+\.json)\s*$/;

export interface RunningBenchmark {
  pid: number | undefined;
  done: Promise<BenchmarkExit>;
  /** Stops it: SIGTERM, then SIGKILL after a grace period. */
  stop(): void;
}

export function runBenchmark(
  script: string,
  args: readonly string[],
  options: { timeoutMs: number; out?: NodeJS.WritableStream; err?: NodeJS.WritableStream },
): RunningBenchmark {
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  const child = spawn(process.execPath, ["--import", "tsx", path.join(BENCHMARKS_DIR, script), ...args], {
    cwd: ROOT,
    env: { ...process.env, BOT_LOG_LEVEL: process.env.BOT_LOG_LEVEL ?? "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const written: string[] = [];
  let pending = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    out.write(chunk);
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      const match = WRITTEN.exec(line);
      if (match) written.push(path.resolve(ROOT, match[1] as string));
    }
  });
  child.stderr.on("data", (chunk: Buffer) => err.write(chunk));

  let timedOut = false;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    killTimer ??= setTimeout(() => child.kill("SIGKILL"), 10_000);
  };
  const timeout = setTimeout(() => {
    timedOut = true;
    err.write(`\n${script}: no end after ${Math.round(options.timeoutMs / 1000)} s; stopping it\n`);
    stop();
  }, options.timeoutMs);

  const done = new Promise<BenchmarkExit>((resolve) => {
    child.once("error", (error) => {
      clearTimeout(timeout);
      err.write(`${script}: could not start: ${error.message}\n`);
      resolve({ code: null, signal: null, timedOut, written });
    });
    child.once("close", (code, signal) => {
      clearTimeout(timeout);
      if (killTimer) clearTimeout(killTimer);
      const match = WRITTEN.exec(pending);
      if (match) written.push(path.resolve(ROOT, match[1] as string));
      resolve({ code, signal, timedOut, written });
    });
  });
  return { pid: child.pid, done, stop };
}
