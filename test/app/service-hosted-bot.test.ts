/**
 * The production bot configured with BOT_SERVICE_HOSTED_HANDLER (a JavaScript module on disk)
 * and no media host at all: a service-hosted call does not need one, so it is answered with
 * serviceHostedMediaConfig, its handler plays a prefetched prompt once established and hangs up
 * when the prompt is done. Through the Graph emulator, real HTTPS and tokens.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startProductionBot } from "../../src/app/production-bot.js";
import { loadConfig } from "../../src/config/config.js";
import { emulatedBotEnv, newEmulatedApp } from "../../src/demo/emulator-bot-env.js";
import { freePort } from "../../src/demo/free-port.js";
import { createLocalBotTls } from "../../src/demo/local-bot-tls.js";
import { GraphEmulator } from "../../src/emulator/graph/graph-emulator.js";
import { silentLogger } from "../../src/log/logger.js";
import { waitFor } from "../media/wait-for.js";

const BEEP = { uri: "https://cdn.contoso.com/beep.wav", resourceId: "f8971b04-b53e-418c-9222-c82ce681a582" };

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("the bot with a service-hosted handler module", () => {
  it("answers service-hosted with the media host down, plays the prefetched prompt, hangs up when it is done", async () => {
    const tls = await createLocalBotTls();
    const graph = await GraphEmulator.start({ logger: silentLogger(), callbackCaPem: tls.certPem });
    cleanups.push(() => graph.close());
    const dir = await mkdtemp(path.join(tmpdir(), "service-hosted-bot-"));
    const handlerFile = path.join(dir, "ivr.mjs");
    // What a bot author writes (defineServiceHostedHandler only marks the object).
    await writeFile(
      handlerFile,
      `export const ivr = {
        options: (raw) => raw,
        preFetchMedia: [${JSON.stringify(BEEP)}],
        create(call, options) {
          return {
            async onEstablished() {
              const result = await call.playPrompt([{ resourceId: options.prompt }], { clientContext: "welcome" });
              await call.hangUp("prompt " + result.status);
            },
          };
        },
      };`,
    );
    const app = newEmulatedApp();
    const port = await freePort();
    graph.registerApp({ ...app, callbackUrl: `https://127.0.0.1:${port}/api/calls` });
    const config = loadConfig({
      ...emulatedBotEnv(graph, {
        app,
        port,
        tls,
        mediaFqdn: "media.test.local",
        // Nothing listens there: the media host is down for the whole test.
        bridgeUrl: `ws://127.0.0.1:${await freePort()}/bridge`,
        bridgeSecret: randomBytes(24).toString("base64url"),
        recordingsDir: dir,
        logLevel: "silent",
      }),
      BOT_SERVICE_HOSTED_HANDLER: `${handlerFile}#ivr`,
      BOT_SERVICE_HOSTED_HANDLER_OPTIONS: JSON.stringify({ prompt: BEEP.resourceId }),
    });
    const bot = await startProductionBot(config, silentLogger());
    cleanups.push(() => bot.stop(5000));

    const { callId } = graph.placeIncomingCall({ appId: app.appId });
    await graph.waitForCallState(callId, "terminated", 15_000);
    const requests = graph
      .requestLog()
      .filter((request) => request.path.startsWith(`/v1.0/communications/calls/${callId}`));
    const answer = requests.find((request) => request.path.endsWith("/answer"));
    expect(answer?.status).toBe(202);
    expect(answer?.body).toMatchObject({
      mediaConfig: { "@odata.type": "#microsoft.graph.serviceHostedMediaConfig", preFetchMedia: [BEEP] },
    });
    expect(requests.find((request) => request.path.endsWith("/playPrompt"))?.body).toMatchObject({
      prompts: [{ mediaInfo: BEEP }],
      clientContext: "welcome",
    });
    // The prompt completed (200/0) before the hang up: DELETE came after the operation's end.
    expect(requests.map((request) => request.method).at(-1)).toBe("DELETE");
    await waitFor(() => bot.signaling.calls().find((c) => c.callId === callId)?.state === "terminated", 5000);
  }, 60_000);
});
