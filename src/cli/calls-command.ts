import { Command } from "commander";
import type { CallSummary } from "../control/calls-api-backend.js";
import { ControlClient, type ControlFlags, controlOptions } from "./control-client.js";
import { runControlCommand } from "./control-command-runner.js";

interface CallsFlags extends ControlFlags {
  json?: boolean;
}

/** One line per call, columns aligned; the header alone when there is none. */
export function callsTable(calls: CallSummary[]): string {
  const rows = [
    ["CALL ID", "DIRECTION", "KIND", "STATE", "TENANT", "SINCE"],
    ...calls.map((c) => [
      c.id,
      c.direction,
      c.kind,
      c.inLobby ? `${c.state} (lobby)` : c.state,
      c.tenantId ?? "-",
      c.since,
    ]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] as string).length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] as number))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export function callsCommand(): Command {
  const command = new Command("calls")
    .summary("list the running bot's live calls (calls API)")
    .description("Lists the running bot's live calls through its calls API (docs/calls-api.md).")
    .option("--json", "print the API's JSON instead of a table");
  for (const option of controlOptions()) command.addOption(option);
  return command
    .addHelpText("after", ["", "Example:", "  $ teams-media-bot calls --token-file ~/.bot-token"].join("\n"))
    .action(async (flags: CallsFlags) => {
      await runControlCommand("calls", async () => {
        const { calls } = await ControlClient.from(flags).request<{ calls: CallSummary[] }>("GET", "/calls");
        process.stdout.write(flags.json ? `${JSON.stringify(calls, null, 2)}\n` : `${callsTable(calls)}\n`);
        return 0;
      });
    });
}
