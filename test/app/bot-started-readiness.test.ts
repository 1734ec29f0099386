/**
 * "bot started" used to be logged the same whether or not the media host was connected, as if
 * all were well while every call would be rejected. It now says whether the bot is ready and
 * why not, and the change to ready is logged when the media host comes.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import type { BotApp } from "../../src/app/bot-app.js";
import { startProductionBot } from "../../src/app/production-bot.js";
import { loadConfig } from "../../src/config/config.js";
import { emulatedBotEnv, newEmulatedApp } from "../../src/demo/emulator-bot-env.js";
import { freePort } from "../../src/demo/free-port.js";
import { createLocalBotTls } from "../../src/demo/local-bot-tls.js";
import { GraphEmulator } from "../../src/emulator/graph/graph-emulator.js";
import { MediaPlatformEmulator } from "../../src/emulator/media/media-platform-emulator.js";
import { createLogger, silentLogger } from "../../src/log/logger.js";
import { waitFor } from "../media/wait-for.js";

interface Line {
  level: number;
  msg: string;
  ready?: boolean;
  notReady?: { reason: string; detail: string }[];
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("'bot started' and readiness", () => {
  it("with no media host: 'bot started, not ready yet' with the reason, then 'bot ready' once the host is up", async () => {
    const graph = await GraphEmulator.start({ logger: silentLogger() });
    cleanups.push(() => graph.close());
    const tls = await createLocalBotTls();
    const app = newEmulatedApp();
    const port = await freePort();
    graph.registerApp({ ...app, callbackUrl: `https://127.0.0.1:${port}/api/calls` });
    const mediaPort = await freePort();
    const bridgeSecret = randomBytes(24).toString("base64url");
    const config = loadConfig({
      ...emulatedBotEnv(graph, {
        app,
        port,
        tls,
        mediaFqdn: "media.test.local",
        bridgeUrl: `ws://127.0.0.1:${mediaPort}/bridge`,
        bridgeSecret,
        recordingsDir: await mkdtemp(path.join(tmpdir(), "bot-started-")),
        logLevel: "info",
      }),
      BOT_MEDIA_HANDLERS: "echo",
    });
    const lines: Line[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const bot: BotApp = await startProductionBot(config, createLogger({ level: "info" }, sink));
    cleanups.push(() => bot.stop(5000));

    const started = lines.find((l) => l.msg.startsWith("bot started"));
    expect(started).toMatchObject({ ready: false, msg: "bot started, not ready yet (see /readyz)" });
    expect(started?.notReady?.map((r) => r.reason)).toEqual([
      expect.stringMatching(/^media_host_(unreachable|disconnected)$/),
    ]);

    const media = await MediaPlatformEmulator.start({
      secret: bridgeSecret,
      port: mediaPort,
      fqdn: "media.test.local",
      publicPort: 8445,
      logger: silentLogger(),
    });
    cleanups.push(() => media.stop());
    const ready = await waitFor(() => lines.find((l) => l.msg === "bot ready: taking calls"), 15_000);
    expect(ready.level).toBe(30);
    expect(bot.readiness.check()).toEqual([]);
  }, 60_000);
});
