/**
 * The media host process is killed (sockets cut without a close frame) and comes back:
 * - with the calls' sessions kept by the platform, inside the grace: the calls are resumed and
 *   their audio flows again;
 * - as a fresh process that knows none of the sessions: the sessions it creates for the
 *   worker's resumes are new ones (new context ids), which Graph's calls are not bound to, so
 *   the calls must be ended through Graph, not kept with dead media (issue 13, defect 2);
 * - after the grace: every call is ended through Graph; a new call is held for the host, then
 *   rejected busy; new calls are taken again once it is back.
 */
import { describe, expect, it } from "vitest";
import type { MediaPlatformEmulator } from "../../src/emulator/media/media-platform-emulator.js";
import { sleep } from "../media/wait-for.js";
import { faultStackPerTest } from "./fault-stack-per-test.js";

const startStack = faultStackPerTest();

/**
 * The media emulator's restart fault with its sessions kept (issue 13, defect 2): connections
 * cut without a close frame, upgrades refused for `downMs`, the sessions held for the grace as
 * by a platform that outlives its bridge process. Resolves once it is back. (The fresh host
 * below is a real stop and start on the same port; the fault's keepSessions: false variant is
 * covered in test/media/media-host-outage.test.ts.)
 */
async function restartKeepingSessions(media: MediaPlatformEmulator, downMs: number): Promise<void> {
  media.injectFault({ kind: "restart", keepSessions: true, downMs });
  await sleep(downMs);
}

describe("media host killed and restarted", () => {
  it("inside the grace, its sessions kept by the platform: the calls are resumed and their audio flows again", async () => {
    const graceMs = 3000;
    const s = await startStack({ graceMs });
    const callIds = await s.establishedCalls(2);
    const resumedBefore = s.media.stats().sessionsResumed;

    await restartKeepingSessions(s.media, 1000);
    await expect
      .poll(() => s.provider.unavailableReason(), { timeout: graceMs + 2000, interval: 50 })
      .toBeNull();
    await s.expectCallsKept(callIds, "after the restart");
    expect(s.media.stats().sessionsResumed - resumedBefore).toBe(callIds.length);
    for (const callId of callIds) expect(s.requestsFor(callId, "delete")).toEqual([]);

    await s.callersHangUp(callIds);
    await s.expectNothingLeft();
  });

  it("inside the grace, as a fresh process with new sessions: every call is ended through Graph, none kept with dead media", async () => {
    const graceMs = 3000;
    const s = await startStack({ graceMs });
    const callIds = await s.establishedCalls(2);

    await s.killMediaHost();
    await sleep(500);
    await s.startMediaHost(); // the same port, no sessions
    await s.expectHungUpThroughGraph(callIds, graceMs + 8000);
    await s.expectNothingLeft();

    // The bot goes on with the new host.
    await s.expectNewCallTaken();
  });

  it("beyond the grace: every call is ended through Graph, and new calls are taken once it is back", async () => {
    const graceMs = 1500;
    const s = await startStack({ graceMs });
    const callIds = await s.establishedCalls(2);

    await s.killMediaHost();
    await s.expectHungUpThroughGraph(callIds, graceMs + 8000);
    // While the host is away, a new call is held for it (BOT_MEDIA_HOST_WAIT_MS, the grace by
    // default), then rejected busy through Graph, not left ringing until Graph's 408.
    const placedAt = performance.now();
    const refused = s.placeCall();
    const rejected = await s.endedThroughGraph(refused, 8000);
    expect(rejected.by).toBe("reject");
    expect(rejected.request.body).toMatchObject({ reason: "busy" });
    expect(performance.now() - placedAt).toBeGreaterThanOrEqual(graceMs - 100);

    await s.startMediaHost();
    await expect.poll(() => s.provider.unavailableReason(), { timeout: 12_000, interval: 100 }).toBeNull();
    await s.expectNewCallTaken();
  });
});
