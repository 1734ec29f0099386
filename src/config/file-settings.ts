/**
 * The settings that name files, checked once at start: a missing certificate used to stop the
 * bot with a bare ENOENT naming no variable, and a `player:` WAV that does not exist or is not
 * 16 kHz mono 16-bit started fine and failed on every call. Each problem is a ConfigError: one
 * line naming the variable and the path.
 */
import { constants } from "node:fs";
import { access, mkdir, stat } from "node:fs/promises";
import { readPcm16kWav, WavFormatError } from "../media/wav-file.js";
import type { BotConfig } from "./config.js";
import { ConfigError } from "./config-error.js";

/** Throws a ConfigError for the first file-path setting the bot could not use. */
export async function checkFileSettings(config: BotConfig): Promise<void> {
  if (config.tls) {
    await checkReadableFile("BOT_TLS_CERT", config.tls.certPath);
    await checkReadableFile("BOT_TLS_KEY", config.tls.keyPath);
  }
  if (config.caCertPath !== undefined) await checkReadableFile("BOT_CA_CERT", config.caCertPath);
  if (config.credential.kind === "certificate") {
    await checkReadableFile("BOT_APP_CERT_KEY", config.credential.privateKeyPath);
    if (config.credential.certificatePath !== undefined)
      await checkReadableFile("BOT_APP_CERT_PATH", config.credential.certificatePath);
  }
  const handlers = config.media.handlers ?? [];
  for (const entry of handlers) {
    if (!entry.startsWith("player:")) continue;
    const wavPath = entry.slice("player:".length);
    try {
      await readPcm16kWav(wavPath);
    } catch (error) {
      // WavFormatError's message starts with the path already.
      const why = error instanceof WavFormatError ? error.message : `${wavPath}: ${(error as Error).message}`;
      throw new ConfigError("BOT_MEDIA_HANDLERS", `player WAV ${why}`);
    }
  }
  // Recorders (and handler modules, which may record) write there: a directory that cannot be
  // made or written would fail every call's recording instead of the start.
  if (handlers.some((entry) => entry.startsWith("recorder") || entry.startsWith("module:")))
    await checkWritableDirectory("BOT_RECORDINGS_DIR", config.media.recordingsDir);
}

async function checkReadableFile(variable: string, path: string): Promise<void> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new ConfigError(variable, `"${path}" is not a file`);
    await access(path, constants.R_OK);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(variable, `cannot read "${path}" (${describeFsError(error)})`);
  }
}

async function checkWritableDirectory(variable: string, path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true });
    const info = await stat(path);
    if (!info.isDirectory()) throw new ConfigError(variable, `"${path}" is not a directory`);
    await access(path, constants.W_OK);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(
      variable,
      `cannot create or write the directory "${path}" (${describeFsError(error)})`,
    );
  }
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "ENOENT: no such file or directory";
  if (code === "EACCES" || code === "EPERM") return `${code}: permission denied`;
  if (code === "ENOTDIR") return "ENOTDIR: a part of the path is not a directory";
  if (code === "EEXIST") return "EEXIST: a file of that name exists";
  return code ?? (error as Error).message;
}
