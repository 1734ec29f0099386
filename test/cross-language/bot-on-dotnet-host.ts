/**
 * The stack both cross-language end-to-end tests run: the .NET media host (fake platform
 * playing caller-speech.wav, recording what it is sent), the Graph emulator, and the bot
 * (BotApp with the media worker's built-in echo) on loopback. A call is established the way
 * the real service does it: once the worker has the host's media for it.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { BotApp } from "../../src/app/bot-app.js";
import { loadConfig } from "../../src/config/config.js";
import { type EmulatedApp, emulatedBotEnv, newEmulatedApp } from "../../src/demo/emulator-bot-env.js";
import { freePort } from "../../src/demo/free-port.js";
import { createLocalBotTls } from "../../src/demo/local-bot-tls.js";
import { GraphEmulator } from "../../src/emulator/graph/graph-emulator.js";
import { silentLogger } from "../../src/log/logger.js";
import { BridgeMediaSessionProvider } from "../../src/media/bridge-media-session-provider.js";
import { DotnetHost, ROOT } from "./dotnet-host.js";

export const CALLER_WAV = path.join(ROOT, "assets", "audio", "caller-speech.wav");

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface BotOnDotnetHost {
  host: DotnetHost;
  graph: GraphEmulator;
  bot: BotApp;
  provider: BridgeMediaSessionProvider;
  app: EmulatedApp;
  /** Where the host writes what it was sent, one WAV per session (named by its call_id). */
  recordDir: string;
}

/**
 * Starts the three in `dir`, host first. The caller stops them (bot, Graph, host) in its own
 * test, as what it asserts on differs. A call is established once the worker reports media
 * for any of its names: the Graph call id, or for a placed call the provisional id (its media
 * session id) the host knows it by until the Graph id is bound.
 */
export async function startBotOnDotnetHost(
  dir: string,
  onHost?: (host: DotnetHost) => void,
): Promise<BotOnDotnetHost> {
  const secret = randomBytes(24).toString("base64url");
  const recordDir = path.join(dir, "host-recordings");
  const host = await DotnetHost.start({
    configuration: "Release",
    secret,
    wavPath: CALLER_WAV,
    recordDir,
    maxLifetimeMs: 120_000,
  });
  onHost?.(host);
  const app = newEmulatedApp();
  const port = await freePort();
  const tls = await createLocalBotTls();
  const connected = new Set<string>();
  const waiters = new Map<string, () => void>();
  const mediaConnected = (ids: string[]) =>
    ids.some((id) => connected.has(id))
      ? Promise.resolve(true)
      : new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), 10_000);
          const wake = () => {
            clearTimeout(timer);
            resolve(true);
          };
          for (const id of ids) waiters.set(id, wake);
        });
  const graph = await GraphEmulator.start({
    logger: silentLogger(),
    callbackCaPem: tls.certPem,
    apps: [{ ...app, callbackUrl: `https://127.0.0.1:${port}/api/calls` }],
    establishWhen: (call) => mediaConnected([call.id, call.mediaSession?.mpMediaSessionId ?? ""]),
  });
  const config = loadConfig(
    emulatedBotEnv(graph, {
      app,
      port,
      tls,
      mediaFqdn: "media.e2e.local",
      bridgeUrl: host.url,
      bridgeSecret: secret,
      recordingsDir: path.join(dir, "bot-recordings"),
      logLevel: "warn",
    }),
  );
  let provider: BridgeMediaSessionProvider | undefined;
  const bot = await BotApp.start({
    config,
    logger: silentLogger(),
    media: async ({ config: c, logger }) => {
      provider = await BridgeMediaSessionProvider.start({
        bridge: c.bridge,
        media: c.media,
        logger,
        handlers: [{ builtin: "echo" }],
      });
      provider.onEvent((event) => {
        if (event.kind !== "mediaConnected") return;
        connected.add(event.callId);
        waiters.get(event.callId)?.();
      });
      await provider.waitUntilConnected(10_000);
      return provider;
    },
  });
  if (!provider) throw new Error("the bot started without its media provider");
  return { host, graph, bot, provider, app, recordDir };
}

/** Waits for a file the host writes when a session closes. */
export async function waitForFile(file: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`${file} was not written within ${timeoutMs} ms`);
    await sleep(100);
  }
}
