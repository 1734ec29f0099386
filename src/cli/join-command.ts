import { Command } from "commander";
import { type ControlFlags, controlOptions } from "./control-client.js";
import { runControlCommand } from "./control-command-runner.js";
import { secondsArgument } from "./seconds-argument.js";
import { placeCallAndWait, type WaitFlags, waitOptions } from "./wait-for-call.js";

interface JoinFlags extends ControlFlags, WaitFlags {
  meetingId?: string;
  passcode?: string;
  tenant?: string;
  lobbyTimeout?: number;
  unmixed?: boolean;
  displayName?: string;
}

/** The body of POST /calls/join, or why the flags cannot make one. */
function joinBody(joinUrl: string | undefined, flags: JoinFlags): Record<string, unknown> | string {
  if (joinUrl !== undefined && flags.meetingId !== undefined)
    return "give a join link or --meeting-id, not both";
  if (joinUrl === undefined && flags.meetingId === undefined)
    return "give the meeting's join link, or --meeting-id with --tenant";
  if (joinUrl !== undefined && (flags.passcode !== undefined || flags.tenant !== undefined))
    return "--passcode and --tenant go with --meeting-id (a join link carries its tenant)";
  if (flags.meetingId !== undefined && flags.tenant === undefined)
    return "--meeting-id needs --tenant <tenant id>";
  return {
    ...(joinUrl !== undefined
      ? { joinUrl }
      : {
          joinMeetingId: flags.meetingId,
          ...(flags.passcode !== undefined ? { passcode: flags.passcode } : {}),
          tenantId: flags.tenant,
        }),
    ...(flags.lobbyTimeout !== undefined ? { lobbyTimeoutMs: flags.lobbyTimeout } : {}),
    ...(flags.unmixed ? { unmixedAudio: true } : {}),
    ...(flags.displayName !== undefined ? { displayName: flags.displayName } : {}),
  };
}

export function joinCommand(): Command {
  const command = new Command("join")
    .summary("have the running bot join a Teams meeting (calls API)")
    .description(
      "Asks the running bot, through its calls API (docs/calls-api.md; BOT_CONTROL_TOKEN set on the bot), to " +
        "join a meeting by its join link, or by meeting id and passcode. Prints the call id. With --wait it " +
        "then follows the call: exit code 0 once established, 1 if it ends first or --wait-timeout passes.",
    )
    .argument("[joinUrl]", "the meeting's join link (https://teams.microsoft.com/l/meetup-join/...)")
    .option("--meeting-id <id>", "join by the meeting id of the invitation instead (with --tenant)")
    .option("--passcode <passcode>", "the meeting's passcode, with --meeting-id")
    .option("--tenant <tenantId>", "the meeting's tenant id (a GUID), with --meeting-id")
    .option(
      "--lobby-timeout <s>",
      "give up if not admitted from the lobby within this many seconds",
      secondsArgument(3600),
    )
    .option("--unmixed", "ask for unmixed per-speaker audio")
    .option("--display-name <name>", "the name the bot shows in the meeting");
  for (const option of [...waitOptions(), ...controlOptions()]) command.addOption(option);
  return command
    .addHelpText(
      "after",
      [
        "",
        "The token is read from --token-file or the BOT_CONTROL_TOKEN variable, never from an argument.",
        "",
        "Examples:",
        "  $ teams-media-bot join --token-file ~/.bot-token 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_...'",
        "  $ BOT_CONTROL_TOKEN=\"$(cat ~/.bot-token)\" teams-media-bot join --meeting-id '123 456 789 012' \\",
        "      --passcode aBc123 --tenant 72f988bf-86f1-41af-91ab-2d7cd011db47 --wait",
      ].join("\n"),
    )
    .action(async (joinUrl: string | undefined, flags: JoinFlags) => {
      const made = joinBody(joinUrl, flags);
      const body = typeof made === "string" ? command.error(`error: ${made}`) : made;
      await runControlCommand("join", () => placeCallAndWait(flags, "/calls/join", body));
    });
}
