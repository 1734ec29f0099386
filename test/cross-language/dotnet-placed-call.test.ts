/**
 * A call the bot places (a meeting join by id) with the .NET media host (fake platform) behind
 * the media worker: the host takes the provisional call_id (= media_session_id) as an opaque
 * label, the blob it serializes goes into createCall as it is, the call is established once the
 * host's media reaches the worker, and the echo reaches the host. Nothing in the host changed for it.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BotApp } from "../../src/app/bot-app.js";
import { loadConfig } from "../../src/config/config.js";
import { emulatedBotEnv, newEmulatedApp } from "../../src/demo/emulator-bot-env.js";
import { freePort } from "../../src/demo/free-port.js";
import { createLocalBotTls } from "../../src/demo/local-bot-tls.js";
import { GraphEmulator } from "../../src/emulator/graph/graph-emulator.js";
import { silentLogger } from "../../src/log/logger.js";
import { BridgeMediaSessionProvider } from "../../src/media/bridge-media-session-provider.js";
import { readPcm16kWav } from "../../src/media/wav-file.js";
import { DotnetHost, ensureHostBuilt, ROOT } from "./dotnet-host.js";

const CALLER_WAV = path.join(ROOT, "assets", "audio", "caller-speech.wav");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("a call the bot places, with the .NET media host", () => {
  let host: DotnetHost | undefined;
  let graph: GraphEmulator | undefined;
  let bot: BotApp | undefined;
  let dir = "";

  beforeAll(async () => {
    await ensureHostBuilt("Release", { timeoutMs: 280_000 });
    dir = await mkdtemp(path.join(tmpdir(), "dotnet-placed-call-"));
  }, 300_000);

  afterAll(async () => {
    await bot?.stop(5000).catch(() => {});
    await graph?.close().catch(() => {});
    if (host && !host.exitStatus) await host.stop(5000);
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 30_000);

  it("joins by meeting id: established on the host's media, echo recorded by the host", async () => {
    const secret = randomBytes(24).toString("base64url");
    const recordDir = path.join(dir, "host-recordings");
    host = await DotnetHost.start({
      configuration: "Release",
      secret,
      wavPath: CALLER_WAV,
      recordDir,
      maxLifetimeMs: 120_000,
    });
    const app = newEmulatedApp();
    const port = await freePort();
    const tls = await createLocalBotTls();
    // Established once the worker has the host's media for the call: its event names the session
    // by its provisional id (= media session id) before the Graph id is bound, by the Graph id after.
    const connected = new Set<string>();
    const waiters = new Map<string, () => void>();
    const mediaConnected = (ids: string[]) =>
      ids.some((id) => connected.has(id))
        ? Promise.resolve(true)
        : new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(false), 10_000);
            const wake = () => {
              clearTimeout(timer);
              resolve(true);
            };
            for (const id of ids) waiters.set(id, wake);
          });
    graph = await GraphEmulator.start({
      logger: silentLogger(),
      callbackCaPem: tls.certPem,
      apps: [{ ...app, callbackUrl: `https://127.0.0.1:${port}/api/calls` }],
      establishWhen: (call) => mediaConnected([call.id, call.mediaSession?.mpMediaSessionId ?? ""]),
    });
    const config = loadConfig(
      emulatedBotEnv(graph, {
        app,
        port,
        tls,
        mediaFqdn: "media.e2e.local",
        bridgeUrl: host.url,
        bridgeSecret: secret,
        recordingsDir: path.join(dir, "bot-recordings"),
        logLevel: "warn",
      }),
    );
    bot = await BotApp.start({
      config,
      logger: silentLogger(),
      media: async ({ config: c, logger }) => {
        const provider = await BridgeMediaSessionProvider.start({
          bridge: c.bridge,
          media: c.media,
          logger,
          handlers: [{ builtin: "echo" }],
        });
        provider.onEvent((event) => {
          if (event.kind !== "mediaConnected") return;
          connected.add(event.callId);
          waiters.get(event.callId)?.();
        });
        await provider.waitUntilConnected(10_000);
        return provider;
      },
    });

    // The emulator knows meetings by id and passcode (an unknown id is refused 404).
    graph.createMeeting({ tenantId: app.tenantId, joinMeetingId: "293654785123", passcode: "Xy7pQ2" });
    const placed = await bot.joinMeeting({
      joinMeetingId: "293 654 785 123",
      passcode: "Xy7pQ2",
      tenantId: app.tenantId,
    });
    await placed.established;
    const create = graph.requestLog().find((r) => r.action === "create" && r.status === 201);
    if (!create) throw new Error("Graph saw no accepted createCall");
    const { mediaConfig } = create.body as { mediaConfig: { blob: string } };
    const blob = JSON.parse(mediaConfig.blob) as Record<string, unknown>;
    // The blob as the .NET fake platform serialized it: its callId is the label the host was given.
    expect(blob.mpMediaSessionId).toBe(placed.mediaSessionId);
    expect(blob.callId).toBe(placed.mediaSessionId);
    expect(blob.skypeMediaBotsVersion).toBe("1.33.0.258-fake");

    await sleep(2000);
    await placed.hangUp();
    expect((await placed.ended).reason).toBe("hungUp");
    // The host writes what it was sent when the session closes, under the label it knows.
    const recording = path.join(recordDir, `${placed.mediaSessionId}.wav`);
    const deadline = Date.now() + 10_000;
    while (!existsSync(recording) && Date.now() < deadline) await sleep(100);
    const rendered = await readPcm16kWav(recording);
    expect(rendered.length).toBeGreaterThan(640 * 25);

    await bot.stop(10_000);
    bot = undefined;
    await graph.close();
    graph = undefined;
    expect(await host.stop(10_000)).toEqual({ code: 0, signal: null });
  }, 90_000);
});
