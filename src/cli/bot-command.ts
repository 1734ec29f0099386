import { Command } from "commander";

export function botCommand(): Command {
  return new Command("bot")
    .summary("run the bot against the configured Graph, identity and media host")
    .description(
      "Runs the bot as `npm run bot` does: configured by BOT_* environment variables (README, " +
        '"Configuration"); SIGINT/SIGTERM (on Windows also Ctrl+Break) hang up live calls and stop it, ' +
        "and so does the end of stdin with BOT_STOP_ON_STDIN_END=true.",
    )
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        "  $ BOT_APP_ID=... BOT_APP_SECRET=... BOT_TENANT_ID=... teams-media-bot bot",
        "  $ eval \"$(teams-media-bot emulator graph | grep '^export ')\"   # not while it runs: see emulator graph",
      ].join("\n"),
    )
    .action(async () => {
      try {
        const { runBot } = await import("../bot.js");
        await runBot();
      } catch (error) {
        process.stderr.write(`bot failed to start: ${(error as Error).message}\n`);
        process.exit(1);
      }
    });
}
