/**
 * The answer path with real parts on both sides, for the signaling suites that need them: the
 * Graph emulator (one per test file), a media platform emulator per test and the bot (BotApp,
 * the real media worker and bridge client), each test's bot and host stopped after it.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll } from "vitest";
import { BotApp } from "../../../src/app/bot-app.js";
import { loadConfig } from "../../../src/config/config.js";
import type { RawConfig } from "../../../src/config/env-readers.js";
import { emulatedBotEnv } from "../../../src/demo/emulator-bot-env.js";
import { freePort } from "../../../src/demo/free-port.js";
import { createLocalBotTls, type LocalBotTls } from "../../../src/demo/local-bot-tls.js";
import { GraphEmulator } from "../../../src/emulator/graph/graph-emulator.js";
import type { LoggedRequest } from "../../../src/emulator/graph/request-log.js";
import {
  MediaPlatformEmulator,
  type MediaPlatformEmulatorOptions,
} from "../../../src/emulator/media/media-platform-emulator.js";
import { silentLogger } from "../../../src/log/logger.js";
import { BridgeMediaSessionProvider } from "../../../src/media/bridge-media-session-provider.js";
import { handlerSpecsFromConfig } from "../../../src/media/handler-specs.js";
import type { AnswerTiming } from "../../../src/signaling/call-manager.js";
import { capturedLogger } from "../../graph/helpers.js";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";

export interface EmulatedBot {
  appId: string;
  bot: BotApp;
  media: MediaPlatformEmulator;
  /** The bot's log lines (JSON), when started with captureLogs. */
  logs: string[];
}

export interface EmulatedBotOptions {
  /** The media host's FQDN. */
  mediaFqdn: string;
  /** More media platform emulator options. */
  media?: Partial<MediaPlatformEmulatorOptions>;
  /** More BOT_* settings. */
  env?: RawConfig;
  /** Keeps the bot's info-level log in `logs` (silent otherwise). */
  captureLogs?: boolean;
  /** Graph's answer deadline as the bot counts it (15 s by default). */
  answerDeadlineMs?: number;
  /** Observer of each answer's timings (the signaling option of the same name). */
  onAnswered?: (timing: AnswerTiming) => void;
}

export interface EmulatedBotSuite {
  /** The file's Graph emulator (set in beforeAll). */
  graph(): GraphEmulator;
  start(options: EmulatedBotOptions): Promise<EmulatedBot>;
  /** Graph's logged requests of one action for one call. */
  requests(callId: string, action: string): LoggedRequest[];
}

/** Registers the file's hooks; call at the top of a test file. */
export function emulatedBotPerTest(): EmulatedBotSuite {
  let graph: GraphEmulator | undefined;
  let tls: LocalBotTls | undefined;
  let dir: string | undefined;
  let running: EmulatedBot | undefined;

  beforeAll(async () => {
    tls = await createLocalBotTls();
    graph = await GraphEmulator.start({ logger: silentLogger(), callbackCaPem: tls.certPem });
    dir = await mkdtemp(path.join(tmpdir(), "emulated-bot-"));
  });
  afterAll(async () => {
    await graph?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    await running?.bot.stop(3000);
    await running?.media.stop();
    running = undefined;
  });

  const theGraph = (): GraphEmulator => {
    if (!graph) throw new Error("the Graph emulator starts in beforeAll");
    return graph;
  };

  return {
    graph: theGraph,
    requests: (callId, action) =>
      theGraph()
        .requestLog()
        .filter((request) => request.callId === callId && request.action === action),
    async start(options) {
      const graph = theGraph();
      const bridgeSecret = randomBytes(24).toString("base64url");
      const host = await MediaPlatformEmulator.start({
        secret: bridgeSecret,
        fqdn: options.mediaFqdn,
        publicPort: 8445,
        ...options.media,
      });
      const app = { appId: randomUUID(), secret: randomBytes(24).toString("base64url"), tenantId: TENANT };
      const port = await freePort();
      graph.registerApp({ ...app, callbackUrl: `https://127.0.0.1:${port}/api/calls` });
      const config = loadConfig({
        ...emulatedBotEnv(graph, {
          app,
          port,
          tls: tls as LocalBotTls,
          mediaFqdn: options.mediaFqdn,
          bridgeUrl: host.url,
          bridgeSecret,
          recordingsDir: dir as string,
          logLevel: options.captureLogs ? "info" : "silent",
        }),
        ...options.env,
      });
      const captured = options.captureLogs ? capturedLogger() : undefined;
      const bot = await BotApp.start({
        config,
        logger: captured?.logger ?? silentLogger(),
        signaling: {
          ...(options.answerDeadlineMs === undefined ? {} : { answerDeadlineMs: options.answerDeadlineMs }),
          ...(options.onAnswered ? { onAnswered: options.onAnswered } : {}),
        },
        media: async ({ config: c, logger: l }) => {
          const provider = await BridgeMediaSessionProvider.start({
            bridge: c.bridge,
            media: c.media,
            // BOT_MEDIA_HANDLERS, as the production bot loads them (none by default).
            handlers: handlerSpecsFromConfig(c.media.handlers ?? [], c.media.handlerOptions),
            logger: l,
            workerLogLevel: "silent",
          });
          await provider.waitUntilConnected(5000);
          return provider;
        },
      });
      running = { appId: app.appId, bot, media: host, logs: captured?.lines ?? [] };
      return running;
    },
  };
}

/** The value of the bot's metric with these labels (0 when absent). */
export async function botMetric(
  r: EmulatedBot,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const values = (await r.bot.registry.getSingleMetric(name)?.get())?.values ?? [];
  const match = values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value));
  return match?.value ?? 0;
}
