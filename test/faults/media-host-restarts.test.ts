/**
 * The media host process is killed (sockets cut without a close frame) and comes back:
 * - with the calls' sessions kept by the platform, inside the grace: the calls are resumed and
 *   their audio flows again;
 * - as a fresh process that knows none of the sessions: the sessions it creates for the
 *   worker's resumes are new ones (new context ids), which Graph's calls are not bound to, so
 *   the calls must be ended through Graph, not kept with dead media (issue 13, defect 2);
 * - after the grace: every call is ended through Graph, and new calls are taken again.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { MediaPlatformEmulator } from "../../src/emulator/media/media-platform-emulator.js";
import { sleep } from "../media/wait-for.js";
import { closeSharedGraph, FaultStack } from "./fault-stack.js";

let stack: FaultStack | undefined;
afterAll(closeSharedGraph);
afterEach(async () => {
  const left = await stack?.stop();
  stack = undefined;
  expect(left ?? [], "handles left open").toEqual([]);
});

/**
 * The media emulator's host restart (issue 13, defect 2: "the emulator's restart must be able to
 * play both cases"): the host goes down at once (connections cut without a close frame,
 * upgrades refused), and after `downMs` it is back, either still holding its sessions for the
 * grace period (`keepSessions: true`, as a platform that outlives its bridge process) or knowing
 * none of them (`keepSessions: false`, a fresh process). Resolves once it is back.
 */
async function restartHost(
  media: MediaPlatformEmulator,
  options: { downMs: number; keepSessions: boolean },
): Promise<void> {
  media.injectFault({ kind: "restart", ...options });
  await sleep(options.downMs);
}

describe("media host killed and restarted", () => {
  it("inside the grace, its sessions kept by the platform: the calls are resumed and their audio flows again", async () => {
    const graceMs = 3000;
    stack = await FaultStack.start({ graceMs });
    const s = stack;
    const callIds = await s.establishedCalls(2);
    const resumedBefore = s.media.stats().sessionsResumed;

    await restartHost(s.media, { downMs: 1000, keepSessions: true });
    await expect
      .poll(() => s.provider.unavailableReason(), { timeout: graceMs + 2000, interval: 50 })
      .toBeNull();
    for (const callId of callIds) {
      expect(s.graph.call(callId)?.state, "the caller's call after the restart").toBe("established");
      expect(s.botState(callId), "the bot's call after the restart").toBe("established");
      await s.audioFlows(callId);
    }
    expect(s.media.stats().sessionsResumed - resumedBefore).toBe(callIds.length);
    for (const callId of callIds) expect(s.requestsFor(callId, "delete")).toEqual([]);

    for (const callId of callIds) s.graph.endCall(callId);
    for (const callId of callIds) await s.graph.waitForCallState(callId, "terminated");
    await s.expectNothingLeft();
  });

  it("inside the grace, as a fresh process with new sessions: every call is ended through Graph, none kept with dead media", async () => {
    const graceMs = 3000;
    stack = await FaultStack.start({ graceMs });
    const s = stack;
    const callIds = await s.establishedCalls(2);

    await s.killMediaHost();
    await sleep(500);
    await s.startMediaHost(); // the same port, no sessions
    for (const callId of callIds) {
      const ended = await s.endedThroughGraph(callId, graceMs + 8000);
      expect(ended.by).toBe("hangUp");
      expect(ended.call.resultInfo).toMatchObject({ code: 200, subcode: 7000 });
    }
    await s.expectNothingLeft();

    // The bot goes on with the new host.
    const [again] = await s.establishedCalls(1);
    s.graph.endCall(again as string);
    await s.graph.waitForCallState(again as string, "terminated");
    await s.expectNothingLeft();
  });

  it("beyond the grace: every call is ended through Graph, and new calls are taken once it is back", async () => {
    const graceMs = 1500;
    stack = await FaultStack.start({ graceMs });
    const s = stack;
    const callIds = await s.establishedCalls(2);

    await s.killMediaHost();
    for (const callId of callIds) {
      const ended = await s.endedThroughGraph(callId, graceMs + 8000);
      expect(ended.by).toBe("hangUp");
      expect(ended.call.resultInfo).toMatchObject({ code: 200, subcode: 7000 });
    }
    // While the host is away, a new call is refused at once (rejected busy), not left ringing.
    const refused = s.placeCall();
    const rejected = await s.endedThroughGraph(refused, 8000);
    expect(rejected.by).toBe("reject");
    expect(rejected.request.body).toMatchObject({ reason: "busy" });

    await s.startMediaHost();
    await expect.poll(() => s.provider.unavailableReason(), { timeout: 12_000, interval: 100 }).toBeNull();
    const [again] = await s.establishedCalls(1);
    s.graph.endCall(again as string);
    await s.graph.waitForCallState(again as string, "terminated");
    await s.expectNothingLeft();
  });
});
