import type { GraphEmulator } from "./graph-emulator.js";
import type { GraphEmulatorSettings } from "./graph-emulator-settings.js";

/** The media FQDN printed for a bot when none is configured (nothing resolves it on loopback). */
export const DEFAULT_BOT_MEDIA_FQDN = "media.local.test";
/** The standalone media emulator's default bridge URL (its BOT_BRIDGE_URL default). */
const DEFAULT_BRIDGE_URL = "ws://127.0.0.1:9442/bridge";

/**
 * The complete BOT_* environment of a bot pointed at this standalone Graph emulator: where the
 * bot listens (from the callback URL), its TLS certificate (the throwaway one the emulator trusts),
 * its app, Graph, identity and notification endpoints, and the media host (from the media link).
 * A value that cannot be known (the bridge secret with no media link) is left out; `missing` says why.
 */
export function standaloneBotEnvironment(
  emulator: GraphEmulator,
  settings: GraphEmulatorSettings,
  botTls: { certPath: string; keyPath: string } | undefined,
): { env: [string, string][]; missing: string[] } {
  const { app, media } = settings;
  const callback = new URL(app.callbackUrl);
  const host = callback.hostname.replace(/^\[(.*)\]$/, "$1");
  const env: [string, string][] = [
    ["BOT_APP_ID", app.appId],
    ["BOT_APP_SECRET", app.secret],
    ["BOT_TENANT_ID", app.tenantId],
    ["BOT_PUBLIC_URL", callback.origin],
    ["BOT_HOST", host === "localhost" ? "127.0.0.1" : host],
    ["BOT_PORT", callback.port || (callback.protocol === "https:" ? "443" : "80")],
  ];
  if (botTls) env.push(["BOT_TLS_CERT", botTls.certPath], ["BOT_TLS_KEY", botTls.keyPath]);
  env.push(
    ["BOT_GRAPH_URL", emulator.graphUrl],
    ["BOT_AUTHORITY_URL", `${emulator.url}/{tenant}`],
    ["BOT_NOTIFICATION_OPENID_URL", emulator.notificationOpenIdUrl],
    ["BOT_CA_CERT", emulator.caCertPath],
    ["BOT_MEDIA_FQDN", DEFAULT_BOT_MEDIA_FQDN],
  );
  const missing: string[] = [];
  if (media) {
    const bridge = new URL(media.url);
    env.push(["BOT_BRIDGE_URL", `ws://${bridge.host}/bridge`], ["BOT_BRIDGE_SECRET", media.secret]);
  } else {
    env.push(["BOT_BRIDGE_URL", DEFAULT_BRIDGE_URL]);
    missing.push(
      "BOT_BRIDGE_SECRET: the media emulator's secret (set GRAPH_EMULATOR_MEDIA_URL and GRAPH_EMULATOR_MEDIA_SECRET to have it printed)",
    );
  }
  return { env, missing };
}

/** `export NAME=value` lines a shell accepts as they are (values quoted when they need it). */
export function exportLines(env: readonly [string, string][]): string[] {
  return env.map(([name, value]) => `export ${name}=${shellQuote(value)}`);
}

function shellQuote(value: string): string {
  return /^[\w./:@%+,=-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}
