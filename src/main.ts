/**
 * `npm start`: with BOT_APP_ID (and the rest of the configuration) set, the bot against the
 * configured services; with only BOT_MEDIA_HANDLERS, those handlers against the local emulators
 * (one call, as `teams-media-bot dev`); with no configuration, the local demo (emulators + bot,
 * one call).
 */
import { runBot } from "./bot.js";
import { hasBotConfiguration } from "./config/config.js";
import { runDemo } from "./demo/demo.js";
import { hasMediaHandlers, runHandlersFromEnv } from "./dev/dev-from-env.js";

if (hasBotConfiguration()) {
  await runBot();
} else if (hasMediaHandlers()) {
  process.exit(await runHandlersFromEnv());
} else {
  try {
    await runDemo();
    process.exit(0);
  } catch (error) {
    process.stderr.write(`demo failed: ${(error as Error).stack ?? error}\n`);
    process.exit(1);
  }
}
