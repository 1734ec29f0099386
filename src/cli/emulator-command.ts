import { Command } from "commander";

export function emulatorCommand(): Command {
  const emulator = new Command("emulator").summary(
    "run the Graph calling or the media platform emulator alone",
  );
  emulator
    .command("graph")
    .summary("the Graph calling emulator: prints the bot's environment, runs until Ctrl-C")
    .description(
      "Runs the Graph calling emulator (as `npm run emulator:graph`), registers a test app and prints the " +
        "bot's complete environment as export lines. With no GRAPH_EMULATOR_CALLBACK_CA it makes a throwaway " +
        "TLS certificate for the bot (BOT_TLS_CERT/BOT_TLS_KEY) and trusts it. Settings are GRAPH_EMULATOR_* " +
        "environment variables (docs/graph-emulator.md). Temporary files are removed on exit.",
    )
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        "  $ BOT_BRIDGE_SECRET=s3cret-s3cret-s3cret EMULATOR_MEDIA_CONNECT_MS=never teams-media-bot emulator media &",
        "  $ GRAPH_EMULATOR_MEDIA_URL=http://127.0.0.1:9442 GRAPH_EMULATOR_MEDIA_SECRET=s3cret-s3cret-s3cret \\",
        "      teams-media-bot emulator graph",
        "  then paste the printed export lines into another shell and run: teams-media-bot bot",
      ].join("\n"),
    )
    .action(async () => (await import("../emulator/graph/run-graph-emulator.js")).runGraphEmulator());
  emulator
    .command("media")
    .summary("the media platform emulator (the media host end of the bridge)")
    .description(
      "Runs the media platform emulator (as `npm run emulator:media`) where BOT_BRIDGE_URL points " +
        "(default ws://127.0.0.1:9442/bridge), checking BOT_BRIDGE_SECRET. Settings are EMULATOR_MEDIA_* " +
        "and BOT_* environment variables (docs/media-emulator.md).",
    )
    .addHelpText(
      "after",
      [
        "",
        "Example:",
        "  $ BOT_BRIDGE_SECRET=s3cret-s3cret-s3cret EMULATOR_MEDIA_WAV=./caller.wav teams-media-bot emulator media",
      ].join("\n"),
    )
    .action(async () => (await import("../emulator/media/run-media-emulator.js")).runMediaEmulator());
  return emulator;
}
