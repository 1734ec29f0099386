import { Command } from "commander";
import { ControlClient, type ControlFlags, controlOptions } from "./control-client.js";
import { runControlCommand } from "./control-command-runner.js";

export function hangupCommand(): Command {
  const command = new Command("hangup")
    .summary("have the running bot hang up one of its calls (calls API)")
    .description(
      "Asks the running bot, through its calls API (docs/calls-api.md), to hang up a call. Exit code 0 once " +
        "the bot has asked Graph to end it; 1 if the call is not one of the bot's.",
    )
    .argument("<callId>", "the call's id, as `join`, `call` or `calls` print it");
  for (const option of controlOptions()) command.addOption(option);
  return command
    .addHelpText(
      "after",
      ["", "Example:", "  $ teams-media-bot hangup --token-file ~/.bot-token <call id>"].join("\n"),
    )
    .action(async (callId: string, flags: ControlFlags) => {
      await runControlCommand("hangup", async () => {
        await ControlClient.from(flags).request("DELETE", `/calls/${encodeURIComponent(callId)}`);
        process.stdout.write(`hang up requested: ${callId}\n`);
        return 0;
      });
    });
}
