/**
 * `npm start`: with BOT_APP_ID (and the rest of the configuration) set, the bot against the
 * configured services; with no configuration, the local demo (emulators + bot, one call).
 */
import { runBot } from "./bot.js";
import { hasBotConfiguration } from "./config/config.js";
import { runDemo } from "./demo/demo.js";

if (hasBotConfiguration()) {
  await runBot();
} else {
  try {
    await runDemo();
    process.exit(0);
  } catch (error) {
    process.stderr.write(`demo failed: ${(error as Error).stack ?? error}\n`);
    process.exit(1);
  }
}
