import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type ProcessMemory, probeMemory } from "../lib/memory-probe.js";
import { reapOnExit } from "../lib/reap-children.js";
import type { BotEnvelope, BotMessage, BotRequest, BotScrape } from "./bot-messages.js";

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const ENTRY = path.join(ROOT, "benchmarks", "soak", "bot-child.ts");

/**
 * The bot under soak (bot-child.ts) in a child process with an IPC channel, its output to
 * `logFd`. Killed with SIGKILL on this process's exit (reap-children.ts); it also exits by
 * itself when the channel closes.
 */
export class BotProcess {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(private readonly child: ChildProcess) {
    child.on("message", (message: BotMessage) => {
      if (message?.bot !== "reply") return;
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(new Error(`bot: ${message.error}`));
    });
    child.once("exit", (code, signal) => {
      for (const waiter of this.pending.values())
        waiter.reject(new Error(`bot exited (${signal ?? code}) before replying`));
      this.pending.clear();
    });
  }

  static async start(env: Record<string, string>, logFd: number): Promise<BotProcess> {
    const child = spawn(process.execPath, ["--import", "tsx", ENTRY], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", logFd, logFd, "ipc"],
    });
    reapOnExit(child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("bot not ready within 60 s")), 60_000);
      child.on("message", (message: BotMessage) => {
        if (message?.bot === "ready") {
          clearTimeout(timer);
          resolve();
        } else if (message?.bot === "failed") {
          clearTimeout(timer);
          reject(new Error(`bot failed to start: ${message.error}`));
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`bot exited with ${code} before it was ready`));
      });
    });
    return new BotProcess(child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  memory(): Promise<ProcessMemory> {
    return probeMemory(this.child);
  }

  scrape(): Promise<BotScrape> {
    return this.request({ op: "scrape" }) as Promise<BotScrape>;
  }

  /** Hangs up live calls and stops (BotApp.stop); SIGKILL when it has not exited in time. */
  async stop(timeoutMs = 15_000): Promise<void> {
    if (!this.running) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.request({ op: "stop", timeoutMs }, timeoutMs + 5000).catch(() => {});
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs + 10_000);
    await exited;
    clearTimeout(timer);
  }

  private request(request: BotRequest, timeoutMs = 30_000): Promise<unknown> {
    if (!this.running) return Promise.reject(new Error("the bot has exited"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`bot did not answer ${request.op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ botRequest: id, request } satisfies BotEnvelope);
    });
  }
}
