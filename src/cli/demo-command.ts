import { Command } from "commander";

export function demoCommand(): Command {
  return new Command("demo")
    .summary("the one-command demo: both emulators, the demo bot, one call, a report")
    .description(
      "Runs the demo as `npm start` does with no configuration: an emulated caller rings the demo bot, which " +
        "answers, records, greets, repeats what it hears, reacts to a DTMF key and hangs up; then a report.",
    )
    .addHelpText("after", ["", "Example:", "  $ teams-media-bot demo"].join("\n"))
    .action(async () => {
      try {
        const { runDemo } = await import("../demo/demo.js");
        await runDemo();
        process.exit(0);
      } catch (error) {
        process.stderr.write(`demo failed: ${(error as Error).stack ?? error}\n`);
        process.exit(1);
      }
    });
}
