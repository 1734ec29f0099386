/**
 * `npm run emulator:graph`: starts the Graph calling emulator, registers a test app, prints how
 * to point a bot at it, and runs until SIGINT/SIGTERM.
 *
 * Environment: GRAPH_EMULATOR_PORT (0 = ephemeral), GRAPH_EMULATOR_CALLBACK_URL (the bot's
 * calling webhook, default http://127.0.0.1:9441/api/calls), GRAPH_EMULATOR_APP_ID,
 * GRAPH_EMULATOR_APP_SECRET, GRAPH_EMULATOR_TENANT_ID (random when unset),
 * GRAPH_EMULATOR_CALLBACK_CA (PEM file of a CA to trust for an https callback URL whose
 * certificate is self-signed).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createLogger } from "../../log/logger.js";
import { GraphEmulator } from "./graph-emulator.js";

const env = process.env;
const port = Number(env.GRAPH_EMULATOR_PORT ?? 0);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`GRAPH_EMULATOR_PORT must be a port number, got ${env.GRAPH_EMULATOR_PORT}`);
  process.exit(2);
}
const app = {
  appId: env.GRAPH_EMULATOR_APP_ID ?? randomUUID(),
  secret: env.GRAPH_EMULATOR_APP_SECRET ?? randomBytes(24).toString("base64url"),
  tenantId: env.GRAPH_EMULATOR_TENANT_ID ?? randomUUID(),
  callbackUrl: env.GRAPH_EMULATOR_CALLBACK_URL ?? "http://127.0.0.1:9441/api/calls",
};

let callbackCaPem: string | undefined;
if (env.GRAPH_EMULATOR_CALLBACK_CA) {
  try {
    callbackCaPem = readFileSync(env.GRAPH_EMULATOR_CALLBACK_CA, "utf8");
  } catch (error) {
    console.error(
      `GRAPH_EMULATOR_CALLBACK_CA: cannot read "${env.GRAPH_EMULATOR_CALLBACK_CA}": ${(error as Error).message}`,
    );
    process.exit(2);
  }
}

const logger = createLogger({ name: "graph-emulator" });
const emulator = await GraphEmulator.start({ port, logger, apps: [app], callbackCaPem });

// The secret is printed on purpose: it is a throwaway credential of a local test app.
process.stdout.write(
  [
    "Graph calling emulator",
    `  url                     ${emulator.url}`,
    `  Graph base URL          ${emulator.graphUrl}`,
    `  authority               ${emulator.authorityUrl(app.tenantId)}`,
    `  notification OpenID     ${emulator.notificationOpenIdUrl}`,
    `  CA certificate          ${emulator.caCertPath}`,
    `  control API             ${emulator.url}/emulator (see docs/graph-emulator.md)`,
    "Test app",
    `  app id                  ${app.appId}`,
    `  secret                  ${app.secret}`,
    `  tenant id               ${app.tenantId}`,
    `  callback URL            ${app.callbackUrl}`,
    "Bot environment",
    `  BOT_APP_ID=${app.appId}`,
    `  BOT_APP_SECRET=${app.secret}`,
    `  BOT_TENANT_ID=${app.tenantId}`,
    `  BOT_GRAPH_URL=${emulator.graphUrl}`,
    `  BOT_AUTHORITY_URL=${emulator.url}/{tenant}`,
    `  BOT_NOTIFICATION_OPENID_URL=${emulator.notificationOpenIdUrl}`,
    `  BOT_CA_CERT=${emulator.caCertPath}`,
    "Ring the bot:",
    `  curl --cacert ${emulator.caCertPath} -X POST ${emulator.url}/emulator/calls -d '{}'`,
    "",
  ].join("\n"),
);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "stopping graph emulator");
  await emulator.close();
  process.exit(0);
};
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
