import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GraphEmulator } from "../../../src/emulator/graph/graph-emulator.js";
import { createTlsCertificate } from "../../../src/emulator/graph/tls-certificate.js";
import { GraphClient } from "../../../src/graph/graph-client.js";
import { GraphError } from "../../../src/graph/graph-error.js";
import type { GraphTokenProvider } from "../../../src/graph/token-provider.js";
import type { MediaPrompt } from "../../../src/graph/types.js";
import { silentLogger } from "../../../src/log/logger.js";
import { pcm16kWavHeader } from "../../../src/media/wav-writer.js";
import { emulatorTokenProvider } from "../../graph/helpers.js";
import { answerBody as appHostedAnswer, graph } from "./graph-test-kit.js";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const BEEP = { uri: "https://cdn.contoso.com/beep.wav", resourceId: "f8971b04-b53e-418c-9222-c82ce681a582" };
const COOL = { uri: "https://cdn.contoso.com/cool.wav", resourceId: "86dc814b-c172-4428-9112-60f8ecae1edb" };
/** The WAV mapped to BEEP's uri lasts this long. */
const BEEP_MS = 1500;

interface Notification {
  changeType: string;
  resourceUrl: string;
  // biome-ignore lint/suspicious/noExplicitAny: probed field by field
  resourceData?: any;
  receivedAt: number;
}

/** The bot's https callback endpoint: records every notification. */
class HttpsReceiver {
  readonly received: Notification[] = [];
  constructor(
    readonly server: https.Server,
    readonly url: string,
  ) {}

  static async start(tls: { certPem: string; keyPem: string }): Promise<HttpsReceiver> {
    const received: Notification[] = [];
    const server = https.createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { value?: Notification[] };
        for (const n of body.value ?? []) received.push({ ...n, receivedAt: Date.now() });
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const receiver = new HttpsReceiver(
      server,
      `https://127.0.0.1:${(server.address() as AddressInfo).port}/api/calls`,
    );
    (receiver as { received: Notification[] }).received = received;
    return receiver;
  }

  async waitFor(predicate: (n: Notification) => boolean, timeoutMs = 10_000): Promise<Notification> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(predicate);
      if (found) return found;
      if (Date.now() > until) throw new Error("timed out waiting for a notification");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

function mediaPrompt(mediaInfo: { uri: string; resourceId?: string }): MediaPrompt {
  return { "@odata.type": "#microsoft.graph.mediaPrompt", mediaInfo };
}

describe("service-hosted media against the Graph emulator (real msal token, real HTTPS, real WAV)", () => {
  let emulator: GraphEmulator;
  let receiver: HttpsReceiver;
  let tokens: GraphTokenProvider;
  let client: GraphClient;
  let registry: Registry;
  let wavDir: string;
  const appId = randomUUID();
  const secret = `secret-${randomUUID()}`;

  beforeAll(async () => {
    const tls = await createTlsCertificate();
    receiver = await HttpsReceiver.start(tls);
    emulator = await GraphEmulator.start({ logger: silentLogger(), callbackCaPem: tls.certPem });
    emulator.registerApp({ appId, secret, tenantId: TENANT, callbackUrl: receiver.url });
    tokens = emulatorTokenProvider(emulator, { appId, secret, tenantId: TENANT });
    await tokens.start();
    registry = new Registry();
    client = new GraphClient({
      baseUrl: emulator.graphUrl,
      tokenProvider: tokens,
      settings: { requestTimeoutMs: 5000, maxAttempts: 2, overallDeadlineMs: 10_000 },
      ca: emulator.caCertPem,
      logger: silentLogger(),
      registry,
    });
    // A real 16 kHz mono WAV of BEEP_MS milliseconds stands for BEEP's https uri.
    wavDir = await mkdtemp(path.join(tmpdir(), "prompts-"));
    const pcm = Buffer.alloc((16_000 * 2 * BEEP_MS) / 1000);
    for (let i = 0; i < pcm.length / 2; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin(i / 5)), i * 2);
    const wav = path.join(wavDir, "beep.wav");
    await writeFile(wav, Buffer.concat([pcm16kWavHeader(pcm.length), pcm]));
    emulator.mapPromptFile(BEEP.uri, wav);
  });
  afterAll(async () => {
    tokens?.close();
    await emulator?.close();
    receiver?.server.closeAllConnections();
    await new Promise((resolve) => receiver?.server.close(resolve));
    if (wavDir) await rm(wavDir, { recursive: true, force: true });
  });

  /** An incoming call answered with the seed's serviceHostedMediaConfig, established. */
  async function answeredCall(): Promise<string> {
    const { callId } = emulator.placeIncomingCall();
    await client.answer(callId, {
      callbackUri: receiver.url,
      acceptedModalities: ["audio"],
      mediaConfig: {
        "@odata.type": "#microsoft.graph.serviceHostedMediaConfig",
        preFetchMedia: [BEEP, COOL],
      },
    });
    await emulator.waitForCallState(callId, "established", 5000);
    return callId;
  }

  const operationDone = (callId: string, operationId: unknown) => (n: Notification) =>
    n.changeType === "deleted" &&
    n.resourceUrl === `/communications/calls/${callId}/operations/${operationId}`;

  it("answers with two prefetched prompts: established without any media session", async () => {
    const callId = await answeredCall();
    const call = emulator.call(callId);
    expect(call?.mediaSession).toBeUndefined();
    expect(call?.mediaConfig).toEqual({
      "@odata.type": "#microsoft.graph.serviceHostedMediaConfig",
      preFetchMedia: [BEEP, COOL],
    });
    await receiver.waitFor(
      (n) => n.resourceUrl === `/communications/calls/${callId}` && n.resourceData?.state === "established",
    );
  });

  it("plays a prompt: Running at once, completed with resultInfo after the WAV's duration", async () => {
    const callId = await answeredCall();
    const sentAt = Date.now();
    const operation = await client.playPrompt(callId, [mediaPrompt(BEEP)], "welcome");
    expect(operation).toMatchObject({
      "@odata.type": "#microsoft.graph.playPromptOperation",
      status: "Running",
      clientContext: "welcome",
    });
    const done = await receiver.waitFor(operationDone(callId, operation.id));
    // The emulator's timer started after the request arrived, so never earlier than this.
    expect(done.receivedAt - sentAt).toBeGreaterThanOrEqual(BEEP_MS);
    expect(done.resourceData).toMatchObject({
      "@odata.type": "#microsoft.graph.playPromptOperation",
      id: operation.id,
      status: "Completed",
      clientContext: "welcome",
      resultInfo: { code: 200, subcode: 0 },
    });
  });

  it("subscribeToTone, then a caller's tone arrives as toneInfo", async () => {
    const callId = await answeredCall();
    const operation = await client.subscribeToTone(callId, "dtmf");
    expect(operation).toMatchObject({
      "@odata.type": "#microsoft.graph.subscribeToToneOperation",
      status: "Completed",
      clientContext: "dtmf",
    });
    emulator.sendTone(callId, "tone5");
    const tone = await receiver.waitFor(
      (n) => n.resourceUrl === `/communications/calls/${callId}` && n.resourceData?.toneInfo !== undefined,
    );
    expect(tone.resourceData.toneInfo).toEqual({ sequenceId: 1, tone: "tone5" });
  });

  it("cancelMediaProcessing ends the running and the queued prompt with 400/8508", async () => {
    const callId = await answeredCall();
    const first = await client.playPrompt(callId, [mediaPrompt(BEEP)]);
    const second = await client.playPrompt(callId, [mediaPrompt(COOL)]);
    const cancel = await client.cancelMediaProcessing(callId, "stop");
    expect(cancel).toMatchObject({
      "@odata.type": "#microsoft.graph.cancelMediaProcessingOperation",
      status: "Completed",
      clientContext: "stop",
    });
    for (const operation of [first, second]) {
      const done = await receiver.waitFor(operationDone(callId, operation.id));
      expect(done.resourceData).toMatchObject({
        status: "Completed",
        resultInfo: { code: 400, subcode: 8508 },
      });
    }
    // Nothing completes them a second time after their play time.
    await new Promise((resolve) => setTimeout(resolve, BEEP_MS + 200));
    const announcements = receiver.received.filter(
      (n) => operationDone(callId, first.id)(n) || operationDone(callId, second.id)(n),
    );
    expect(announcements).toHaveLength(2);
  });

  it("recordResponse: a stop tone ends the recording; without one it lasts maxRecordDurationInSeconds", async () => {
    const callId = await answeredCall();
    const stopped = await client.recordResponse(callId, {
      prompts: [mediaPrompt(COOL)],
      maxRecordDurationInSeconds: 120,
      stopTones: ["#"],
      clientContext: "voicemail",
    });
    expect(stopped).toMatchObject({ "@odata.type": "#microsoft.graph.recordOperation", status: "Running" });
    // A tone that is not a stop tone changes nothing; pound (#) ends the recording once it
    // records (after the 1 s prompt), so it is repeated until the operation is announced.
    emulator.sendTone(callId, "tone1");
    const presses = setInterval(() => emulator.sendTone(callId, "pound"), 200);
    const done = await receiver
      .waitFor(operationDone(callId, stopped.id), 10_000)
      .finally(() => clearInterval(presses));
    expect(done.resourceData).toMatchObject({
      "@odata.type": "#microsoft.graph.recordOperation",
      status: "Completed",
      clientContext: "voicemail",
      resultInfo: { code: 200, subcode: 0 },
    });

    const sentAt = Date.now();
    const timed = await client.recordResponse(callId, { maxRecordDurationInSeconds: 1 });
    const timedDone = await receiver.waitFor(operationDone(callId, timed.id));
    expect(timedDone.receivedAt - sentAt).toBeGreaterThanOrEqual(1000);
    expect(timedDone.resourceData).toMatchObject({ status: "Completed", resultInfo: { code: 200 } });
  });

  it("a prompt whose mapped file is not a playable WAV fails the operation", async () => {
    const callId = await answeredCall();
    const broken = "https://cdn.contoso.com/broken.wav";
    const file = path.join(wavDir, "broken.wav");
    await writeFile(file, "not a wav");
    emulator.mapPromptFile(broken, file);
    const operation = await client.playPrompt(callId, [mediaPrompt({ uri: broken })]);
    const done = await receiver.waitFor(operationDone(callId, operation.id));
    expect(done.resourceData).toMatchObject({
      status: "Failed",
      resultInfo: { code: 400, message: `The prompt ${broken} cannot be played.` },
    });
  });

  it("refuses a prompt URL that is not https before sending: clear error, counted, nothing at the emulator", async () => {
    const callId = await answeredCall();
    await client.playPrompt(callId, [mediaPrompt(COOL)]);
    const before = emulator.requestLog().length;
    const error = await client
      .playPrompt(callId, [mediaPrompt({ uri: "http://cdn.contoso.com/a.wav" })])
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(GraphError);
    expect((error as GraphError).code).toBe("invalidRequest");
    expect((error as GraphError).message).toContain("prompts[0].mediaInfo.uri must use https, got http:");
    const log = emulator.requestLog();
    expect(log.slice(before).filter((r) => r.path.includes("/playPrompt"))).toEqual([]);
    // The valid playPrompt just before is in the log: the filter above can match.
    expect(log.slice(0, before).some((r) => r.path.endsWith(`/${callId}/playPrompt`))).toBe(true);
    const metric = await registry.getSingleMetric("graph_requests_total")?.get();
    expect(
      metric?.values.find((v) => v.labels.action === "playPrompt" && v.labels.status === "invalid")?.value,
    ).toBe(1);
  });

  it("the emulator itself refuses wrong bodies with Graph's error shape", async () => {
    const token = await tokens.getToken();
    const callId = await answeredCall();
    const httpPrompt = await graph(emulator, "POST", `/communications/calls/${callId}/playPrompt`, token, {
      prompts: [mediaPrompt({ uri: "http://cdn.contoso.com/a.wav" })],
    });
    expect(httpPrompt.status).toBe(400);
    expect(httpPrompt.json().error).toMatchObject({
      code: "BadRequest",
      message: 'prompts[0].mediaInfo.uri must be an https URL, got "http://cdn.contoso.com/a.wav".',
    });
    const notInCsdl = await graph(emulator, "POST", `/communications/calls/${callId}/recordResponse`, token, {
      maxRecordDurationInSeconds: "long",
    });
    expect(notInCsdl.status).toBe(400);
    expect(notInCsdl.json().error.message).toContain("Invalid recordResponse request body");

    const incoming = emulator.placeIncomingCall();
    const badPrefetch = await graph(
      emulator,
      "POST",
      `/communications/calls/${incoming.callId}/answer`,
      token,
      {
        callbackUri: receiver.url,
        acceptedModalities: ["audio"],
        mediaConfig: {
          "@odata.type": "#microsoft.graph.serviceHostedMediaConfig",
          preFetchMedia: [{ uri: BEEP.uri, resourceId: "beep" }],
        },
      },
    );
    expect(badPrefetch.status).toBe(400);
    expect(badPrefetch.json().error.message).toBe(
      'mediaConfig.preFetchMedia[0].resourceId must be a GUID, got "beep".',
    );

    // An app-hosted call has no Graph-played prompts.
    const appHosted = emulator.placeIncomingCall();
    await graph(
      emulator,
      "POST",
      `/communications/calls/${appHosted.callId}/answer`,
      token,
      appHostedAnswer(receiver.url),
    );
    await emulator.waitForCallState(appHosted.callId, "established", 5000);
    const wrongCall = await graph(
      emulator,
      "POST",
      `/communications/calls/${appHosted.callId}/playPrompt`,
      token,
      {
        prompts: [mediaPrompt(BEEP)],
      },
    );
    expect(wrongCall.status).toBe(400);
    expect(wrongCall.json().error.message).toBe(
      "playPrompt is only valid in a call answered or created with serviceHostedMediaConfig.",
    );
  });
});
