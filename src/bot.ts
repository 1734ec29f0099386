/**
 * `npm run bot`: the bot alone, against the configured Graph, identity and media host.
 * Configuration comes from BOT_* environment variables (README, "Configuration").
 * Stops gracefully on SIGTERM/SIGINT (and Windows' console events, and the end of stdin with
 * BOT_STOP_ON_STDIN_END): app/stop-triggers.ts.
 */
import { isMainModule } from "./app/main-module.js";
import { startProductionBot } from "./app/production-bot.js";
import { installStopTriggers } from "./app/stop-triggers.js";
import { loadConfig } from "./config/config.js";
import { ConfigError } from "./config/config-error.js";
import { createLogger } from "./log/logger.js";

export async function runBot(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`configuration error: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel, name: "bot" });
  let bot: Awaited<ReturnType<typeof startProductionBot>>;
  try {
    bot = await startProductionBot(config, logger);
  } catch (error) {
    // File-path settings are checked at start (config/file-settings.ts): same one line as above.
    if (error instanceof ConfigError) {
      process.stderr.write(`configuration error: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  installStopTriggers(
    (reason) => {
      logger.info({ reason }, "stopping: hanging up live calls");
      bot.stop().then(
        () => process.exit(0),
        (error) => {
          logger.error({ err: error }, "stop failed");
          process.exit(1);
        },
      );
    },
    config.stopOnStdinEnd ? { stdin: process.stdin } : {},
  );
}

if (isMainModule(import.meta.url)) {
  runBot().catch((error) => {
    process.stderr.write(`bot failed to start: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
