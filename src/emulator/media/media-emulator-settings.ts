import { ConfigError } from "../../config/config-error.js";
import { type RawConfig, readInteger, readString } from "../../config/env-readers.js";
import { AudioSourceError, readWavPcm16k } from "./audio-source.js";
import { DEFAULT_RECONNECT_GRACE_MS, type MediaPlatformEmulatorOptions } from "./media-platform-emulator.js";

/** Default delay before a session's media connects by itself when nothing else connects it. */
export const DEFAULT_AUTO_CONNECT_MS = 500;

/**
 * The standalone media emulator's settings (`npm run emulator:media`), read from the
 * environment. A missing or bad value throws a ConfigError naming the variable; the default
 * WAV is loaded here, so a bad file is a startup error, not a failure of every CreateSession.
 */
export function readMediaEmulatorSettings(env: RawConfig): Omit<MediaPlatformEmulatorOptions, "logger"> {
  const secret = readString(env, "BOT_BRIDGE_SECRET");
  if (!secret) throw new ConfigError("BOT_BRIDGE_SECRET", "is required but not set");
  const rawUrl = readString(env, "BOT_BRIDGE_URL") ?? "ws://127.0.0.1:9442/bridge";
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new ConfigError("BOT_BRIDGE_URL", `must be a valid ws:// URL, got "${rawUrl}"`);
  }
  if (url.protocol !== "ws:")
    throw new ConfigError("BOT_BRIDGE_URL", "must be a ws:// URL (the emulator has no TLS)");
  const toneText = readString(env, "EMULATOR_MEDIA_TONE_HZ");
  const toneHz = toneText === undefined ? 440 : Number(toneText);
  if (!(Number.isFinite(toneHz) && toneHz > 0 && toneHz < 8000))
    throw new ConfigError("EMULATOR_MEDIA_TONE_HZ", `must be a number in (0, 8000), got "${toneText}"`);
  const wav = readString(env, "EMULATOR_MEDIA_WAV");
  let defaultSource: MediaPlatformEmulatorOptions["defaultSource"] = { kind: "tone", frequencyHz: toneHz };
  if (wav !== undefined) {
    try {
      defaultSource = { kind: "pcm", pcm: readWavPcm16k(wav), loop: true };
    } catch (error) {
      if (error instanceof AudioSourceError) throw new ConfigError("EMULATOR_MEDIA_WAV", error.message);
      throw error;
    }
  }
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: Number(url.port || 80),
    path: url.pathname,
    secret,
    fqdn: readString(env, "BOT_MEDIA_FQDN"),
    publicPort: readInteger(env, "BOT_MEDIA_PUBLIC_PORT", 8445, { min: 1, max: 65535 }),
    defaultSource,
    autoConnectMediaMs: readAutoConnect(env),
    recordDir: readString(env, "EMULATOR_MEDIA_RECORD_DIR"),
    reconnectGraceMs: readInteger(env, "BOT_BRIDGE_RECONNECT_GRACE_MS", DEFAULT_RECONNECT_GRACE_MS, {
      min: 0,
      max: 120_000,
    }),
  };
}

/**
 * EMULATOR_MEDIA_CONNECT_MS: ms after which a new session's media connects by itself, or
 * "never" when a Graph emulator connects it (GRAPH_EMULATOR_MEDIA_URL), as the real platform
 * connects media only for a call Graph answered with the session's blob.
 */
function readAutoConnect(env: RawConfig): number | undefined {
  if (readString(env, "EMULATOR_MEDIA_CONNECT_MS")?.toLowerCase() === "never") return undefined;
  return readInteger(env, "EMULATOR_MEDIA_CONNECT_MS", DEFAULT_AUTO_CONNECT_MS, { min: 0, max: 600_000 });
}
