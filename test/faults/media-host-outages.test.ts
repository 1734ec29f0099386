/**
 * The media host's connection drops and its reconnects are refused for a while (the media
 * emulator's `disconnect {refuseReconnectMs}` fault): within the grace period the calls must be
 * kept with audio flowing again; past it every call must be ended through Graph.
 */
import { describe, expect, it } from "vitest";
import { sumOf } from "../../src/metrics/prometheus-text.js";
import { faultStackPerTest } from "./fault-stack-per-test.js";

const GRACE_MS = 4000;

const startStack = faultStackPerTest();

describe("media host connection dropped, reconnects refused", () => {
  it("for less than the grace (1.5 s, then 3 s of 4 s): every call is kept and its audio flows again", async () => {
    const s = await startStack({ graceMs: GRACE_MS });
    const callIds = await s.establishedCalls(3);

    for (const refuseMs of [1500, 3000]) {
      s.media.injectFault({ kind: "disconnect", refuseReconnectMs: refuseMs });
      await expect.poll(() => s.provider.unavailableReason(), { timeout: 3000 }).toBe("disconnected");
      // Back well inside the grace: the worker resumes every kept session on the host.
      await expect
        .poll(() => s.provider.unavailableReason(), { timeout: GRACE_MS + 2000, interval: 50 })
        .toBeNull();
      await s.expectCallsKept(callIds, `after a ${refuseMs} ms outage (grace ${GRACE_MS} ms)`);
    }
    expect(s.media.stats().sessionsResumed).toBe(2 * callIds.length);
    expect(s.media.stats().sessionsExpired).toBe(0);
    for (const callId of callIds) expect(s.requestsFor(callId, "delete")).toEqual([]);

    // The calls end normally; nothing is left of them anywhere.
    await s.callersHangUp(callIds);
    await s.expectNothingLeft();
  });

  it("for longer than the grace: every call is ended through Graph, and new calls are taken once the host is back", async () => {
    const graceMs = 1500;
    const s = await startStack({ graceMs });
    const callIds = await s.establishedCalls(3);

    s.media.injectFault({ kind: "disconnect", refuseReconnectMs: 2 * graceMs + 1000 });
    await s.expectHungUpThroughGraph(callIds, graceMs + 8000);
    // Why: the worker lost the sessions with the host, past the grace.
    expect(sumOf(await s.workerMetrics(), "media_sessions_lost_total")).toBe(callIds.length);
    await s.expectNothingLeft();

    // The host returns: the bot reconnects and takes calls again.
    await expect.poll(() => s.provider.unavailableReason(), { timeout: 10_000, interval: 100 }).toBeNull();
    await s.expectNewCallTaken();
  });
});
