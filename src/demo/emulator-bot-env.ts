import { randomBytes, randomUUID } from "node:crypto";
import type { RawConfig } from "../config/env-readers.js";
import type { GraphEmulator } from "../emulator/graph/graph-emulator.js";
import type { LocalBotTls } from "./local-bot-tls.js";

/** An app registration for the Graph emulator: the bot's id, secret and tenant. */
export interface EmulatedApp {
  appId: string;
  secret: string;
  tenantId: string;
}

/** A fresh app (random ids and secret), to register on a Graph emulator and configure a bot with. */
export function newEmulatedApp(): EmulatedApp {
  return { appId: randomUUID(), secret: randomBytes(24).toString("base64url"), tenantId: randomUUID() };
}

export interface EmulatedBotSettings {
  /** The app registered on the Graph emulator. */
  app: EmulatedApp;
  /** Where the bot listens on loopback, over https with a throwaway certificate. */
  port: number;
  /** Port of its health and metrics listener (loopback); 0, the default, lets the OS pick. */
  opsPort?: number;
  tls: LocalBotTls;
  mediaFqdn: string;
  bridgeUrl: string;
  bridgeSecret: string;
  recordingsDir: string;
  logLevel: string;
}

/**
 * The BOT_* settings of a bot pointed at a local Graph emulator and a local media host: the
 * same variables a real deployment sets, so the bot is configured exactly as in production.
 */
export function emulatedBotEnv(graph: GraphEmulator, settings: EmulatedBotSettings): RawConfig {
  return {
    BOT_APP_ID: settings.app.appId,
    BOT_APP_SECRET: settings.app.secret,
    BOT_TENANT_ID: settings.app.tenantId,
    BOT_PUBLIC_URL: `https://127.0.0.1:${settings.port}`,
    BOT_HOST: "127.0.0.1",
    BOT_PORT: String(settings.port),
    BOT_OPS_HOST: "127.0.0.1",
    BOT_OPS_PORT: String(settings.opsPort ?? 0),
    BOT_TLS_CERT: settings.tls.certPath,
    BOT_TLS_KEY: settings.tls.keyPath,
    BOT_GRAPH_URL: graph.graphUrl,
    BOT_AUTHORITY_URL: `${graph.url}/{tenant}`,
    BOT_NOTIFICATION_OPENID_URL: graph.notificationOpenIdUrl,
    BOT_CA_CERT: graph.caCertPath,
    BOT_MEDIA_FQDN: settings.mediaFqdn,
    BOT_BRIDGE_URL: settings.bridgeUrl,
    BOT_BRIDGE_SECRET: settings.bridgeSecret,
    BOT_RECORDINGS_DIR: settings.recordingsDir,
    BOT_LOG_LEVEL: settings.logLevel,
  };
}
