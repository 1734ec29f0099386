/**
 * The media host's connection drops while the worker's CreateSession for an incoming call is in
 * flight (the host is stalled, so the request is never answered, then the connection is cut):
 * - when the host stays away past the grace, the session cannot be created: the caller must
 *   not be left ringing until Graph gives up; the bot rejects the call through Graph
 *   (issue 13, defect 9);
 * - when the host is back within the grace, the creation is resumed and the call answered
 *   (issue 13, defect 10: the worker proposes the media session id, so the protocol's resume
 *   of a creation in flight can be used).
 */
import { describe, expect, it } from "vitest";
import { sleep, waitFor } from "../media/wait-for.js";
import type { FaultStack } from "./fault-stack.js";
import { faultStackPerTest } from "./fault-stack-per-test.js";

const startStack = faultStackPerTest();

/** Rings the bot with the host stalled, and cuts the connection once the creation is in flight. */
async function ringAndDropWhileCreating(s: FaultStack, refuseReconnectMs: number): Promise<string> {
  s.media.injectFault({ kind: "stall", ms: 30_000 });
  const callId = s.placeCall();
  await waitFor(() => s.botState(callId) === "answering", 5000);
  // The worker sends its CreateSession as soon as signaling asks; give it a moment to leave.
  await sleep(300);
  expect(s.media.sessions()).toEqual([]);
  s.media.injectFault({ kind: "disconnect", refuseReconnectMs });
  return callId;
}

describe("CreateSession in flight when the media host's connection drops", () => {
  it("host away past the grace: the call is rejected through Graph, not left ringing", async () => {
    const graceMs = 1500;
    const s = await startStack({ graceMs });
    const callId = await ringAndDropWhileCreating(s, graceMs + 3000);
    // Well before Graph's 15 s answer deadline would end it (408/1106).
    const ended = await s.endedThroughGraph(callId, graceMs + 6000);
    expect(ended.by).toBe("reject");
    expect(["none", "busy", "forbidden"]).toContain((ended.request.body as { reason?: string }).reason);
    expect(s.requestsFor(callId, "answer")).toEqual([]);
    await expect.poll(() => s.provider.unavailableReason(), { timeout: 12_000, interval: 100 }).toBeNull();
    await s.expectNothingLeft();
  });

  it("host back within the grace: the creation is resumed and the call answered with audio", async () => {
    const graceMs = 3000;
    const s = await startStack({ graceMs });
    const callId = await ringAndDropWhileCreating(s, 500);
    await s.established(callId, graceMs + 8000);
    await s.audioFlows(callId);
    expect(s.requestsFor(callId, "reject")).toEqual([]);
    await s.callersHangUp([callId]);
    await s.expectNothingLeft();
  });
});
