import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readGraphEmulatorSettings } from "../../src/emulator/graph/graph-emulator-settings.js";
import { httpsRequest } from "../../src/graph/https-request.js";
import { buildMediaSessionConfiguration, serializeMediaBlob } from "../../src/media/media-session-config.js";
import { BotReceiver } from "./graph/bot-receiver.js";
import { answerBody, mediaBlob } from "./graph/graph-test-kit.js";
import { openBridgeClient } from "./open-bridge-client.js";
import { cleanEnv, EmulatorProcess, freePort } from "./standalone-process.js";

const SECRET = "standalone-emulators-secret-0123";
const ROOT = path.join(import.meta.dirname, "..", "..");
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function start(name: "graph" | "media", settings: Record<string, string>): EmulatorProcess {
  const emulator = EmulatorProcess.start(name, settings);
  cleanups.push(() => emulator.stop());
  return emulator;
}

/** A port something else listens on. */
async function busyPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as { port: number }).port;
}

/** Starts a main with bad settings: it must exit 1 after one line on stderr and nothing else. */
async function refusal(name: "graph" | "media", settings: Record<string, string>) {
  const emulator = start(name, settings);
  const code = await emulator.exitCode();
  return { code, stderr: emulator.stderr, stdout: emulator.stdout };
}

function oneLine(name: string, pattern: RegExp) {
  return {
    code: 1,
    stdout: "",
    stderr: expect.stringMatching(new RegExp(`^${name} emulator: ${pattern.source}\\n$`)),
  };
}

describe("standalone emulators: startup settings", () => {
  it("the media emulator exits 1 with one line on a bad setting or a busy port", {
    timeout: 60_000,
  }, async () => {
    const port = await freePort();
    const base = { BOT_BRIDGE_SECRET: SECRET, BOT_BRIDGE_URL: `ws://127.0.0.1:${port}/bridge` };
    const busy = await busyPort();
    const results = await Promise.all([
      refusal("media", { ...base, BOT_MEDIA_PUBLIC_PORT: "abc" }),
      refusal("media", { ...base, BOT_MEDIA_PUBLIC_PORT: "70000" }),
      refusal("media", { ...base, EMULATOR_MEDIA_WAV: "/nonexistent/caller.wav" }),
      refusal("media", { ...base, EMULATOR_MEDIA_CONNECT_MS: "1e12" }),
      refusal("media", { ...base, BOT_BRIDGE_URL: `ws://127.0.0.1:${busy}/bridge` }),
    ]);
    expect(results).toEqual([
      oneLine("media", /BOT_MEDIA_PUBLIC_PORT: must be an integer, got "abc"/),
      oneLine("media", /BOT_MEDIA_PUBLIC_PORT: must be between 1 and 65535, got 70000/),
      oneLine("media", /EMULATOR_MEDIA_WAV: cannot read \/nonexistent\/caller\.wav: no such file/),
      oneLine("media", /EMULATOR_MEDIA_CONNECT_MS: must be an integer, got "1e12"/),
      oneLine("media", new RegExp(`cannot start: 127\\.0\\.0\\.1:${busy} is in use \\(BOT_BRIDGE_URL\\)`)),
    ]);
  });

  it("the graph emulator exits 1 with one line on a bad setting or a busy port", {
    timeout: 60_000,
  }, async () => {
    const busy = await busyPort();
    const results = await Promise.all([
      refusal("graph", { GRAPH_EMULATOR_PORT: "abc" }),
      refusal("graph", { GRAPH_EMULATOR_PORT: String(busy) }),
      refusal("graph", { GRAPH_EMULATOR_MEDIA_URL: "http://127.0.0.1:9" }),
      refusal("graph", { GRAPH_EMULATOR_CALLBACK_URL: "not a url" }),
    ]);
    expect(results).toEqual([
      oneLine("graph", /GRAPH_EMULATOR_PORT: must be an integer, got "abc"/),
      oneLine(
        "graph",
        new RegExp(`cannot start: 127\\.0\\.0\\.1:${busy} is in use \\(GRAPH_EMULATOR_PORT\\)`),
      ),
      oneLine("graph", /GRAPH_EMULATOR_MEDIA_SECRET: is required with GRAPH_EMULATOR_MEDIA_URL.*/),
      oneLine("graph", /GRAPH_EMULATOR_CALLBACK_URL: must be an absolute URL, got "not a url"/),
    ]);
  });
});

describe("standalone emulators wired together", () => {
  it("a call is established only once its media session connects; one whose media never connects ends 410/301005", async () => {
    const mediaPort = await freePort();
    const media = start("media", {
      BOT_BRIDGE_SECRET: SECRET,
      BOT_BRIDGE_URL: `ws://127.0.0.1:${mediaPort}/bridge`,
      EMULATOR_MEDIA_CONNECT_MS: "never",
      BOT_LOG_LEVEL: "info",
    });
    await media.waitFor("media platform emulator ready");
    const bot = await BotReceiver.start();
    cleanups.push(() => bot.close());
    const app = {
      GRAPH_EMULATOR_APP_ID: "aaaaaaaa-bbbb-cccc-dddd-000000000001",
      GRAPH_EMULATOR_APP_SECRET: "standalone-app-secret",
      GRAPH_EMULATOR_TENANT_ID: "11111111-2222-3333-4444-000000000001",
    };
    const graphProcess = start("graph", {
      ...app,
      GRAPH_EMULATOR_CALLBACK_URL: bot.url,
      GRAPH_EMULATOR_MEDIA_URL: `http://127.0.0.1:${mediaPort}`,
      GRAPH_EMULATOR_MEDIA_SECRET: SECRET,
      GRAPH_EMULATOR_MEDIA_TIMEOUT_MS: "1500",
    });
    await graphProcess.waitFor("Ring the bot:");
    const graphUrl = /^\s+url\s+(https:\/\/\S+)$/m.exec(graphProcess.stdout)?.[1] as string;
    const ca = readFileSync(/^export BOT_CA_CERT=(.*)$/m.exec(graphProcess.stdout)?.[1] as string);
    expect(graphProcess.stdout).toMatch(
      /media emulator\s+http:\/\/127\.0\.0\.1:\d+ \(calls are established once/,
    );
    const request = async (
      method: "GET" | "POST",
      url: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ) => {
      const response = await httpsRequest({
        url,
        method,
        headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
        timeoutMs: 10_000,
        ca,
      });
      return { status: response.status, json: () => JSON.parse(response.body.toString()) };
    };
    const tokenResponse = await httpsRequest({
      url: `${graphUrl}/${app.GRAPH_EMULATOR_TENANT_ID}/oauth2/v2.0/token`,
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: app.GRAPH_EMULATOR_APP_ID,
        client_secret: app.GRAPH_EMULATOR_APP_SECRET,
        scope: "https://graph.microsoft.com/.default",
      }).toString(),
      timeoutMs: 10_000,
      ca,
    });
    const token = JSON.parse(tokenResponse.body.toString()).access_token as string;
    const auth = { authorization: `Bearer ${token}` };
    const mediaSessions = async () =>
      (await (
        await fetch(`http://127.0.0.1:${mediaPort}/control/sessions`, {
          headers: { authorization: `Bearer ${SECRET}` },
        })
      ).json()) as { callId: string; mediaConnected: boolean }[];

    // The worker's session exists, but nothing connects its media before a call is answered with it.
    const client = await openBridgeClient(`ws://127.0.0.1:${mediaPort}/bridge`, SECRET, cleanups);
    const created = await client.createSession({
      callId: "answered",
      direction: "sendRecv",
      unmixedAudio: false,
    });
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await mediaSessions()).toEqual([
      expect.objectContaining({ callId: "answered", mediaConnected: false }),
    ]);

    const ring = async () =>
      (await request("POST", `${graphUrl}/emulator/calls`, {})).json().callId as string;
    const blob = serializeMediaBlob(
      buildMediaSessionConfiguration({
        callId: "answered",
        mediaSessionId: created.mediaSessionId,
        mpUri: created.mpUri,
        audioRenderContextId: created.audioRenderContextId,
        audioSourceContextId: created.audioSourceContextId,
        versions: created,
      }),
    );
    const answered = await ring();
    const answer = await request(
      "POST",
      `${graphUrl}/v1.0/communications/calls/${answered}/answer`,
      answerBody(bot.url, blob),
      auth,
    );
    expect(answer.status).toBe(202);
    const established = await request("POST", `${graphUrl}/emulator/calls/${answered}/wait`, {
      state: "established",
      timeoutMs: 5000,
    });
    expect(established.status).toBe(200);
    expect(await mediaSessions()).toEqual([
      expect.objectContaining({ callId: "answered", mediaConnected: true }),
    ]);

    // Answered with a session the media platform never sees: establishing, then 410/301005.
    const lost = await ring();
    await request(
      "POST",
      `${graphUrl}/v1.0/communications/calls/${lost}/answer`,
      answerBody(bot.url, mediaBlob()),
      auth,
    );
    const ended = (
      await request("POST", `${graphUrl}/emulator/calls/${lost}/wait`, {
        state: "terminated",
        timeoutMs: 5000,
      })
    ).json();
    expect(ended.stateHistory.map((s: { state: string }) => s.state)).toEqual([
      "incoming",
      "establishing",
      "terminated",
    ]);
    expect(ended.resultInfo).toMatchObject({ code: 410, subcode: 301005 });
  }, 60_000);
});

/** The `export NAME=value` lines the Graph emulator prints, as an environment (quotes undone). */
function printedBotEnv(stdout: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [, name, value] of stdout.matchAll(/^export (BOT_\w+)=(.*)$/gm))
    env[name as string] = (value as string).replace(/^'(.*)'$/, "$1").replaceAll("'\\''", "'");
  return env;
}

async function untilListening(port: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("standalone emulators and the bot, with no hand-made certificate", () => {
  it("the Graph emulator's default callback is https", () => {
    expect(readGraphEmulatorSettings({}).app.callbackUrl).toBe("https://127.0.0.1:9441/api/calls");
  });

  it("a bot started with the printed environment answers a call; notifications after the answer reach it over https; the emulator's temp files go on SIGTERM", async () => {
    const mediaPort = await freePort();
    const botPort = await freePort();
    const media = start("media", {
      BOT_BRIDGE_SECRET: SECRET,
      BOT_BRIDGE_URL: `ws://127.0.0.1:${mediaPort}/bridge`,
      EMULATOR_MEDIA_CONNECT_MS: "never",
      BOT_LOG_LEVEL: "info",
    });
    await media.waitFor("media platform emulator ready");
    const graphProcess = start("graph", {
      GRAPH_EMULATOR_CALLBACK_URL: `https://127.0.0.1:${botPort}/api/calls`,
      GRAPH_EMULATOR_MEDIA_URL: `http://127.0.0.1:${mediaPort}`,
      GRAPH_EMULATOR_MEDIA_SECRET: SECRET,
    });
    await graphProcess.waitFor("Ring the bot:");
    const env = printedBotEnv(graphProcess.stdout);
    expect(Object.keys(env).sort()).toEqual(
      [
        "BOT_APP_ID",
        "BOT_APP_SECRET",
        "BOT_TENANT_ID",
        "BOT_PUBLIC_URL",
        "BOT_HOST",
        "BOT_PORT",
        "BOT_TLS_CERT",
        "BOT_TLS_KEY",
        "BOT_GRAPH_URL",
        "BOT_AUTHORITY_URL",
        "BOT_NOTIFICATION_OPENID_URL",
        "BOT_CA_CERT",
        "BOT_MEDIA_FQDN",
        "BOT_BRIDGE_URL",
        "BOT_BRIDGE_SECRET",
      ].sort(),
    );
    expect(env.BOT_PUBLIC_URL).toBe(`https://127.0.0.1:${botPort}`);
    expect(env.BOT_BRIDGE_URL).toBe(`ws://127.0.0.1:${mediaPort}/bridge`);
    const tempFiles = [env.BOT_CA_CERT, env.BOT_TLS_CERT, env.BOT_TLS_KEY] as string[];
    expect(tempFiles.every((file) => existsSync(file))).toBe(true);

    // The printed environment, and only it (plus an ephemeral ops port: the fixed default may be
    // taken on a shared machine).
    const bot = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "src/bot.ts")], {
      cwd: ROOT,
      env: cleanEnv({ ...env, BOT_OPS_PORT: "0" }),
      stdio: ["ignore", "ignore", "pipe"],
    });
    let botStderr = "";
    bot.stderr.on("data", (chunk: Buffer) => (botStderr += chunk.toString()));
    const botExited = new Promise((resolve) => bot.once("exit", resolve));
    cleanups.push(async () => {
      if (bot.exitCode === null && bot.signalCode === null) bot.kill("SIGTERM");
      await botExited;
    });
    await untilListening(botPort).catch((error) => {
      throw new Error(`${(error as Error).message}; bot stderr: ${botStderr}`);
    });

    const graphUrl = /^\s+url\s+(https:\/\/\S+)$/m.exec(graphProcess.stdout)?.[1] as string;
    const ca = readFileSync(env.BOT_CA_CERT as string);
    const control = async (method: "GET" | "POST", route: string, body?: unknown) => {
      const response = await httpsRequest({
        url: `${graphUrl}/emulator${route}`,
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        timeoutMs: 20_000,
        ca,
      });
      return { status: response.status, json: JSON.parse(response.body.toString() || "null") };
    };
    const callId = (await control("POST", "/calls", {})).json.callId as string;
    const established = await control("POST", `/calls/${callId}/wait`, {
      state: "established",
      timeoutMs: 15_000,
    });
    expect(established.status, JSON.stringify(established.json)).toBe(200);
    await control("POST", `/calls/${callId}/end`, {});
    await control("POST", `/calls/${callId}/wait`, { state: "terminated", timeoutMs: 10_000 });
    type Delivery = {
      callId?: string;
      url: string;
      status?: number;
      error?: string;
      body: { value?: { resourceData?: { state?: string } }[] };
    };
    // The call's state changes before its notification's delivery is logged: wait for the last.
    let deliveries: Delivery[] = [];
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
      deliveries = (await control("GET", "/deliveries")).json.value as Delivery[];
      const terminated = deliveries.find(
        (d) => d.callId === callId && d.body.value?.[0]?.resourceData?.state === "terminated",
      );
      if (terminated && (terminated.status ?? terminated.error) !== undefined) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const forCall = deliveries.filter((d) => d.callId === callId);
    // Every notification, those after the answer included, went over https and was accepted...
    expect(forCall.map((d) => [d.url.slice(0, 8), d.status ?? d.error])).toEqual(
      forCall.map(() => ["https://", 202]),
    );
    // ...and they carried the call from incoming through established to terminated.
    expect(forCall.map((d) => d.body.value?.[0]?.resourceData?.state).filter(Boolean)).toEqual([
      "incoming",
      "establishing",
      "established",
      "terminated",
    ]);

    await graphProcess.stop();
    expect(await graphProcess.exitCode()).toBe(0);
    expect(tempFiles.filter((file) => existsSync(file))).toEqual([]);
    expect(existsSync(path.dirname(env.BOT_CA_CERT as string))).toBe(false);
    expect(existsSync(path.dirname(env.BOT_TLS_CERT as string))).toBe(false);
  }, 90_000);
});
