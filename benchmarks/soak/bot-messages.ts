/**
 * The IPC channel between bench:soak and its bot child (bot-child.ts). Memory probes share the
 * channel (lib/memory-probe.ts); these are the bot's own requests, one reply each.
 */
import type { ProcessMemory } from "../lib/memory-probe.js";

export type BotRequest = { op: "scrape" } | { op: "stop"; timeoutMs: number };

export interface BotScrape {
  /** The bot process: RSS (every thread) and the main thread's heap. */
  memory: ProcessMemory;
  /** The main thread's registry (signaling, Graph, process) then the media worker's (media_*, bridge_*). */
  metricsText: string;
}

export type BotMessage =
  | { bot: "ready" }
  | { bot: "failed"; error: string }
  | { bot: "reply"; id: number; ok: true; result: unknown }
  | { bot: "reply"; id: number; ok: false; error: string };

export interface BotEnvelope {
  botRequest: number;
  request: BotRequest;
}
