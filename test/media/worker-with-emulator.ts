import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MediaPlatformEmulator } from "../../src/emulator/media/media-platform-emulator.js";
import { silentLogger } from "../../src/log/logger.js";
import { BridgeMediaSessionProvider } from "../../src/media/bridge-media-session-provider.js";
import type { MediaSessionEvent } from "../../src/media/media-session-provider.js";
import { tone } from "./frame-helpers.js";

export interface WorkerWithEmulator {
  /** A temporary directory (recordings), removed by stop(). */
  dir: string;
  emulator: MediaPlatformEmulator;
  provider: BridgeMediaSessionProvider;
  /** Every event the provider emitted, in order. */
  events: MediaSessionEvent[];
  stop(): Promise<void>;
}

/**
 * The real media worker (through its provider) connected to a media platform emulator on
 * loopback whose far end plays a looping tone, running one handler module from
 * test/media/fixtures with `options(dir)`.
 */
export async function startWorkerWithEmulator(
  fixture: string,
  options: (dir: string) => unknown,
  secret: string,
  requestTimeoutMs = 2000,
): Promise<WorkerWithEmulator> {
  const dir = await mkdtemp(join(tmpdir(), "media-worker-test-"));
  const emulator = await MediaPlatformEmulator.start({
    secret,
    defaultSource: { kind: "pcm", pcm: tone(50, 3), loop: true },
  });
  const provider = await BridgeMediaSessionProvider.start({
    bridge: { url: emulator.url, secret, reconnectGraceMs: 2000 },
    media: { fqdn: "media.test", publicPort: 8445, unmixedAudio: false, recordingsDir: dir },
    handlers: [{ module: join(import.meta.dirname, "fixtures", fixture), options: options(dir) }],
    logger: silentLogger(),
    workerLogLevel: "silent",
    requestTimeoutMs,
  });
  const events: MediaSessionEvent[] = [];
  provider.onEvent((event) => events.push(event));
  await provider.waitUntilConnected(3000);
  return {
    dir,
    emulator,
    provider,
    events,
    stop: async () => {
      await provider.close();
      await emulator.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
