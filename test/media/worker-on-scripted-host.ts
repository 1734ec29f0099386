import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../src/log/logger.js";
import type { HandlerSpec } from "../../src/media/bot-api.js";
import { BridgeMediaSessionProvider } from "../../src/media/bridge-media-session-provider.js";
import { ScriptedMediaHost } from "./scripted-media-host.js";

export interface WorkerOnScriptedHost {
  /** A temporary directory (recordings), removed by stop(). */
  dir: string;
  host: ScriptedMediaHost;
  provider: BridgeMediaSessionProvider;
  stop(): Promise<void>;
}

export interface WorkerOnScriptedHostOptions {
  secret: string;
  reconnectGraceMs: number;
  /** The worker's handlers, given the recordings directory; none by default. */
  handlers?: (dir: string) => Promise<HandlerSpec[]>;
  /** The provider's adaptiveLiveTarget (its default when unset). */
  adaptiveLiveTarget?: boolean;
}

/**
 * The real media worker (through its provider) connected to a ScriptedMediaHost on loopback,
 * with its own recordings directory; resolves once the worker is connected.
 */
export async function startWorkerOnScriptedHost(
  options: WorkerOnScriptedHostOptions,
): Promise<WorkerOnScriptedHost> {
  const dir = await mkdtemp(join(tmpdir(), "scripted-host-worker-"));
  const host = await ScriptedMediaHost.start();
  const provider = await BridgeMediaSessionProvider.start({
    bridge: { url: host.url, secret: options.secret, reconnectGraceMs: options.reconnectGraceMs },
    media: { fqdn: "media.test", publicPort: 8445, unmixedAudio: false, recordingsDir: dir },
    handlers: await options.handlers?.(dir),
    adaptiveLiveTarget: options.adaptiveLiveTarget,
    logger: silentLogger(),
    workerLogLevel: "silent",
    requestTimeoutMs: 2000,
  });
  const stop = async () => {
    await provider.close();
    await host.stop();
    await rm(dir, { recursive: true, force: true });
  };
  await provider.waitUntilConnected(5000).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  return { dir, host, provider, stop };
}
