import { execFile } from "node:child_process";
import path from "node:path";

export const ROOT = path.join(import.meta.dirname, "..", "..");

/** Runs benchmarks/<script> under tsx as its own process; never rejects (the exit code says). */
export function runBenchmark(script: string, args: string[], timeoutMs: number) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", path.join(ROOT, "benchmarks", script), ...args],
      { cwd: ROOT, timeout: timeoutMs, env: { ...process.env, BOT_LOG_LEVEL: "warn" } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Whether a process (a benchmark's far end) is still running. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
