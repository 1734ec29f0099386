/**
 * The standalone Graph calling emulator (`npm run emulator:graph`, `teams-media-bot emulator
 * graph`): starts it, registers a test app, prints the complete bot environment, and runs until
 * SIGINT/SIGTERM, then removes its temporary files (its certificate, the bot's throwaway one).
 *
 * Environment: GRAPH_EMULATOR_PORT (0 = ephemeral), GRAPH_EMULATOR_CALLBACK_URL (the bot's
 * calling webhook, default https://127.0.0.1:9441/api/calls), GRAPH_EMULATOR_APP_ID,
 * GRAPH_EMULATOR_APP_SECRET, GRAPH_EMULATOR_TENANT_ID (random when unset),
 * GRAPH_EMULATOR_CALLBACK_CA (PEM file of a CA to trust for the https callback; unset, the
 * emulator makes a throwaway certificate and key for the bot, trusts it and prints them as
 * BOT_TLS_CERT/BOT_TLS_KEY), GRAPH_EMULATOR_MEDIA_URL and GRAPH_EMULATOR_MEDIA_SECRET (the
 * media emulator, http://host:port, and its BOT_BRIDGE_SECRET: answered calls are then
 * established only once their media session connects there; unset, at once),
 * GRAPH_EMULATOR_MEDIA_TIMEOUT_MS (how long an answered call waits for its media, default 10000).
 * A bad setting, or a port that cannot be bound, ends the process with one line and exit code 1.
 */
import { rm } from "node:fs/promises";
import path from "node:path";
import { stopSignals } from "../../app/stop-triggers.js";
import { createLocalBotTls, type LocalBotTls } from "../../demo/local-bot-tls.js";
import { createLogger } from "../../log/logger.js";
import { describeListenError } from "../listen-error.js";
import { orExit } from "../or-exit.js";
import { exportLines, standaloneBotEnvironment } from "./bot-environment.js";
import { GraphEmulator } from "./graph-emulator.js";
import { readGraphEmulatorSettings } from "./graph-emulator-settings.js";
import { checkMediaEmulatorLink, establishWhenMediaConnects } from "./media-emulator-link.js";
import { speakersOverLink } from "./participant-audio.js";

const NAME = "graph emulator";

export async function runGraphEmulator(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { settings, logger } = await orExit(NAME, () => ({
    settings: readGraphEmulatorSettings(env),
    logger: createLogger({ name: "graph-emulator" }),
  }));
  const { app, media } = settings;

  if (media) await orExit(NAME, () => checkMediaEmulatorLink(media, logger));

  // The bot's callback must be https: with no CA given, a throwaway certificate it can use.
  let botTls: LocalBotTls | undefined;
  if (settings.callbackCaPem === undefined && new URL(app.callbackUrl).protocol === "https:")
    botTls = await orExit(NAME, () => createLocalBotTls());
  const removeBotTls = async () => {
    if (botTls) await rm(path.dirname(botTls.certPath), { recursive: true, force: true });
  };
  const callbackCaPem = settings.callbackCaPem ?? botTls?.certPem;

  let emulator: GraphEmulator | undefined;
  emulator = await orExit(
    NAME,
    async () => {
      try {
        return await GraphEmulator.start({
          port: settings.port,
          logger,
          timings: { mediaTimeoutMs: settings.mediaTimeoutMs },
          apps: [app],
          ...(callbackCaPem === undefined ? {} : { callbackCaPem }),
          // Like the real service: established only once the call's media session connects.
          ...(media
            ? {
                establishWhen: establishWhenMediaConnects(
                  media,
                  () => emulator?.timings.mediaTimeoutMs ?? settings.mediaTimeoutMs,
                ),
                // Emulated meeting participants and callees speak there, under their sourceIds.
                speakers: speakersOverLink(media),
              }
            : {}),
        });
      } catch (error) {
        await removeBotTls();
        throw error;
      }
    },
    (error) => `cannot start: ${describeListenError(error, "GRAPH_EMULATOR_PORT")}`,
  );
  const running = emulator;
  const { env: botEnv, missing } = standaloneBotEnvironment(running, settings, botTls);

  // The secrets are printed on purpose: throwaway credentials of a local test app.
  process.stdout.write(
    [
      "Graph calling emulator",
      `  url                     ${running.url}`,
      `  Graph base URL          ${running.graphUrl}`,
      `  authority               ${running.authorityUrl(app.tenantId)}`,
      `  notification OpenID     ${running.notificationOpenIdUrl}`,
      `  CA certificate          ${running.caCertPath}`,
      `  control API             ${running.url}/emulator (see docs/graph-emulator.md)`,
      media
        ? `  media emulator          ${media.url} (calls are established once their media connects)`
        : "  media emulator          none (calls are established without media; see GRAPH_EMULATOR_MEDIA_URL)",
      "Test app",
      `  app id                  ${app.appId}`,
      `  secret                  ${app.secret}`,
      `  tenant id               ${app.tenantId}`,
      `  callback URL            ${app.callbackUrl}`,
      botTls
        ? `  bot TLS certificate     ${botTls.certPath} (throwaway, trusted for the callback; removed on exit)`
        : `  bot TLS certificate     ${settings.callbackCaPem ? "trusted from GRAPH_EMULATOR_CALLBACK_CA" : "none (plain http callback)"}`,
      "Bot environment (paste into the bot's shell, then: npm run bot)",
      ...exportLines(botEnv),
      ...missing.map((line) => `# not set: ${line}`),
      "Ring the bot:",
      `  curl --cacert ${running.caCertPath} -X POST ${running.url}/emulator/calls -d '{}'`,
      "",
    ].join("\n"),
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping graph emulator");
    await running.close();
    await removeBotTls();
    process.exit(0);
  };
  for (const signal of stopSignals(process.platform)) process.on(signal, () => void stop(signal));
}
