/**
 * Calls taken with service-hosted media, end to end through the Graph emulator: real HTTPS both
 * ways, real notification tokens, the real Graph client and msal token provider, real WAV files
 * for the prompts. No media emulator: a service-hosted call has no media session.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Registry } from "prom-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { GraphEmulator } from "../../src/emulator/graph/graph-emulator.js";
import { httpsRequest } from "../../src/graph/https-request.js";
import { pcm16kWavHeader } from "../../src/media/wav-writer.js";
import type {
  OperationResult,
  ServiceHostedCall,
  ServiceHostedHandlerDefinition,
} from "../../src/signaling/service-hosted-api.js";
import { defineServiceHostedHandler } from "../../src/signaling/service-hosted-api.js";
import { ServiceHostedInputError } from "../../src/signaling/service-hosted-calls.js";
import { until } from "./helpers/fakes.js";
import {
  type SignalingBot as Bot,
  type BotTls,
  startGraphEmulatorForBot,
  startSignalingBot,
  stopSignalingBot,
} from "./helpers/graph-emulator-bot.js";

const BEEP = { uri: "https://cdn.contoso.com/beep.wav", resourceId: "f8971b04-b53e-418c-9222-c82ce681a582" };
const COOL = { uri: "https://cdn.contoso.com/cool.wav", resourceId: "86dc814b-c172-4428-9112-60f8ecae1edb" };
/** The WAV mapped to BEEP's uri lasts this long. */
const BEEP_MS = 1500;

let emulator: GraphEmulator;
let botTls: BotTls;
let wavDir: string;

beforeAll(async () => {
  ({ emulator, botTls } = await startGraphEmulatorForBot());
  // A real 16 kHz mono WAV of BEEP_MS stands for BEEP's https uri (mapped through the control route).
  wavDir = await mkdtemp(path.join(tmpdir(), "ivr-prompts-"));
  const pcm = Buffer.alloc((16_000 * 2 * BEEP_MS) / 1000);
  for (let i = 0; i < pcm.length / 2; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin(i / 5)), i * 2);
  const wav = path.join(wavDir, "beep.wav");
  await writeFile(wav, Buffer.concat([pcm16kWavHeader(pcm.length), pcm]));
  await control("/prompt-files", { uri: BEEP.uri, path: wav });
});

afterAll(async () => {
  await emulator?.close();
  if (wavDir) await rm(wavDir, { recursive: true, force: true });
});

let bot: Bot | undefined;
afterEach(async () => {
  await stopSignalingBot(bot);
  bot = undefined;
});

/** POSTs to the Graph emulator's control API. */
async function control(route: string, body: unknown): Promise<void> {
  const response = await httpsRequest({
    url: `${emulator.url}/emulator${route}`,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    timeoutMs: 5000,
    ca: emulator.caCertPem,
  });
  expect(response.status).toBeLessThan(300);
}

async function startBot(
  definition: ServiceHostedHandlerDefinition<unknown>,
  options: { chooseTimeoutMs?: number } = {},
): Promise<Bot> {
  bot = await startSignalingBot(emulator, botTls, {}, (graph) => ({
    serviceHosted: {
      handler: { name: "test", definition, options: undefined },
      graph,
      chooseTimeoutMs: options.chooseTimeoutMs,
    },
  }));
  return bot;
}

/** A handler recording what reaches it; each call's ServiceHostedCall kept for the test to drive. */
function recordingHandler(choose?: ServiceHostedHandlerDefinition<unknown>["choose"]) {
  const calls = new Map<string, ServiceHostedCall>();
  const events: string[] = [];
  const definition = defineServiceHostedHandler({
    ...(choose ? { choose } : {}),
    preFetchMedia: [BEEP, COOL],
    create(call) {
      calls.set(call.callId, call);
      return {
        onEstablished: () => void events.push(`established ${call.callId}`),
        onTone: (tone) => void events.push(`tone ${call.callId} ${tone}`),
        onEnd: (reason) => void events.push(`end ${call.callId} ${reason}`),
      };
    },
  });
  return { definition, calls, events };
}

/** Bodies of the bot's requests to one call's Graph action (the emulator's request log). */
function actionBodies(callId: string, action: string): unknown[] {
  return emulator
    .requestLog()
    .filter((request) => request.path === `/v1.0/communications/calls/${callId}/${action}`)
    .map((request) => request.body);
}

async function metric(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const found = (await registry.getSingleMetric(name)?.get())?.values.find((value) =>
    Object.entries(labels).every(([key, wanted]) => value.labels[key] === wanted),
  );
  return found?.value ?? 0;
}

/** Places a call and waits until the handler saw it established. */
async function establishedCall(b: Bot, events: string[]): Promise<string> {
  const { callId } = emulator.placeIncomingCall({ appId: b.appId });
  await emulator.waitForCallState(callId, "established", 5000);
  await until(() => events.includes(`established ${callId}`), 5000, "onEstablished");
  return callId;
}

describe("service-hosted calls through the Graph emulator", () => {
  it("answers with serviceHostedMediaConfig and two prefetched files, no media session; a prompt by resourceId settles completed no sooner than its WAV lasts", async () => {
    const { definition, calls, events } = recordingHandler();
    const b = await startBot(definition);
    const callId = await establishedCall(b, events);

    const [answer] = actionBodies(callId, "answer");
    expect(answer).toMatchObject({
      acceptedModalities: ["audio"],
      mediaConfig: {
        "@odata.type": "#microsoft.graph.serviceHostedMediaConfig",
        preFetchMedia: [BEEP, COOL],
      },
    });
    expect(emulator.call(callId)?.mediaSession).toBeUndefined();

    const startedAt = Date.now();
    const result = await calls
      .get(callId)
      ?.playPrompt([{ resourceId: BEEP.resourceId }], { clientContext: "hi" });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(BEEP_MS);
    expect(result).toMatchObject({
      status: "completed",
      resultInfo: { code: 200, subcode: 0 },
    } satisfies OperationResult);
    expect(actionBodies(callId, "playPrompt")).toEqual([
      {
        prompts: [{ "@odata.type": "#microsoft.graph.mediaPrompt", mediaInfo: BEEP }],
        clientContext: "hi",
      },
    ]);
    expect(
      await metric(b.registry, "signaling_service_hosted_operations_total", {
        action: "playPrompt",
        status: "completed",
      }),
    ).toBe(1);
    // Nothing of this call (session, establishment, roster) went to the media side.
    await emulator.drainNotifications();
    expect(b.media.log.filter((line) => line.includes(callId))).toEqual([]);
  });

  it("collects a DTMF: subscribeToTone, then the emulator's tone control route reaches onTone (not the media side)", async () => {
    const { definition, calls, events } = recordingHandler();
    const b = await startBot(definition);
    const callId = await establishedCall(b, events);
    const subscribed = await calls.get(callId)?.subscribeToTone({ clientContext: "dtmf" });
    expect(subscribed?.status).toBe("completed");
    await control(`/calls/${callId}/tone`, { tone: "tone5" });
    await until(() => events.includes(`tone ${callId} tone5`), 5000, "onTone");
    expect(b.media.log).not.toContain(`tone ${callId} tone5`);
  });

  it("cancelMediaProcessing settles the running and the queued prompt cancelled (400/8508)", async () => {
    const { definition, calls, events } = recordingHandler();
    const b = await startBot(definition);
    const callId = await establishedCall(b, events);
    const call = calls.get(callId) as ServiceHostedCall;
    const first = call.playPrompt([{ resourceId: BEEP.resourceId }]);
    const second = call.playPrompt([{ uri: COOL.uri }]);
    await until(() => actionBodies(callId, "playPrompt").length === 2, 5000, "both prompts sent");
    expect((await call.cancelMediaProcessing()).status).toBe("completed");
    for (const result of await Promise.all([first, second]))
      expect(result).toMatchObject({ status: "cancelled", resultInfo: { code: 400, subcode: 8508 } });
  });

  it("the call ending settles a pending prompt (callEnded) and runs onEnd", async () => {
    const { definition, calls, events } = recordingHandler();
    const b = await startBot(definition);
    const callId = await establishedCall(b, events);
    const pending = calls.get(callId)?.playPrompt([{ resourceId: BEEP.resourceId }]);
    await until(() => actionBodies(callId, "playPrompt").length === 1, 5000, "prompt sent");
    await control(`/calls/${callId}/end`, {});
    expect(await pending).toEqual({ status: "failed", callEnded: true });
    await until(() => events.some((event) => event.startsWith(`end ${callId}`)), 5000, "onEnd");
  });

  it("refuses bad input before any request: an http prompt, an unknown resourceId, a clientContext over 256", async () => {
    const { definition, calls, events } = recordingHandler();
    const b = await startBot(definition);
    const callId = await establishedCall(b, events);
    const call = calls.get(callId) as ServiceHostedCall;
    await expect(call.playPrompt([{ uri: "http://cdn.contoso.com/beep.wav" }])).rejects.toThrow(
      /playPrompt: prompts\[0\]\.mediaInfo\.uri must use https, got http:/,
    );
    await expect(call.playPrompt([{ resourceId: randomUUID() }])).rejects.toThrow(
      /prompts\[0\]\.resourceId .* was not prefetched/,
    );
    await expect(call.subscribeToTone({ clientContext: "x".repeat(257) })).rejects.toBeInstanceOf(
      ServiceHostedInputError,
    );
    expect(actionBodies(callId, "playPrompt")).toEqual([]);
    expect(actionBodies(callId, "subscribeToTone")).toEqual([]);
    expect(
      await metric(b.registry, "signaling_service_hosted_operations_total", {
        action: "playPrompt",
        status: "refused",
      }),
    ).toBe(2);
  });

  it("an operation notification naming no operation of the call is counted, and the call goes on", async () => {
    const { definition, events } = recordingHandler();
    const b = await startBot(definition);
    const callId = await establishedCall(b, events);
    const operationId = randomUUID();
    const posted = await emulator.postRawNotification(
      {
        value: [
          {
            changeType: "deleted",
            resourceUrl: `/communications/calls/${callId}/operations/${operationId}`,
            resourceData: {
              "@odata.type": "#microsoft.graph.playPromptOperation",
              id: operationId,
              status: "completed",
            },
          },
        ],
      },
      { appId: b.appId },
    );
    expect(posted.status).toBe(202);
    await until(() => b.service.calls().some((c) => c.callId === callId), 1000, "call known");
    expect(
      await metric(b.registry, "signaling_service_hosted_operations_total", {
        action: "unknown",
        status: "unknown_operation",
      }),
    ).toBe(1);
    expect(b.service.calls().find((c) => c.callId === callId)?.state).toBe("established");
  });

  it.each([
    ["throws", () => Promise.reject(new Error("policy store down")), "failed"],
    ["never answers", () => new Promise<boolean>(() => {}), "timed_out"],
  ])("choose() that %s: counted, answered app-hosted with a media session", async (_name, choose, label) => {
    const { definition, events } = recordingHandler(choose);
    const b = await startBot(definition, { chooseTimeoutMs: 300 });
    const { callId } = emulator.placeIncomingCall({ appId: b.appId });
    await emulator.waitForCallState(callId, "established", 5000);
    const [answer] = actionBodies(callId, "answer");
    expect(answer).toMatchObject({ mediaConfig: { "@odata.type": "#microsoft.graph.appHostedMediaConfig" } });
    expect(b.media.log).toContain(`create ${callId}`);
    await until(() => b.media.log.includes(`established ${callId}`), 3000, "media told established");
    expect(events).toEqual([]);
    expect(await metric(b.registry, "signaling_service_hosted_choices_total", { choice: label })).toBe(1);
  });

  it("with the media host unavailable: a chosen call is answered service-hosted, a declined one rejected busy", async () => {
    let take = true;
    const { definition, events } = recordingHandler(() => take);
    const b = await startBot(definition);
    b.media.unavailable = "overloaded";
    const callId = await establishedCall(b, events);
    expect(actionBodies(callId, "answer")[0]).toMatchObject({
      mediaConfig: { "@odata.type": "#microsoft.graph.serviceHostedMediaConfig" },
    });
    take = false;
    const declined = emulator.placeIncomingCall({ appId: b.appId });
    await emulator.waitForCallState(declined.callId, "terminated", 5000);
    await until(() => actionBodies(declined.callId, "reject").length === 1, 3000, "reject logged");
    expect(actionBodies(declined.callId, "reject")[0]).toMatchObject({ reason: "busy" });
    expect(b.media.log).not.toContain(`create ${declined.callId}`);
  });

  it("choose() false: app-hosted; choose() with its own preFetchMedia: that list is answered", async () => {
    const own = [{ uri: "https://cdn.contoso.com/own.wav", resourceId: randomUUID() }];
    let first = true;
    const { definition, events } = recordingHandler(() => {
      const choice = first ? false : { preFetchMedia: own };
      first = false;
      return choice;
    });
    const b = await startBot(definition);
    const appHosted = emulator.placeIncomingCall({ appId: b.appId });
    await emulator.waitForCallState(appHosted.callId, "established", 5000);
    expect(actionBodies(appHosted.callId, "answer")[0]).toMatchObject({
      mediaConfig: { "@odata.type": "#microsoft.graph.appHostedMediaConfig" },
    });
    const callId = await establishedCall(b, events);
    expect(actionBodies(callId, "answer")[0]).toMatchObject({
      mediaConfig: { "@odata.type": "#microsoft.graph.serviceHostedMediaConfig", preFetchMedia: own },
    });
  });
});
