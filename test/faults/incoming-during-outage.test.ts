/**
 * A new call rings while the media host's connection is down (the media emulator's
 * `disconnect {refuseReconnectMs}` fault) and the worker is reconnecting. The soak at 500
 * calls rejected every such call busy at once (89 in 10 minutes); now the call is held,
 * neither answered nor rejected, until the host is back (bounded by BOT_MEDIA_HOST_WAIT_MS,
 * default the reconnect grace, and by Graph's deadline less room to answer):
 * - host back within the hold: the call is answered with audio both ways, never rejected;
 * - host away longer: rejected busy through Graph after the hold, well before Graph's 408,
 *   counted as media_host_unreachable; calls beyond maxCalls are rejected at once meanwhile;
 * - the caller hangs up, or the bot shuts down, while the call waits: nothing is left of it.
 */
import { describe, expect, it } from "vitest";
import { parseExposition } from "../../src/metrics/prometheus-text.js";
import { sleep, waitFor } from "../media/wait-for.js";
import type { FaultStack } from "./fault-stack.js";
import { faultStackPerTest } from "./fault-stack-per-test.js";

const startStack = faultStackPerTest();

/** Cuts the host's connection, refusing reconnects for refuseMs; resolves once the bot sees it down. */
async function hostDown(s: FaultStack, refuseMs: number): Promise<void> {
  s.media.injectFault({ kind: "disconnect", refuseReconnectMs: refuseMs });
  await expect.poll(() => s.provider.unavailableReason(), { timeout: 3000 }).toBe("disconnected");
}

/** Places a call and checks it is held: registered by the bot, still incoming (nothing sent to Graph). */
async function heldCall(s: FaultStack): Promise<string> {
  const callId = s.placeCall();
  await waitFor(() => s.botState(callId) !== undefined, 5000);
  // Long enough for a reject at once to have reached Graph on a busy machine.
  await sleep(500);
  expect(s.botState(callId), "the bot's call while the host is away").toBe("incoming");
  expect(s.graph.call(callId)?.state, "the caller's call while the host is away").toBe("incoming");
  expect(s.requestsFor(callId)).toEqual([]);
  return callId;
}

async function rejectedCount(s: FaultStack, why: string): Promise<number> {
  const scrape = parseExposition(await s.bot.registry.metrics());
  return scrape.get(`signaling_calls_rejected_total{reason="${why}"}`) ?? 0;
}

describe("an incoming call while the media host is reconnecting", () => {
  it("host back within the hold (refused 2 s, grace 4 s): the call is answered with audio, not rejected", async () => {
    const s = await startStack({ graceMs: 4000 });
    await hostDown(s, 2000);
    const callId = await heldCall(s);

    await s.established(callId, 12_000);
    await waitFor(() => s.botState(callId) === "established", 5000);
    await s.audioFlows(callId);
    expect(s.requestsFor(callId, "reject")).toEqual([]);
    expect(await rejectedCount(s, "media_host_unreachable")).toBe(0);

    await s.callersHangUp([callId]);
    await s.expectNothingLeft();
  });

  it("host away longer than the hold: rejected busy after the hold, before Graph's 408; beyond maxCalls at once", async () => {
    const graceMs = 1500; // the hold, by default
    const s = await startStack({ graceMs, env: { BOT_MAX_CALLS: "1" } });
    await hostDown(s, 15_000);
    const placedAt = performance.now();
    const held = await heldCall(s);

    // The held call takes the only slot: another call is rejected at once, for capacity.
    const extra = s.placeCall();
    const extraEnded = await s.endedThroughGraph(extra, 5000);
    expect(extraEnded.by).toBe("reject");
    expect(s.botState(held)).toBe("incoming");
    expect(await rejectedCount(s, "capacity")).toBe(1);

    const ended = await s.endedThroughGraph(held, 10_000);
    const heldMs = performance.now() - placedAt;
    expect(ended.by).toBe("reject");
    expect(ended.request.body).toMatchObject({ reason: "busy" });
    expect(ended.call.resultInfo?.code).not.toBe(408);
    expect(heldMs).toBeGreaterThanOrEqual(graceMs - 100);
    expect(heldMs).toBeLessThan(10_000); // Graph gives up at 15 s
    expect(s.requestsFor(held, "answer")).toEqual([]);
    expect(await rejectedCount(s, "media_host_unreachable")).toBe(1);
    await s.expectNothingLeft();
  });

  it("the caller hangs up while the call waits: nothing is left of it", async () => {
    const s = await startStack({ graceMs: 4000 });
    await hostDown(s, 3000);
    const callId = await heldCall(s);

    s.graph.endCall(callId);
    await s.graph.waitForCallState(callId, "terminated");
    await waitFor(() => s.botState(callId) === "terminated", 5000);

    // The host comes back: the ended call is not answered, no session is made for it.
    await expect.poll(() => s.provider.unavailableReason(), { timeout: 10_000, interval: 100 }).toBeNull();
    await sleep(300);
    expect(s.requestsFor(callId)).toEqual([]);
    expect(s.media.sessions()).toEqual([]);
    await s.expectNothingLeft();
  });

  it("the bot shuts down while the call waits: the call is rejected through Graph", async () => {
    const s = await startStack({ graceMs: 4000 });
    await hostDown(s, 10_000);
    const callId = await heldCall(s);

    await s.bot.stop(5000);
    const ended = await s.endedThroughGraph(callId, 5000);
    expect(ended.by).toBe("reject");
    expect(ended.request.body).toMatchObject({ reason: "busy" });
  });
});
