import path from "node:path";
import { fileURLToPath } from "node:url";
import { Command, InvalidArgumentError, Option } from "commander";
import type { AudioSourceSpec } from "../emulator/media/audio-source.js";

const AUDIO = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "assets", "audio");
export const DEFAULT_CALLER_WAV = path.join(AUDIO, "caller-speech.wav");

function positiveInteger(max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max)
      throw new InvalidArgumentError(`must be an integer from 1 to ${max}.`);
    return n;
  };
}

function seconds(value: string): number {
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0 && n <= 86_400))
    throw new InvalidArgumentError("must be a number of seconds in (0, 86400].");
  return n;
}

function hertz(value: string): number {
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0 && n < 8000)) throw new InvalidArgumentError("must be in (0, 8000) Hz.");
  return n;
}

function json(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw new InvalidArgumentError('must be JSON, e.g. \'{"greeting":"hello.wav"}\'.');
  }
}

export interface DevFlags {
  wav?: string;
  tone?: number;
  silence?: boolean;
  calls: number;
  seconds: number;
  unmixed?: boolean;
  speakers?: number;
  meeting?: boolean;
  lobby?: number;
  options?: unknown;
  recordings: string;
  logLevel: string;
}

/** The caller's audio chosen by --wav, --tone or --silence (the demo's speech by default). */
export function callerSourceOf(flags: DevFlags): AudioSourceSpec {
  if (flags.silence) return { kind: "silence" };
  if (flags.tone !== undefined) return { kind: "tone", frequencyHz: flags.tone };
  return { kind: "wav", path: path.resolve(flags.wav ?? DEFAULT_CALLER_WAV), loop: true };
}

export function devCommand(): Command {
  return new Command("dev")
    .summary("run your handler against both emulators and place calls to it")
    .description(
      "Starts the Graph calling emulator, the media platform emulator and the bot with your call handler " +
        "(TLS, secrets and the bot's settings are wired for you), then places calls from an emulated caller, or " +
        "with --meeting has the bot join an emulated meeting by its join link (lobby and admission shown). " +
        "While it runs, keys 0-9 * # A-D typed in the terminal (or piped to stdin) arrive as DTMF on every " +
        "call, q or Ctrl-C hangs up, and a live line shows the caller's and the bot's levels (dBFS), marks " +
        "played, frames dropped and latency. It ends with the demo's report, exit code 0; 1 if the handler " +
        "cannot be loaded or a call is not established.",
    )
    .argument(
      "<handler>",
      "your handler module, relative to the current folder: path[#export] (.js, .mjs, or .ts with tsx installed)",
    )
    .addOption(
      new Option("--wav <file>", "the caller speaks this 16 kHz mono 16-bit WAV, looped").conflicts([
        "tone",
        "silence",
      ]),
    )
    .addOption(
      new Option("--tone <hz>", "the caller plays a sine tone of this frequency")
        .argParser(hertz)
        .conflicts("silence"),
    )
    .option("--silence", "the caller is silent")
    .option("--calls <n>", "number of calls placed at once (1-50)", positiveInteger(50), 1)
    .addOption(
      new Option(
        "--meeting",
        "instead of calls to the bot, the bot joins an emulated meeting (by its join link) of --speakers " +
          "participants (default 1), the first speaking the caller's audio, the others tones of their own",
      ).conflicts("calls"),
    )
    .addOption(
      new Option(
        "--lobby <s>",
        "with --meeting: the meeting holds the bot in its lobby, admitting it after s seconds",
      ).argParser(seconds),
    )
    .option(
      "--seconds <s>",
      "how long each call lasts before the caller hangs up, unless the bot hangs up first",
      seconds,
      30,
    )
    .option("--unmixed", "ask for unmixed per-speaker audio (BOT_MEDIA_UNMIXED_AUDIO=true)")
    .option(
      "--speakers <n>",
      "meeting speakers (1-4), each with its own audio; the first speaks the caller's audio (with --meeting: the meeting's participants)",
      positiveInteger(4),
    )
    .option("--options <json>", "JSON given to your handler factory as its options", json)
    .option("--recordings <dir>", "where the bot writes recordings", "recordings")
    .option("--log-level <level>", "bot log level (fatal, error, warn, info, debug, trace, silent)", "warn")
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        "  $ teams-media-bot dev ./my-bot.ts",
        "  $ teams-media-bot dev ./dist/my-bot.js#createBot --wav ./caller.wav --seconds 20",
        '  $ teams-media-bot dev ./my-bot.ts --calls 3 --tone 440 --options \'{"greeting":"hi.wav"}\'',
        "  $ teams-media-bot dev ./my-bot.ts --speakers 3 --unmixed",
        "  $ teams-media-bot dev ./my-bot.ts --meeting --speakers 3 --unmixed --lobby 2",
        "  $ echo '12#' | teams-media-bot dev ./my-bot.ts --seconds 5   # DTMF 1, 2, # from a pipe",
      ].join("\n"),
    )
    .action(async (handler: string, flags: DevFlags) => {
      // Loaded when run, so --help answers without loading the bot.
      const { DevError, handlerSpecOf, runDev } = await import("../dev/dev-run.js");
      if (flags.lobby !== undefined && !flags.meeting) {
        process.stderr.write("teams-media-bot dev: --lobby goes with --meeting\n");
        process.exit(1);
      }
      try {
        await runDev({
          handlers: [handlerSpecOf(handler, flags.options)],
          callerSource: callerSourceOf(flags),
          calls: flags.calls,
          seconds: flags.seconds,
          unmixed: flags.unmixed === true,
          speakers: flags.speakers ?? 0,
          ...(flags.meeting
            ? {
                meeting:
                  flags.lobby !== undefined ? { lobbyAdmitAfterMs: Math.round(flags.lobby * 1000) } : {},
              }
            : {}),
          recordingsDir: flags.recordings,
          logLevel: flags.logLevel,
        });
        process.exit(0);
      } catch (error) {
        if (error instanceof DevError) {
          process.stderr.write(`teams-media-bot dev: ${error.message}\n`);
          process.exit(1);
        }
        throw error;
      }
    });
}
