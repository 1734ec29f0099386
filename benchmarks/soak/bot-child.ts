/**
 * The bot under soak, in its own process as it runs in production: BotApp with the media
 * worker thread (BridgeMediaSessionProvider), configured from BOT_* variables exactly as
 * `npm run bot` is. bench:soak reads its metrics and memory over the IPC channel rather than
 * over HTTP, so the sampling does not depend on where /metrics is served, and the bot's RSS is
 * the bot's alone. Exits when the channel closes (the soak ended in any way).
 */
import type { BotApp } from "../../src/app/bot-app.js";
import { startProductionBot } from "../../src/app/production-bot.js";
import { loadConfig } from "../../src/config/config.js";
import { createLogger } from "../../src/log/logger.js";
import { answerMemoryProbes, processMemory } from "../lib/memory-probe.js";
import type { BotEnvelope, BotMessage, BotRequest, BotScrape } from "./bot-messages.js";

process.on("disconnect", () => process.exit(0));
if (!process.connected) process.exit(0);
answerMemoryProbes();

const send = (message: BotMessage) => process.send?.(message);

let bot: BotApp;
try {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: "bot" });
  bot = await startProductionBot(config, logger);
} catch (error) {
  send({ bot: "failed", error: (error as Error).message });
  process.exit(1);
}

async function handle(request: BotRequest): Promise<unknown> {
  switch (request.op) {
    case "scrape": {
      const own = await bot.registry.metrics();
      const media = bot.media.metrics ? await bot.media.metrics() : "";
      return { memory: processMemory(), metricsText: `${own.trimEnd()}\n${media}` } satisfies BotScrape;
    }
    case "stop": {
      await bot.stop(request.timeoutMs);
      setImmediate(() => process.exit(0));
      return {};
    }
  }
}

process.on("message", (message: Partial<BotEnvelope>) => {
  if (typeof message?.botRequest !== "number" || message.request === undefined) return;
  const id = message.botRequest;
  handle(message.request).then(
    (result) => send({ bot: "reply", id, ok: true, result }),
    (error: Error) => send({ bot: "reply", id, ok: false, error: error.message }),
  );
});
send({ bot: "ready" });
