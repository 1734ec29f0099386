/**
 * Handler options from the configuration (BOT_MEDIA_HANDLERS + BOT_MEDIA_HANDLER_OPTIONS)
 * through the real media worker: a defineHandler module gets its checked options in every
 * call; options its check refuses, or a built-in's bad option, fail the worker's start with
 * the handler's name and the field, instead of failing every call.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { MediaPlatformEmulator } from "../../src/emulator/media/media-platform-emulator.js";
import { silentLogger } from "../../src/log/logger.js";
import { BridgeMediaSessionProvider } from "../../src/media/bridge-media-session-provider.js";
import { handlerSpecsFromConfig } from "../../src/media/handler-specs.js";
import { waitFor } from "./wait-for.js";

const SECRET = "handler-options-secret-0123456789";
const FIXTURE = join(import.meta.dirname, "fixtures", "options-handler.ts");
const BASE = {
  BOT_APP_ID: "2891555a-92ff-42e6-80fa-6e1300c6b5c6",
  BOT_APP_SECRET: "s3cret",
  BOT_TENANT_ID: "72f988bf-86f1-41af-91ab-2d7cd011db47",
  BOT_PUBLIC_URL: "https://bot.contoso.com/",
  BOT_MEDIA_FQDN: "media.contoso.com",
  BOT_BRIDGE_SECRET: SECRET,
};

describe("handler options from the configuration (media worker, emulator, loopback)", () => {
  let dir = "";
  let emulator: MediaPlatformEmulator;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "handler-options-"));
    emulator = await MediaPlatformEmulator.start({ secret: SECRET });
  });
  afterAll(async () => {
    await emulator?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const start = (env: Record<string, string>) => {
    const config = loadConfig({ ...BASE, BOT_BRIDGE_URL: emulator.url, BOT_RECORDINGS_DIR: dir, ...env });
    return BridgeMediaSessionProvider.start({
      bridge: config.bridge,
      media: config.media,
      handlers: handlerSpecsFromConfig(config.media.handlers ?? [], config.media.handlerOptions),
      logger: silentLogger(),
      workerLogLevel: "silent",
    });
  };

  it("each call's handler gets the options configured for its entry, checked and typed", async () => {
    const eventsPath = join(dir, "events.jsonl");
    const provider = await start({
      BOT_MEDIA_HANDLERS: `echo,module:${FIXTURE}`,
      BOT_MEDIA_HANDLER_OPTIONS: JSON.stringify({
        [`module:${FIXTURE}`]: { eventsPath, greeting: "hello.wav" },
      }),
    });
    try {
      await provider.waitUntilConnected(3000);
      await provider.createSession({ callId: "opts-1", direction: "sendRecv", unmixedAudio: false });
      const line = await waitFor(async () => (await readFile(eventsPath, "utf8").catch(() => "")).trim());
      // retries: the default the handler's own check filled in.
      expect(JSON.parse(line)).toEqual({
        callId: "opts-1",
        options: { eventsPath, greeting: "hello.wav", retries: 1 },
      });
      await provider.closeSession("opts-1", "done");
    } finally {
      await provider.close();
    }
  });

  it("options the handler's check refuses fail the start, naming the handler and the field", async () => {
    await expect(
      start({
        BOT_MEDIA_HANDLERS: `module:${FIXTURE}`,
        BOT_MEDIA_HANDLER_OPTIONS: JSON.stringify([{ eventsPath: "/tmp/x", greeting: 42 }]),
      }),
    ).rejects.toThrow(`handler ${FIXTURE}#default: options refused: options.greeting must be a string`);
  });

  it("a built-in's options go through the same check", async () => {
    await expect(
      start({
        BOT_MEDIA_HANDLERS: "player:/srv/hold.wav",
        BOT_MEDIA_HANDLER_OPTIONS: '{"player:/srv/hold.wav": {"loop": "yes"}}',
      }),
    ).rejects.toThrow(
      'handler builtin player: options refused: options.loop must be true or false, got "yes"',
    );
    await expect(
      start({ BOT_MEDIA_HANDLERS: "echo", BOT_MEDIA_HANDLER_OPTIONS: '{"echo": {"volume": 2}}' }),
    ).rejects.toThrow(
      'handler builtin echo: options refused: unknown option "volume" (this handler takes none)',
    );
  });
});
