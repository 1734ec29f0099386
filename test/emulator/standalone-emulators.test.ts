import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { httpsRequest } from "../../src/graph/https-request.js";
import { buildMediaSessionConfiguration, serializeMediaBlob } from "../../src/media/media-session-config.js";
import { BotReceiver } from "./graph/bot-receiver.js";
import { answerBody, mediaBlob } from "./graph/graph-test-kit.js";
import { openBridgeClient } from "./open-bridge-client.js";
import { EmulatorProcess, freePort } from "./standalone-process.js";

const SECRET = "standalone-emulators-secret-0123";
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
    const ca = readFileSync(/^\s+BOT_CA_CERT=(.*)$/m.exec(graphProcess.stdout)?.[1] as string);
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
