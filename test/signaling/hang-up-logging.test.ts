/**
 * How a hang up's failure is logged: Graph's 404 (the call ended already) is what was asked
 * for and is not a warning; any other failure is one warning.
 */
import { describe, expect, it } from "vitest";
import { GraphStatusError, until } from "./helpers/fakes.js";
import { TENANT } from "./helpers/key-server.js";
import { serviceHarnessPerTest } from "./helpers/service-harness.js";

const start = serviceHarnessPerTest();

const incoming = (callId: string) =>
  JSON.stringify({
    value: [
      {
        changeType: "created",
        resourceUrl: `/communications/calls/${callId}`,
        resourceData: {
          "@odata.type": "#microsoft.graph.call",
          state: "incoming",
          direction: "incoming",
          tenantId: TENANT,
          requestedModalities: ["audio"],
        },
      },
    ],
  });

async function answeredCall(callId: string, hangUpStatus: number) {
  const h = await start();
  h.graph.hangUpImpl = async () => {
    throw new GraphStatusError(hangUpStatus);
  };
  expect((await h.postNotification(incoming(callId))).status).toBe(202);
  await until(() => h.service.calls()[0]?.answeredAt !== undefined, 3000, "answered");
  expect(await h.service.hangUp(callId)).toBe(true);
  await until(() => h.service.liveCallCount === 0, 3000, "ended locally");
  return h;
}

describe("logging of a failed hang up", () => {
  it("logs Graph's 404 for a call that already ended at info, not as a warning", async () => {
    const h = await answeredCall("gone-1", 404);
    expect(h.log.warnings()).toEqual([]);
    expect(h.log.lines).toContainEqual(
      expect.objectContaining({ callId: "gone-1", level: 30, msg: "hang up: call already gone at Graph" }),
    );
  });

  it("logs any other failure as one warning", async () => {
    const h = await answeredCall("fail-1", 500);
    expect(h.log.warnings()).toEqual([
      expect.objectContaining({
        callId: "fail-1",
        status: 500,
        msg: "hang up request failed; ending call locally",
      }),
    ]);
  });
});
