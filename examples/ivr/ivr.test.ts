/**
 * The IVR example run by the real bot (BOT_SERVICE_HOSTED_HANDLER pointing at ivr.ts) against
 * the Graph emulator, whose prompts play for their WAV's real duration. No media host at all.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type BotApp, loadConfig, silentLogger, startProductionBot } from "teams-media-bot";
import { createLocalBotTls, emulatedBotEnv, freePort, GraphEmulator } from "teams-media-bot/emulators";
import { afterEach, describe, expect, it } from "vitest";
import type { IvrOptions } from "./ivr.js";

const asset = (name: string) => fileURLToPath(new URL(`../../assets/audio/${name}`, import.meta.url));
const options: IvrOptions = {
  welcome: { uri: "https://cdn.contoso.com/welcome.wav", resourceId: "f8971b04-b53e-418c-9222-c82ce681a582" },
  menu: {
    tone1: { uri: "https://cdn.contoso.com/hours.wav", resourceId: "86dc814b-c172-4428-9112-60f8ecae1edb" },
  },
};

let graph: GraphEmulator | undefined;
let bot: BotApp | undefined;
afterEach(async () => {
  await bot?.stop(5000);
  await graph?.close();
});

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("IVR example", () => {
  it("welcomes, answers key 1 with its prompt (cutting the welcome), hangs up on #", async () => {
    const tls = await createLocalBotTls();
    graph = await GraphEmulator.start({ logger: silentLogger(), callbackCaPem: tls.certPem });
    graph.mapPromptFile(options.welcome.uri, asset("bot-greeting.wav"));
    graph.mapPromptFile(options.menu.tone1?.uri ?? "", asset("bot-tone-ack.wav"));
    const app = {
      appId: crypto.randomUUID(),
      secret: randomBytes(24).toString("base64url"),
      tenantId: crypto.randomUUID(),
    };
    const port = await freePort();
    graph.registerApp({ ...app, callbackUrl: `https://127.0.0.1:${port}/api/calls` });
    const config = loadConfig({
      ...emulatedBotEnv(graph, {
        app,
        port,
        tls,
        mediaFqdn: "media.test.local",
        bridgeUrl: `ws://127.0.0.1:${await freePort()}/bridge`,
        bridgeSecret: randomBytes(24).toString("base64url"),
        recordingsDir: await mkdtemp(path.join(tmpdir(), "ivr-")),
        logLevel: "silent",
      }),
      BOT_SERVICE_HOSTED_HANDLER: fileURLToPath(new URL("./ivr.ts", import.meta.url)),
      BOT_SERVICE_HOSTED_HANDLER_OPTIONS: JSON.stringify(options),
    });
    bot = await startProductionBot(config, silentLogger());
    const emulator = graph;

    const { callId } = emulator.placeIncomingCall({ appId: app.appId });
    const actions = () =>
      emulator
        .requestLog()
        .filter((request) => request.path.startsWith(`/v1.0/communications/calls/${callId}/`))
        .map((request) => ({ action: request.path.split("/").at(-1), body: request.body }));
    await until(() => actions().some((a) => a.action === "playPrompt"), "the welcome prompt");
    expect(actions()[0]).toMatchObject({
      action: "answer",
      body: { mediaConfig: { preFetchMedia: [options.welcome, options.menu.tone1] } },
    });

    emulator.sendTone(callId, "tone1");
    await until(() => actions().filter((a) => a.action === "playPrompt").length === 2, "the menu prompt");
    expect(actions().map((a) => a.action)).toEqual([
      "answer",
      "subscribeToTone",
      "playPrompt",
      "cancelMediaProcessing",
      "playPrompt",
    ]);
    expect(actions().at(-1)?.body).toMatchObject({ prompts: [{ mediaInfo: options.menu.tone1 }] });

    emulator.sendTone(callId, "pound");
    await emulator.waitForCallState(callId, "terminated", 10_000);
  }, 60_000);
});
