import { Command } from "commander";
import { type ControlFlags, controlOptions } from "./control-client.js";
import { runControlCommand } from "./control-command-runner.js";
import { placeCallAndWait, type WaitFlags, waitOptions } from "./wait-for-call.js";

interface CallFlags extends ControlFlags, WaitFlags {
  user: string;
  tenant: string;
  displayName?: string;
}

export function callCommand(): Command {
  const command = new Command("call")
    .summary("have the running bot call a Teams user (calls API)")
    .description(
      "Asks the running bot, through its calls API (docs/calls-api.md; BOT_CONTROL_TOKEN set on the bot), to " +
        "call a user peer-to-peer. Prints the call id. With --wait it then follows the call: exit code 0 once " +
        "established (answered), 1 if it ends first (declined, unreachable...) or --wait-timeout passes.",
    )
    .requiredOption("--user <userId>", "the user's Entra object id (a GUID)")
    .requiredOption("--tenant <tenantId>", "the user's tenant id (a GUID)")
    .option("--display-name <name>", "the user's display name, shown in the call");
  for (const option of [...waitOptions(), ...controlOptions()]) command.addOption(option);
  return command
    .addHelpText(
      "after",
      [
        "",
        "The token is read from --token-file or the BOT_CONTROL_TOKEN variable, never from an argument.",
        "",
        "Example:",
        "  $ teams-media-bot call --token-file ~/.bot-token --user 8b081ef6-4792-4def-b2c9-c363a1bf41d5 \\",
        "      --tenant 72f988bf-86f1-41af-91ab-2d7cd011db47 --wait",
      ].join("\n"),
    )
    .action(async (flags: CallFlags) => {
      await runControlCommand("call", () =>
        placeCallAndWait(flags, "/calls/user", {
          userId: flags.user,
          tenantId: flags.tenant,
          ...(flags.displayName !== undefined ? { displayName: flags.displayName } : {}),
        }),
      );
    });
}
