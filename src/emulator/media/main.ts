import { createLogger } from "../../log/logger.js";
import { DEFAULT_RECONNECT_GRACE_MS, MediaPlatformEmulator } from "./media-platform-emulator.js";

/**
 * Standalone media platform emulator: listens where BOT_BRIDGE_URL points and checks
 * BOT_BRIDGE_SECRET. Without a Graph emulator nobody calls connectMedia(), so sessions connect
 * their media by themselves after EMULATOR_MEDIA_CONNECT_MS (default 500 ms).
 * Optional: EMULATOR_MEDIA_WAV (16 kHz mono 16-bit file streamed to every call, looped),
 * EMULATOR_MEDIA_TONE_HZ (default 440), EMULATOR_MEDIA_RECORD_DIR, BOT_MEDIA_FQDN, BOT_MEDIA_PUBLIC_PORT,
 * BOT_BRIDGE_RECONNECT_GRACE_MS (how long a lost worker's sessions wait for it; default 5000, as
 * the .NET host).
 */
const logger = createLogger({ name: "media-emulator" });
const env = process.env;

function fail(message: string): never {
  logger.fatal(message);
  process.exit(1);
}

const secret = env.BOT_BRIDGE_SECRET?.trim();
if (!secret) fail("BOT_BRIDGE_SECRET is required");
let url: URL;
try {
  url = new URL(env.BOT_BRIDGE_URL?.trim() || "ws://127.0.0.1:9442/bridge");
} catch {
  fail(`BOT_BRIDGE_URL is not a URL: ${env.BOT_BRIDGE_URL}`);
}
if (url.protocol !== "ws:") fail("BOT_BRIDGE_URL must be a ws:// URL (the emulator has no TLS)");
const port = Number(url.port || 80);
const toneHz = Number(env.EMULATOR_MEDIA_TONE_HZ ?? 440);
const connectMs = Number(env.EMULATOR_MEDIA_CONNECT_MS ?? 500);
if (!Number.isFinite(toneHz) || toneHz <= 0 || toneHz >= 8000)
  fail("EMULATOR_MEDIA_TONE_HZ must be in (0, 8000)");
if (!Number.isFinite(connectMs) || connectMs < 0) fail("EMULATOR_MEDIA_CONNECT_MS must be >= 0");
const graceMs = Number(env.BOT_BRIDGE_RECONNECT_GRACE_MS ?? DEFAULT_RECONNECT_GRACE_MS);
if (!Number.isInteger(graceMs) || graceMs < 0 || graceMs > 120_000)
  fail("BOT_BRIDGE_RECONNECT_GRACE_MS must be an integer in [0, 120000]");

const emulator = await MediaPlatformEmulator.start({
  host: url.hostname,
  port,
  path: url.pathname,
  secret,
  logger,
  fqdn: env.BOT_MEDIA_FQDN?.trim() || undefined,
  publicPort: env.BOT_MEDIA_PUBLIC_PORT ? Number(env.BOT_MEDIA_PUBLIC_PORT) : undefined,
  defaultSource: env.EMULATOR_MEDIA_WAV
    ? { kind: "wav", path: env.EMULATOR_MEDIA_WAV, loop: true }
    : { kind: "tone", frequencyHz: toneHz },
  autoConnectMediaMs: connectMs,
  recordDir: env.EMULATOR_MEDIA_RECORD_DIR?.trim() || undefined,
  reconnectGraceMs: graceMs,
});
logger.info(
  { url: emulator.url, control: `${emulator.controlUrl}/control/stats` },
  "media platform emulator ready",
);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void emulator.stop().then(() => process.exit(0));
  });
}
