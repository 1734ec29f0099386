import type { Worker } from "node:worker_threads";
import { siblingEntry, spawnWorker } from "../../src/media/spawn-worker.js";
import { configureMediaWorkerHeap } from "../../src/media/worker-heap.js";
import type { BaselineKind, JsonLayout } from "./far-end-messages.js";

/** A baseline design, or the bridge protocol with no engine (protocol-echo-bot.ts). */
export type BotKind = BaselineKind | "protocolEcho";

export interface BaselineThreadSettings {
  url: string;
  kind: BotKind;
  calls: number;
  layout: JsonLayout;
  /** The media host's shared secret (protocolEcho only: it talks to the media platform emulator). */
  secret?: string;
}

export type BaselineThreadRequest = { type: "counters" } | { type: "close" };
export type BaselineThreadReply =
  /** mediaSessionIds: the sessions a protocolEcho bot created (for the far end to connect). */
  | { type: "connected"; mediaSessionIds?: string[] }
  | { type: "failed"; message: string }
  | { type: "counters"; framesReceived: number; framesSent: number; framesDropped: number }
  | { type: "closed" };

export type BaselineCounters = Extract<BaselineThreadReply, { type: "counters" }>;

/**
 * A baseline bot (baseline-bot.ts) in its own worker thread, started exactly like the media
 * worker (same heap setting, same scheduling request), so a baseline's cost differs from the
 * worker's by its design alone: not by sharing the benchmark's main thread and its heap, whose
 * garbage collections would be charged to the baseline.
 */
export class BaselineBotThread {
  /** The sessions the bot created (protocolEcho), empty for the baselines. */
  mediaSessionIds: string[] = [];

  private constructor(private readonly worker: Worker) {}

  static async start(settings: BaselineThreadSettings): Promise<BaselineBotThread> {
    configureMediaWorkerHeap();
    const worker = spawnWorker(siblingEntry("baseline-bot-worker", import.meta.url), settings);
    const thread = new BaselineBotThread(worker);
    const first = await thread.next();
    if (first.type !== "connected") {
      await worker.terminate();
      throw new Error(first.type === "failed" ? first.message : `baseline bot thread said ${first.type}`);
    }
    thread.mediaSessionIds = first.mediaSessionIds ?? [];
    return thread;
  }

  async counters(): Promise<BaselineCounters> {
    this.worker.postMessage({ type: "counters" } satisfies BaselineThreadRequest);
    const answer = await this.next();
    if (answer.type !== "counters") throw new Error(`baseline bot thread answered ${answer.type}`);
    return answer;
  }

  /** Closes the bot's sockets, then ends the thread (terminated if it does not answer in 5 s). */
  async close(): Promise<void> {
    this.worker.postMessage({ type: "close" } satisfies BaselineThreadRequest);
    const timer = setTimeout(() => void this.worker.terminate(), 5000);
    await Promise.race([this.next().catch(() => undefined), new Promise((r) => this.worker.once("exit", r))]);
    clearTimeout(timer);
    await this.worker.terminate();
  }

  private next(): Promise<BaselineThreadReply> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: BaselineThreadReply) => {
        cleanup();
        resolve(message);
      };
      const onError = (error: Error) => {
        cleanup();
        reject(error);
      };
      const onExit = (code: number) => {
        cleanup();
        reject(new Error(`baseline bot thread exited (${code})`));
      };
      const cleanup = () => {
        this.worker.off("message", onMessage);
        this.worker.off("error", onError);
        this.worker.off("exit", onExit);
      };
      this.worker.once("message", onMessage);
      this.worker.once("error", onError);
      this.worker.once("exit", onExit);
    });
  }
}
