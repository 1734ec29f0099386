/**
 * `npm start` with BOT_MEDIA_HANDLERS but no BOT_APP_ID: the handlers the user named run in the
 * local stack (as `teams-media-bot dev` runs them), instead of the demo bot.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readHandlers, readRawConfig } from "../config/config.js";
import { ConfigError } from "../config/config-error.js";
import { readString } from "../config/env-readers.js";
import { readHandlerOptions } from "../config/handler-options.js";
import { handlerSpecsFromConfig } from "../media/handler-specs.js";
import { DevError, runDev } from "./dev-run.js";

const CALLER_WAV = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "assets",
  "audio",
  "caller-speech.wav",
);

/** True when BOT_MEDIA_HANDLERS names handlers (in the environment or BOT_CONFIG_FILE). */
export function hasMediaHandlers(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(readString(readRawConfig(env), "BOT_MEDIA_HANDLERS"));
}

/** Runs one 30 s call to the configured handlers; exit code 0, or 1/2 with one line on stderr. */
export async function runHandlersFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    const raw = readRawConfig(env);
    const entries = readHandlers(raw);
    const specs = handlerSpecsFromConfig(entries, readHandlerOptions(raw, entries));
    for (const spec of specs) {
      if ("module" in spec && !spec.module.startsWith("file:") && !existsSync(path.resolve(spec.module)))
        throw new DevError(`handler ${spec.module} not found (looked for ${path.resolve(spec.module)})`);
    }
    process.stdout.write(
      "BOT_MEDIA_HANDLERS is set and BOT_APP_ID is not: running your handlers against the local emulators " +
        "(teams-media-bot dev --help for calls, audio and DTMF options)\n",
    );
    await runDev({
      handlers: specs,
      callerSource: { kind: "wav", path: CALLER_WAV, loop: true },
      calls: 1,
      seconds: 30,
      unmixed: false,
      speakers: 0,
      recordingsDir: readString(raw, "BOT_RECORDINGS_DIR") ?? "recordings",
      logLevel: readString(raw, "BOT_LOG_LEVEL") ?? "warn",
    });
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`configuration error: ${error.message}\n`);
      return 2;
    }
    if (error instanceof DevError) {
      process.stderr.write(`npm start: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
