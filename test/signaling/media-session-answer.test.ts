/**
 * The answer path with real parts on both sides: the Graph emulator, the media platform
 * emulator on loopback, and the bot (BotApp, the real media worker and bridge client). What
 * the media host returns for a CreateSession decides what Graph receives: the host's own blob
 * byte for byte, or a reject when the session cannot be had.
 */
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import type { GraphEmulator } from "../../src/emulator/graph/graph-emulator.js";
import type { LoggedRequest } from "../../src/emulator/graph/request-log.js";
import type {
  MediaPlatformEmulatorOptions,
  PlatformBlobFields,
} from "../../src/emulator/media/media-platform-emulator.js";
import type { AnswerTiming } from "../../src/signaling/call-manager.js";
import { type EmulatedBot, emulatedBotPerTest, botMetric as metric } from "./helpers/emulated-bot.js";
import { until } from "./helpers/fakes.js";

/** Host and worker keep a dropped connection's sessions this long. */
const GRACE_MS = 1000;

const suite = emulatedBotPerTest();
const { requests } = suite;
let graph: GraphEmulator;
beforeAll(() => {
  graph = suite.graph();
});

const startBot = (media: Partial<MediaPlatformEmulatorOptions> = {}): Promise<EmulatedBot> =>
  suite.start({
    mediaFqdn: "media.answer.test",
    media: { reconnectGraceMs: GRACE_MS, ...media },
    env: { BOT_BRIDGE_RECONNECT_GRACE_MS: String(GRACE_MS) },
    captureLogs: true,
  });

/** A platform blob in the platform's shape but not JSON.stringify's: other key order, spaces, newlines. */
function unusualBlob(fields: PlatformBlobFields, callId = fields.callId): string {
  return [
    `{ "callId" : "${callId}",`,
    `\t"mpMediaSessionId":"${fields.mediaSessionId.toUpperCase()}" ,`,
    `  "mpUri": "${fields.mpUri}",`,
    `  "audioRenderContexts": [ "${fields.audioRenderContextId}" ],`,
    `  "audioSourceContexts":["${fields.audioSourceContextId}"],`,
    `  "videoRenderContexts": [], "videoSourceContexts": [],`,
    `  "dataRenderContexts": null, "dataSourceContexts": null,`,
    `  "supportedAudioFormat": "Pcm16K", "videoSinkEncodingFormats": [],`,
    `  "regionAffinity": null, "skypeMediaBotsVersion": "1.31.0.225",`,
    `  "mediaStackVersion": "2024.53.1.1", "mpVersion": "7.2.0.3881",`,
    `  "platformExtra": { "z": 1.50, "a": [ ] } }`,
  ].join("\n");
}

function answerBlob(answer: LoggedRequest | undefined): string | undefined {
  return (answer?.body as { mediaConfig?: { blob?: string } } | undefined)?.mediaConfig?.blob;
}

/** Waits until Graph logged a reject of the call and the bot no longer holds it. */
async function rejected(r: EmulatedBot, callId: string): Promise<LoggedRequest> {
  await until(() => requests(callId, "reject").length > 0, 8000, "Graph receives the reject");
  await until(
    () => r.bot.signaling.calls().find((call) => call.callId === callId)?.state === "terminated",
    5000,
    "the bot ends the rejected call",
  );
  const [reject] = requests(callId, "reject");
  if (!reject) throw new Error("no reject");
  return reject;
}

function loggedRejection(r: EmulatedBot, callId: string): Record<string, unknown> | undefined {
  return r.logs
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .find(
      (entry) =>
        entry.callId === callId && entry.msg === "media session could not be created; rejecting the call",
    );
}

describe("the answer carries the media host's blob exactly", () => {
  it("sends the host's media_configuration_json byte for byte, not re-serialized", async () => {
    const blobs = new Map<string, string>();
    const r = await startBot({
      platformBlob: (fields) => {
        const blob = unusualBlob(fields);
        blobs.set(fields.callId, blob);
        return blob;
      },
    });
    const { callId } = graph.placeIncomingCall({ appId: r.appId });
    await graph.waitForCallState(callId, "established", 8000);
    const [answer] = requests(callId, "answer");
    expect(answer?.status).toBe(202);
    const sent = answerBlob(answer);
    expect(blobs.get(callId)).toBeDefined();
    expect(sent).toBe(blobs.get(callId));
    expect(graph.call(callId)?.mediaSession?.callId).toBe(callId);
  });

  it("builds the blob from the fields when the host gives none", async () => {
    const r = await startBot();
    const { callId } = graph.placeIncomingCall({ appId: r.appId });
    await graph.waitForCallState(callId, "established", 8000);
    const sent = answerBlob(requests(callId, "answer")[0]);
    expect(JSON.parse(sent ?? "null")).toMatchObject({
      callId,
      mpUri: "net.tcp://media.answer.test:8445/MediaProcessor",
    });
  });
});

describe("an answer's timings (bench:answer --media emulator reads them)", () => {
  it("reports each stage in order, between Graph's notification POST and its answer's arrival", async () => {
    const timings: AnswerTiming[] = [];
    const r = await suite.start({
      mediaFqdn: "media.answer.test",
      onAnswered: (timing) => timings.push(timing),
    });
    const { callId } = graph.placeIncomingCall({ appId: r.appId });
    await graph.waitForCallState(callId, "established", 8000);
    await until(() => timings.length === 1, 5000, "the answer's timings");
    const [timing] = timings;
    const [answer] = requests(callId, "answer");
    const posted = graph
      .notificationDeliveries()
      .find((d) => d.callId === callId && d.changeTypes[0] === "created")?.postedAtMs;
    // Graph and the bot share this process's clock here: one ordered line of performance.now() reads.
    const line = [
      posted,
      timing?.receivedAt,
      timing?.tokenCheckedAt,
      timing?.parsedAt,
      timing?.respondedAt,
      timing?.handledAt,
      timing?.admittedAt,
      timing?.sessionRequestedAt,
      timing?.sessionCreatedAt,
      timing?.answerSentAt,
      answer?.receivedAtMs,
      timing?.answerAcceptedAt,
    ];
    expect(line.every((at) => typeof at === "number")).toBe(true);
    const at = line as number[];
    expect(at.map((value, i) => i === 0 || value >= (at[i - 1] as number))).toEqual(at.map(() => true));
  });
});

describe("a call whose media session cannot be created is rejected through Graph", () => {
  it("rejects busy when the host's blob names another call", async () => {
    const r = await startBot({ platformBlob: (fields) => unusualBlob(fields, randomUUID()) });
    const { callId } = graph.placeIncomingCall({ appId: r.appId });
    const reject = await rejected(r, callId);
    expect(reject.status).toBe(202);
    expect(reject.body).toEqual({ reason: "busy" });
    expect(requests(callId, "answer")).toEqual([]);
    expect((await graph.waitForCallState(callId, "terminated", 3000)).state).toBe("terminated");
    expect(await metric(r, "signaling_calls_rejected_total", { reason: "media_session_failed" })).toBe(1);
    expect(loggedRejection(r, callId)).toMatchObject({ reason: "busy" });
    expect(JSON.stringify(loggedRejection(r, callId)?.err)).toContain("blob is for call");
  });

  it("rejects busy when the host connection drops while the CreateSession is in flight", async () => {
    const r = await startBot();
    // The host reads nothing more (stall), so the CreateSession stays unanswered; then the
    // connection drops and reconnects are refused past the grace: the creation never completes.
    r.media.injectFault({ kind: "stall", ms: 60_000 });
    const { callId } = graph.placeIncomingCall({ appId: r.appId });
    const state = () => r.bot.signaling.calls().find((call) => call.callId === callId)?.state;
    await until(() => state() === "answering", 5000, "the bot asks for a media session");
    // Time for the request to reach the socket (if it had not, the creation fails all the same).
    await new Promise((resolve) => setTimeout(resolve, 200));
    r.media.injectFault({ kind: "disconnect", refuseReconnectMs: GRACE_MS + 2000 });
    const reject = await rejected(r, callId);
    expect(reject.body).toEqual({ reason: "busy" });
    expect(requests(callId, "answer")).toEqual([]);
    expect(await metric(r, "signaling_calls_rejected_total", { reason: "media_session_failed" })).toBe(1);
    expect(loggedRejection(r, callId)).toBeDefined();
  }, 20_000);
});
