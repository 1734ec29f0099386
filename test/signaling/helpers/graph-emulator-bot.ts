/**
 * The signaling service (no media host: a RecordingMediaProvider) against the Graph emulator,
 * with real parts between them: HTTPS both ways, the msal token provider against the emulator's
 * token endpoint, the real Graph client, emulator-signed notification tokens.
 */
import { randomUUID } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { Registry } from "prom-client";
import type { BotConfig } from "../../../src/config/config.js";
import { freePort } from "../../../src/demo/free-port.js";
import { GraphEmulator } from "../../../src/emulator/graph/graph-emulator.js";
import { createTlsCertificate } from "../../../src/emulator/graph/tls-certificate.js";
import { GraphClient } from "../../../src/graph/graph-client.js";
import { GraphTokenProvider } from "../../../src/graph/token-provider.js";
import { silentLogger } from "../../../src/log/logger.js";
import { SignalingService, type SignalingServiceOptions } from "../../../src/signaling/signaling-service.js";
import { RecordingMediaProvider, testConfig } from "./fakes.js";

export const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";

/** The certificate the bot serves its callback URL with, which the emulator trusts. */
export interface BotTls {
  certPath: string;
  keyPath: string;
  certPem: string;
}

/** A Graph emulator that trusts a fresh self-signed certificate for the bot's callbacks. */
export async function startGraphEmulatorForBot(): Promise<{ emulator: GraphEmulator; botTls: BotTls }> {
  const certificate = await createTlsCertificate();
  const keyPath = path.join(path.dirname(certificate.certPath), "bot-key.pem");
  await writeFile(keyPath, certificate.keyPem, { mode: 0o600 });
  const emulator = await GraphEmulator.start({ logger: silentLogger(), callbackCaPem: certificate.certPem });
  return { emulator, botTls: { certPath: certificate.certPath, keyPath, certPem: certificate.certPem } };
}

export interface SignalingBot {
  service: SignalingService;
  media: RecordingMediaProvider;
  tokens: GraphTokenProvider;
  registry: Registry;
  config: BotConfig;
  appId: string;
}

/** SignalingService.start's options besides the parts made here; given the Graph client made. */
export type MoreServiceOptions = (
  graph: GraphClient,
) => Omit<SignalingServiceOptions, "config" | "graph" | "media" | "logger" | "registry">;

/** A bot registered as a fresh app with the emulator, listening on a free loopback port. */
export async function startSignalingBot(
  emulator: GraphEmulator,
  botTls: BotTls,
  overrides: Partial<BotConfig> = {},
  more: MoreServiceOptions = () => ({}),
): Promise<SignalingBot> {
  const appId = randomUUID();
  const secret = `secret-${randomUUID()}`;
  const port = await freePort();
  const publicUrl = `https://127.0.0.1:${port}`;
  emulator.registerApp({ appId, secret, tenantId: TENANT, callbackUrl: `${publicUrl}/api/calls` });
  const config = testConfig({
    appId,
    tenantId: TENANT,
    credential: { kind: "secret", secret },
    publicUrl,
    callbackUrl: `${publicUrl}/api/calls`,
    port,
    tls: { certPath: botTls.certPath, keyPath: botTls.keyPath },
    graphUrl: emulator.graphUrl,
    authorityUrl: emulator.authorityUrl(TENANT),
    notificationOpenIdUrl: emulator.notificationOpenIdUrl,
    caCertPath: emulator.caCertPath,
    graph: { requestTimeoutMs: 3000, maxAttempts: 2, overallDeadlineMs: 5000 },
    ...overrides,
  });
  const logger = silentLogger();
  const registry = new Registry();
  const tokens = GraphTokenProvider.fromConfig(config, { logger, registry });
  await tokens.start();
  const graph = new GraphClient({
    baseUrl: config.graphUrl,
    tokenProvider: tokens,
    settings: config.graph,
    ca: emulator.caCertPem,
    logger,
    registry,
  });
  const media = new RecordingMediaProvider();
  const service = await SignalingService.start({ config, graph, media, logger, registry, ...more(graph) });
  return { service, media, tokens, registry, config, appId };
}

/** Shuts a test's bot down (its calls ended, its token refresh stopped). */
export async function stopSignalingBot(bot: SignalingBot | undefined): Promise<void> {
  await bot?.service.shutdown({ timeoutMs: 1000 });
  bot?.tokens.close();
}
