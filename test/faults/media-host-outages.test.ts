/**
 * The media host's connection drops and its reconnects are refused for a while (the media
 * emulator's `disconnect {refuseReconnectMs}` fault): within the grace period the calls must be
 * kept with audio flowing again; past it every call must be ended through Graph.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { sumOf } from "../../src/metrics/prometheus-text.js";
import { closeSharedGraph, FaultStack } from "./fault-stack.js";

const GRACE_MS = 4000;

let stack: FaultStack | undefined;
afterAll(closeSharedGraph);
afterEach(async () => {
  const left = await stack?.stop();
  stack = undefined;
  expect(left ?? [], "handles left open").toEqual([]);
});

describe("media host connection dropped, reconnects refused", () => {
  it("for less than the grace (1.5 s, then 3 s of 4 s): every call is kept and its audio flows again", async () => {
    stack = await FaultStack.start({ graceMs: GRACE_MS });
    const s = stack;
    const callIds = await s.establishedCalls(3);

    for (const refuseMs of [1500, 3000]) {
      s.media.injectFault({ kind: "disconnect", refuseReconnectMs: refuseMs });
      await expect.poll(() => s.provider.unavailableReason(), { timeout: 3000 }).toBe("disconnected");
      // Back well inside the grace: the worker resumes every kept session on the host.
      await expect
        .poll(() => s.provider.unavailableReason(), { timeout: GRACE_MS + 2000, interval: 50 })
        .toBeNull();
      for (const callId of callIds) {
        const after = `after a ${refuseMs} ms outage (grace ${GRACE_MS} ms)`;
        expect(s.graph.call(callId)?.state, `the caller's call ${after}`).toBe("established");
        expect(s.botState(callId), `the bot's call ${after}`).toBe("established");
        await s.audioFlows(callId);
      }
    }
    expect(s.media.stats().sessionsResumed).toBe(2 * callIds.length);
    expect(s.media.stats().sessionsExpired).toBe(0);
    for (const callId of callIds) expect(s.requestsFor(callId, "delete")).toEqual([]);

    // The calls end normally; nothing is left of them anywhere.
    for (const callId of callIds) s.graph.endCall(callId);
    for (const callId of callIds) await s.graph.waitForCallState(callId, "terminated");
    await s.expectNothingLeft();
  });

  it("for longer than the grace: every call is ended through Graph, and new calls are taken once the host is back", async () => {
    const graceMs = 1500;
    stack = await FaultStack.start({ graceMs });
    const s = stack;
    const callIds = await s.establishedCalls(3);

    s.media.injectFault({ kind: "disconnect", refuseReconnectMs: 2 * graceMs + 1000 });
    for (const callId of callIds) {
      const ended = await s.endedThroughGraph(callId, graceMs + 8000);
      expect(ended.by).toBe("hangUp");
      expect(ended.call.resultInfo).toMatchObject({ code: 200, subcode: 7000 });
    }
    // Why: the worker lost the sessions with the host, past the grace.
    expect(sumOf(await s.workerMetrics(), "media_sessions_lost_total")).toBe(callIds.length);
    await s.expectNothingLeft();

    // The host returns: the bot reconnects and takes calls again.
    await expect.poll(() => s.provider.unavailableReason(), { timeout: 10_000, interval: 100 }).toBeNull();
    const [again] = await s.establishedCalls(1);
    s.graph.endCall(again as string);
    await s.graph.waitForCallState(again as string, "terminated");
    await s.expectNothingLeft();
  });
});
