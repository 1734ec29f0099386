import { randomUUID } from "node:crypto";
import { ConfidentialClientApplication } from "@azure/msal-node";
import { GraphEmulator } from "../../../src/emulator/graph/graph-emulator.js";
import { type HttpResponse, httpsRequest } from "../../../src/graph/https-request.js";
import { silentLogger } from "../../../src/log/logger.js";
import {
  buildMediaSessionConfiguration,
  serializeMediaBlob,
} from "../../../src/media/media-session-config.js";
import { BotReceiver } from "./bot-receiver.js";
import { RecordingMsalNetworkClient } from "./msal-network-client.js";

export const TENANT = "11111111-2222-3333-4444-555555555555";
export const APP_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
export const SECRET = "test-secret";

/** A Graph emulator with the test app registered, calling back a BotReceiver; `close` ends both. */
export async function startEmulatorWithBot(): Promise<{
  emulator: GraphEmulator;
  bot: BotReceiver;
  close: () => Promise<void>;
}> {
  const bot = await BotReceiver.start();
  const emulator = await GraphEmulator.start({ logger: silentLogger() });
  emulator.registerApp({ appId: APP_ID, secret: SECRET, tenantId: TENANT, callbackUrl: bot.url });
  return {
    emulator,
    bot,
    close: async () => {
      await emulator.close();
      await bot.close();
    },
  };
}

/** A Graph access token from the emulator, through the real msal-node client. */
export async function acquireToken(
  emulator: GraphEmulator,
  appId = APP_ID,
  secret = SECRET,
): Promise<string> {
  const cca = new ConfidentialClientApplication({
    auth: {
      clientId: appId,
      clientSecret: secret,
      authority: emulator.authorityUrl(TENANT),
      knownAuthorities: [new URL(emulator.url).host],
    },
    system: { networkClient: new RecordingMsalNetworkClient(emulator.caCertPem) },
  });
  const result = await cca.acquireTokenByClientCredential({
    scopes: ["https://graph.microsoft.com/.default"],
  });
  if (!result) throw new Error("no token");
  return result.accessToken;
}

export interface GraphReply extends HttpResponse {
  // biome-ignore lint/suspicious/noExplicitAny: test responses are probed field by field
  json: () => any;
}

/** One Graph request with a bearer token (or none). */
export async function graph(
  emulator: GraphEmulator,
  method: "GET" | "POST" | "DELETE",
  path: string,
  token: string | undefined,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<GraphReply> {
  const response = await httpsRequest({
    url: `${emulator.graphUrl}${path}`,
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    timeoutMs: 10_000,
    ca: emulator.caCertPem,
  });
  return { ...response, json: () => JSON.parse(response.body.toString("utf8")) };
}

export function mediaBlob(callId = randomUUID()): string {
  return serializeMediaBlob(
    buildMediaSessionConfiguration({
      callId,
      mediaSessionId: randomUUID(),
      mpUri: "net.tcp://bot.example.test:18732/MediaProcessor",
      audioRenderContextId: randomUUID(),
      audioSourceContextId: randomUUID(),
      versions: {
        skypeMediaBotsVersion: "1.31.0.225",
        mediaStackVersion: "2024.4.1.1",
        mpVersion: "7.2.0.3881",
      },
    }),
  );
}

export function answerBody(callbackUri: string, blob = mediaBlob()) {
  return {
    callbackUri,
    mediaConfig: { "@odata.type": "#microsoft.graph.appHostedMediaConfig", blob },
    acceptedModalities: ["audio"],
  };
}

/** One request to the emulator's control API (/emulator...). */
export async function control(
  emulator: GraphEmulator,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
): Promise<GraphReply> {
  const response = await httpsRequest({
    url: `${emulator.url}/emulator${path}`,
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    timeoutMs: 10_000,
    ca: emulator.caCertPem,
  });
  return { ...response, json: () => JSON.parse(response.body.toString("utf8") || "{}") };
}
