#!/usr/bin/env node
/**
 * The `teams-media-bot` command: `dev` (your handler against the emulators), `bot`, `emulator
 * graph`, `emulator media`, `demo`, and the running bot's calls API: `join`, `call`, `calls`,
 * `hangup`. Options and --help are parsed by commander.
 */
import { Command } from "commander";
import { botCommand } from "./bot-command.js";
import { callCommand } from "./call-command.js";
import { callsCommand } from "./calls-command.js";
import { demoCommand } from "./demo-command.js";
import { devCommand } from "./dev-command.js";
import { emulatorCommand } from "./emulator-command.js";
import { hangupCommand } from "./hangup-command.js";
import { joinCommand } from "./join-command.js";

function teamsMediaBotProgram(): Command {
  return new Command("teams-media-bot")
    .description(
      "Real-time audio bots for Microsoft Teams calls: run your bot locally against emulators, or for real.",
    )
    .addCommand(devCommand())
    .addCommand(botCommand())
    .addCommand(emulatorCommand())
    .addCommand(demoCommand())
    .addCommand(joinCommand())
    .addCommand(callCommand())
    .addCommand(callsCommand())
    .addCommand(hangupCommand())
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        "  $ teams-media-bot demo                      # the demo, no configuration needed",
        "  $ teams-media-bot dev ./my-bot.ts           # your handler, one call from an emulated caller",
        "  $ teams-media-bot dev --help                # every dev option",
        "  $ teams-media-bot emulator graph            # the Graph emulator alone, prints the bot's env",
        "  $ teams-media-bot bot                       # the bot, configured by BOT_* variables",
        "  $ teams-media-bot join --token-file ~/.bot-token '<join link>'   # the running bot joins a meeting",
      ].join("\n"),
    );
}

await teamsMediaBotProgram().parseAsync(process.argv);
