/**
 * Graph fails the answer request (500, 502, 504): the bot repeats it within Graph's deadline,
 * keeps a call an earlier attempt did answer (the repeat meets Graph's 409 for a second answer),
 * stops repeating once Graph's notifications say the call was answered, and rejects through
 * Graph a call it could not answer. Real parts: the Graph emulator, the media platform
 * emulator, the bot (BotApp with its media worker).
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { FaultSpec } from "../../src/emulator/graph/fault-injector.js";
import type { GraphEmulator } from "../../src/emulator/graph/graph-emulator.js";
import { type EmulatedBot, emulatedBotPerTest, botMetric as metric } from "./helpers/emulated-bot.js";
import { until } from "./helpers/fakes.js";

const suite = emulatedBotPerTest();
const { requests } = suite;
let graph: GraphEmulator;
beforeAll(() => {
  graph = suite.graph();
});

const defaultEstablishingDelayMs = 20;
afterEach(() => {
  graph.clearFaults();
  graph.timings.establishingDelayMs = defaultEstablishingDelayMs;
});

const startBot = (answerDeadlineMs?: number): Promise<EmulatedBot> =>
  suite.start({ mediaFqdn: "media.retries.test", answerDeadlineMs });

/** Rings the bot with `faults` armed on this call's answer requests. */
function ring(r: EmulatedBot, ...faults: Omit<FaultSpec, "match">[]): string {
  const { callId } = graph.placeIncomingCall({ appId: r.appId });
  for (const fault of faults)
    graph.injectFault({ match: { action: "answer", pathContains: callId }, ...fault });
  return callId;
}

function botState(r: EmulatedBot, callId: string): string | undefined {
  return r.bot.signaling.calls().find((call) => call.callId === callId)?.state;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("answer retries against the Graph emulator", () => {
  it("500 once, then 502: the answer is repeated and the call answered", async () => {
    const r = await startBot();
    const callId = ring(r, { status: 500 }, { status: 502 });
    await graph.waitForCallState(callId, "established", 10_000);
    await until(() => botState(r, callId) === "established", 5000, "bot sees established");
    expect(requests(callId, "answer").map((request) => request.status)).toEqual([500, 502, 202]);
    expect(requests(callId, "reject")).toEqual([]);
    expect(requests(callId, "delete")).toEqual([]);
    expect(await metric(r, "signaling_answer_outcomes_total", { outcome: "accepted" })).toBe(1);
    expect(await metric(r, "graph_request_retries_total", { action: "answer", reason: "server_error" })).toBe(
      1,
    );
  });

  it("a 504 after Graph answered: the repeat is refused (409), the call is kept and establishes, never hung up", async () => {
    // Graph's establishing comes after the repeat (backoff under 200 ms) has met the 409.
    graph.timings.establishingDelayMs = 1500;
    const r = await startBot(4000);
    const callId = ring(r, { status: 504, afterServing: true });
    await graph.waitForCallState(callId, "established", 10_000);
    expect(requests(callId, "answer").map((request) => request.status)).toEqual([504, 409]);
    await until(() => botState(r, callId) === "established", 5000, "bot sees established");
    // Past the bot's 4 s deadline, when an unknown outcome with no establishment is hung up.
    await sleep(3000);
    expect(requests(callId, "delete")).toEqual([]);
    expect(requests(callId, "reject")).toEqual([]);
    expect(graph.call(callId)?.state).toBe("established");
    expect(botState(r, callId)).toBe("established");
    expect(
      await metric(r, "signaling_answer_outcomes_total", { outcome: "answered_per_notifications" }),
    ).toBe(1);
  });

  it("Graph reports the call answered while a retry waits: the retry is not sent", async () => {
    const r = await startBot();
    // Graph answered, the gateway said 504 with Retry-After: 2; establishing comes 20 ms later.
    const callId = ring(r, { status: 504, retryAfterSeconds: 2, afterServing: true });
    await graph.waitForCallState(callId, "established", 10_000);
    await until(() => botState(r, callId) === "established", 5000, "bot sees established");
    await sleep(2500);
    expect(requests(callId, "answer").map((request) => request.status)).toEqual([504]);
    expect(requests(callId, "delete")).toEqual([]);
    expect(botState(r, callId)).toBe("established");
    expect(
      await metric(r, "signaling_answer_outcomes_total", { outcome: "answered_per_notifications" }),
    ).toBe(1);
  });

  it("Graph fails every answer with 500 until the deadline: the call is rejected through Graph, not left ringing", async () => {
    // The bot's deadline (2.5 s) well before the emulator's own (15 s, then 408).
    const r = await startBot(2500);
    const callId = ring(r, { status: 500, times: 100 });
    const reject = await graph.waitForRequest((q) => q.callId === callId && q.action === "reject", 8000);
    expect(reject.status).toBe(202);
    const ended = await graph.waitForCallState(callId, "terminated", 3000);
    expect(ended.resultInfo?.code).not.toBe(408);
    expect(requests(callId, "answer").length).toBeGreaterThanOrEqual(2);
    expect(requests(callId, "answer").every((request) => request.status === 500)).toBe(true);
    expect(requests(callId, "reject").map((request) => request.status)).toEqual([202]);
    await until(() => botState(r, callId) === "terminated", 5000, "bot ends the call");
    expect(await metric(r, "signaling_answer_outcomes_total", { outcome: "rejected" })).toBe(1);
    expect(await metric(r, "signaling_calls_rejected_total", { reason: "answer_failed" })).toBe(1);
  });
});
