import { stopSignals } from "../../app/stop-triggers.js";
import { createLogger } from "../../log/logger.js";
import { describeListenError } from "../listen-error.js";
import { orExit } from "../or-exit.js";
import { readMediaEmulatorSettings } from "./media-emulator-settings.js";
import { MediaPlatformEmulator } from "./media-platform-emulator.js";

const NAME = "media emulator";

/**
 * The standalone media platform emulator (`npm run emulator:media`, `teams-media-bot emulator
 * media`): listens where BOT_BRIDGE_URL points and checks
 * BOT_BRIDGE_SECRET. Settings (docs/media-emulator.md, "Standalone"): EMULATOR_MEDIA_WAV
 * (16 kHz mono 16-bit file streamed to every call, looped), EMULATOR_MEDIA_TONE_HZ (default
 * 440), EMULATOR_MEDIA_CONNECT_MS (a session's media connects by itself after this long,
 * default 500; "never" when a Graph emulator connects it, GRAPH_EMULATOR_MEDIA_URL),
 * EMULATOR_MEDIA_RECORD_DIR, BOT_MEDIA_FQDN, BOT_MEDIA_PUBLIC_PORT, BOT_BRIDGE_RECONNECT_GRACE_MS
 * (how long a lost worker's sessions wait for it; default 5000, as the .NET host).
 * It makes no temporary files (recordings go to EMULATOR_MEDIA_RECORD_DIR only when set).
 * A bad setting, or a port that cannot be bound, ends the process with one line and exit code 1.
 */
export async function runMediaEmulator(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { settings, logger } = await orExit(NAME, () => ({
    settings: readMediaEmulatorSettings(env),
    logger: createLogger({ name: "media-emulator" }),
  }));
  const emulator = await orExit(
    NAME,
    () => MediaPlatformEmulator.start({ ...settings, logger }),
    (error) => `cannot start: ${describeListenError(error, "BOT_BRIDGE_URL")}`,
  );
  logger.info(
    {
      url: emulator.url,
      control: `${emulator.controlUrl}/control/stats`,
      autoConnectMediaMs: settings.autoConnectMediaMs ?? "never",
    },
    "media platform emulator ready",
  );

  for (const signal of stopSignals(process.platform)) {
    process.once(signal, () => {
      void emulator.stop().then(() => process.exit(0));
    });
  }
}
