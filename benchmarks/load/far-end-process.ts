import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { MEDIA_WORKER_INITIAL_OLD_SPACE_MB } from "../../src/media/worker-heap.js";
import { type ProcessMemory, probeMemory } from "../lib/memory-probe.js";
import { reapOnExit } from "../lib/reap-children.js";
import type { FarEndMessage, FarEndRequest, FarEndResults } from "./far-end-messages.js";

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const ENTRY = path.join(ROOT, "benchmarks", "load", "far-end.ts");

/**
 * The far end of bench:load (far-end.ts) in a child process with an IPC channel. The child
 * exits by itself when the channel closes (this process ended), and is killed with SIGKILL on
 * this process's exit in any case.
 */
export class FarEndProcess {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }
  >();
  private exited = false;

  private constructor(private readonly child: ChildProcess) {
    child.on("message", (message: FarEndMessage) => {
      if (message.type !== "reply") return;
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      clearTimeout(waiter.timer);
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(new Error(`far end: ${message.error}`));
    });
    child.once("exit", (code, signal) => {
      this.exited = true;
      for (const waiter of this.pending.values()) {
        clearTimeout(waiter.timer);
        waiter.reject(new Error(`far end exited (${signal ?? code}) before replying`));
      }
      this.pending.clear();
    });
  }

  static async start(options: { maxLifetimeMs: number }): Promise<FarEndProcess> {
    // The far end stands in for the media platform, native code without a garbage collector:
    // it gets the media worker's heap setting (worker-heap.ts), which halved its CPU at 1000
    // calls (from ~40 to ~22 % of a core) and keeps its collections from delaying whole ticks
    // of source audio, for every design it serves.
    const heap = `--initial-old-space-size=${MEDIA_WORKER_INITIAL_OLD_SPACE_MB}`;
    const child = spawn(process.execPath, [heap, "--import", "tsx", ENTRY], {
      cwd: ROOT,
      env: { ...process.env, BENCH_FAR_END_MAX_MS: String(options.maxLifetimeMs), BOT_LOG_LEVEL: "warn" },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    reapOnExit(child);
    const far = new FarEndProcess(child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("far end not ready within 30 s")), 30_000);
      child.on("message", (message: FarEndMessage) => {
        if (message.type === "ready") {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`far end exited with ${code} before it was ready`));
      });
    });
    return far;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The far-end process's memory (RSS, main heap), from the child itself. */
  memory(): Promise<ProcessMemory> {
    return probeMemory(this.child);
  }

  request<K extends FarEndRequest["op"]>(
    request: Extract<FarEndRequest, { op: K }>,
    timeoutMs = 60_000,
  ): Promise<FarEndResults[K]> {
    if (this.exited) return Promise.reject(new Error("far end has exited"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`far end did not answer ${request.op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      this.child.send({ id, request });
    });
  }

  /** Asks the child to stop; kills it when it does not exit within 5 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.request({ op: "stop" }, 5000).catch(() => {});
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
}
