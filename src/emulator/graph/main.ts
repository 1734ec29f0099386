/**
 * `npm run emulator:graph`: starts the Graph calling emulator, registers a test app, prints how
 * to point a bot at it, and runs until SIGINT/SIGTERM.
 *
 * Environment: GRAPH_EMULATOR_PORT (0 = ephemeral), GRAPH_EMULATOR_CALLBACK_URL (the bot's
 * calling webhook, default http://127.0.0.1:9441/api/calls), GRAPH_EMULATOR_APP_ID,
 * GRAPH_EMULATOR_APP_SECRET, GRAPH_EMULATOR_TENANT_ID (random when unset),
 * GRAPH_EMULATOR_CALLBACK_CA (PEM file of a CA to trust for an https callback URL whose
 * certificate is self-signed), GRAPH_EMULATOR_MEDIA_URL and GRAPH_EMULATOR_MEDIA_SECRET (the
 * media emulator, http://host:port, and its BOT_BRIDGE_SECRET: answered calls are then
 * established only once their media session connects there; unset, at once),
 * GRAPH_EMULATOR_MEDIA_TIMEOUT_MS (how long an answered call waits for its media, default 10000).
 * A bad setting, or a port that cannot be bound, ends the process with one line and exit code 1.
 */
import { createLogger } from "../../log/logger.js";
import { describeListenError } from "../listen-error.js";
import { orExit } from "../or-exit.js";
import { GraphEmulator } from "./graph-emulator.js";
import { readGraphEmulatorSettings } from "./graph-emulator-settings.js";
import { checkMediaEmulatorLink, establishWhenMediaConnects } from "./media-emulator-link.js";

const NAME = "graph emulator";
const { settings, logger } = await orExit(NAME, () => ({
  settings: readGraphEmulatorSettings(process.env),
  logger: createLogger({ name: "graph-emulator" }),
}));
const { app, media } = settings;

if (media) await orExit(NAME, () => checkMediaEmulatorLink(media, logger));

const emulator: GraphEmulator = await orExit(
  NAME,
  () =>
    GraphEmulator.start({
      port: settings.port,
      logger,
      timings: { mediaTimeoutMs: settings.mediaTimeoutMs },
      apps: [app],
      ...(settings.callbackCaPem === undefined ? {} : { callbackCaPem: settings.callbackCaPem }),
      // Like the real service: established only once the call's media session connects.
      ...(media
        ? { establishWhen: establishWhenMediaConnects(media, () => emulator.timings.mediaTimeoutMs) }
        : {}),
    }),
  (error) => `cannot start: ${describeListenError(error, "GRAPH_EMULATOR_PORT")}`,
);

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
    media
      ? `  media emulator          ${media.url} (calls are established once their media connects)`
      : "  media emulator          none (calls are established without media; see GRAPH_EMULATOR_MEDIA_URL)",
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
