import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import {
  MEDIA_THREAD_RT_PRIORITY,
  raiseThreadPriority,
  type ThreadPriorityResult,
} from "../../src/media/thread-priority.js";

const linux = process.platform === "linux";

/** Runs raiseThreadPriority in a fresh worker thread (never the test's own) and reads the kernel's view. */
function inWorker(mode: string): Promise<{ result: ThreadPriorityResult; policy: number; nice: number }> {
  const modulePath = new URL("../../src/media/thread-priority.ts", import.meta.url).href;
  const code = `
    const { parentPort, workerData } = require("node:worker_threads");
    const { readFileSync } = require("node:fs");
    import(${JSON.stringify("tsx/esm/api")}).then(async (tsx) => {
      tsx.register();
      const { raiseThreadPriority } = await import(workerData.modulePath);
      const result = raiseThreadPriority(workerData.mode);
      const stat = readFileSync("/proc/thread-self/stat", "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // After the name: nice is field 19, policy field 41 (1 = SCHED_FIFO).
      parentPort.postMessage({ result, nice: Number(fields[16]), policy: Number(fields[38]) });
    });
  `;
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: { modulePath, mode } });
    worker.once("message", (message) => {
      resolve(message);
      void worker.terminate();
    });
    worker.once("error", reject);
  });
}

describe("media thread priority", () => {
  it("normal leaves the thread alone", () => {
    expect(raiseThreadPriority("normal")).toEqual({
      ok: false,
      reason: "BOT_MEDIA_THREAD_PRIORITY is normal",
    });
  });

  it("is Linux only: on Windows it changes nothing and says so", () => {
    const result = raiseThreadPriority("realtime", {
      platform: "win32",
      setRealtime: () => {
        throw new Error("must not be called on Windows");
      },
    });
    expect(result).toEqual({
      ok: false,
      reason: "BOT_MEDIA_THREAD_PRIORITY applies on Linux only, not on win32",
    });
  });

  it.runIf(linux)("says so where threads have no id to address", () => {
    const empty = mkdtempSync(path.join(tmpdir(), "no-proc-"));
    try {
      expect(raiseThreadPriority("realtime", { procRoot: empty })).toEqual({
        ok: false,
        reason: "no per-thread priority on this platform",
      });
    } finally {
      rmSync(empty, { recursive: true });
    }
  });

  it.runIf(linux)("realtime asks for SCHED_FIFO for the calling thread's id", () => {
    const calls: [number, number][] = [];
    const result = raiseThreadPriority("realtime", {
      setRealtime: (tid, priority) => calls.push([tid, priority]),
    });
    expect(result).toMatchObject({
      ok: true,
      applied: "realtime",
      detail: `SCHED_FIFO ${MEDIA_THREAD_RT_PRIORITY}`,
    });
    expect(calls).toEqual([[(result as { tid: number }).tid, MEDIA_THREAD_RT_PRIORITY]]);
  });

  it.runIf(linux)(
    "the kernel sees what was reported, or the reason says why not (in a worker thread)",
    async () => {
      const realtime = await inWorker("realtime");
      if (realtime.result.ok && realtime.result.applied === "realtime") expect(realtime.policy).toBe(1);
      else if (realtime.result.ok) {
        expect(realtime.result.fallbackReason).toMatch(/^SCHED_FIFO not set: /);
        expect(realtime.nice).toBe(-10);
      } else expect(realtime.result.reason.length).toBeGreaterThan(0);

      const high = await inWorker("high");
      if (high.result.ok) {
        expect(high.result.applied).toBe("high");
        expect(high.nice).toBe(-10);
        expect(high.policy).toBe(0);
      } else expect(high.result.reason.length).toBeGreaterThan(0);
    },
  );

  it.runIf(linux)("falls back to nice -10 when SCHED_FIFO is refused, keeping the reason", async () => {
    const result = raiseThreadPriority("realtime", {
      setRealtime: () => {
        throw Object.assign(new Error("Command failed"), {
          stderr: Buffer.from("chrt: failed to set pid 1's policy: Operation not permitted\n"),
        });
      },
    });
    if (!result.ok) {
      // Not even nice -10 is permitted here: both reasons are given.
      expect(result.reason).toMatch(/^SCHED_FIFO not set: chrt: failed .*Operation not permitted; /);
      return;
    }
    expect(result).toMatchObject({
      applied: "high",
      detail: "nice -10",
      fallbackReason: "SCHED_FIFO not set: chrt: failed to set pid 1's policy: Operation not permitted",
    });
  });
});
