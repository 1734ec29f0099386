/**
 * Every placed call ends in one counted outcome (signaling_outgoing_calls_total): one whose
 * media session is lost before Graph established it is counted ended_before_established, like
 * any other early end. (The bot's own end reason for the media loss, "failed", kept it out of
 * every outcome.)
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { FakeGraph, until } from "./helpers/fakes.js";
import { TENANT } from "./helpers/key-server.js";
import { serviceHarnessPerTest } from "./helpers/service-harness.js";

const startHarness = serviceHarnessPerTest();

describe("outcome of a placed call", () => {
  it("is ended_before_established when its media session is lost while it establishes", async () => {
    const graph = new FakeGraph();
    graph.createCall = async () => ({ id: "placed-lost" });
    const { service, media, registry } = await startHarness({}, { graph });
    const placed = await service.placeCall({ user: { userId: randomUUID(), tenantId: TENANT } });
    const ended = placed.ended;
    media.emit({ kind: "sessionLost", callId: "placed-lost", reason: "host gone" });
    await until(() => graph.count("hangUp", "placed-lost") === 1, 3000, "the hang up");
    // Graph confirms the end the bot asked for.
    await fetch(`${service.url}/api/calls`, {
      method: "POST",
      headers: { authorization: "Bearer ok", "content-type": "application/json" },
      body: JSON.stringify({
        value: [
          {
            changeType: "deleted",
            resourceUrl: "/communications/calls/placed-lost",
            resourceData: { state: "terminated", resultInfo: { code: 200, subcode: 7000 } },
          },
        ],
      }),
    });
    expect(await ended).toMatchObject({ reason: "failed" });
    const values = (await registry.getSingleMetric("signaling_outgoing_calls_total")?.get())?.values ?? [];
    const outcomes = values.filter((v) => v.value > 0).map((v) => `${v.labels.kind} ${v.labels.outcome}`);
    expect(outcomes).toEqual(["user ended_before_established"]);
  });
});
