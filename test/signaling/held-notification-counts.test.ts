/**
 * A notification held while a createCall is in flight is counted once in
 * signaling_notifications_total: by its outcome when replayed for the call the 201 named, as
 * unknown_call when no 201 named its call. (It was counted "held" on arrival and again when
 * replayed, and a dropped one never as unknown_call.)
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { CallResource } from "../../src/graph/types.js";
import { PlaceCallFailedError } from "../../src/signaling/place-call-errors.js";
import { FakeGraph, until } from "./helpers/fakes.js";
import { TENANT } from "./helpers/key-server.js";
import { serviceHarnessPerTest } from "./helpers/service-harness.js";

const startHarness = serviceHarnessPerTest();

function stateUpdate(callId: string, state: string): unknown {
  return {
    "@odata.type": "#microsoft.graph.commsNotifications",
    value: [
      { changeType: "updated", resourceUrl: `/communications/calls/${callId}`, resourceData: { state } },
    ],
  };
}

async function start() {
  const graph = new FakeGraph();
  let answerCreate: (resource: CallResource) => void = () => {};
  let createSent = false;
  graph.createCall = () => {
    createSent = true;
    return new Promise<CallResource>((resolve) => {
      answerCreate = resolve;
    });
  };
  const { service, media, metric } = await startHarness({}, { graph });
  return {
    service,
    graph,
    media,
    createSent: () => createSent,
    answerCreate: (resource: CallResource) => answerCreate(resource),
    post: (body: unknown) =>
      fetch(`${service.url}/api/calls`, {
        method: "POST",
        headers: { authorization: "Bearer ok", "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
    notifications: (labels: Record<string, string>) => metric("signaling_notifications_total", labels),
    held: (outcome: string) => metric("signaling_held_notifications_total", { outcome }),
  };
}

describe("notifications held for a call being placed", () => {
  it("are counted once: by their outcome when replayed, unknown_call when dropped", async () => {
    const h = await start();
    const placing = h.service.placeCall({ user: { userId: randomUUID(), tenantId: TENANT } });
    await until(h.createSent, 3000, "createCall sent");
    expect((await h.post(stateUpdate("placed-1", "establishing"))).status).toBe(202);
    expect((await h.post(stateUpdate("stranger", "establishing"))).status).toBe(202);
    // Held, not handled yet: nothing counted.
    expect(await h.notifications({ kind: "callState" })).toBe(0);
    h.answerCreate({ id: "placed-1" });
    const placed = await placing;
    expect(placed.callId).toBe("placed-1");
    // The 201 was the last createCall in flight: the stranger's is dropped.
    expect(await h.notifications({ kind: "callState" })).toBe(2);
    expect(await h.notifications({ kind: "callState", outcome: "unknown_call" })).toBe(1);
    expect(await h.notifications({ kind: "callState", outcome: "held" })).toBe(0);
  });

  it("of a call whose placing failed (its media session gone before the bind) are dropped, not replayed", async () => {
    const h = await start();
    const placing = h.service.placeCall({ user: { userId: randomUUID(), tenantId: TENANT } });
    await until(h.createSent, 3000, "createCall sent");
    const provisionalId = h.media.log.find((line) => line.startsWith("create "))?.slice("create ".length);
    expect(provisionalId).toBeDefined();
    expect((await h.post(stateUpdate("placed-2", "establishing"))).status).toBe(202);
    await h.media.closeSession(provisionalId as string);
    h.answerCreate({ id: "placed-2" });
    const failure = await placing.catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PlaceCallFailedError);
    expect(failure).toMatchObject({ stage: "bind_failed" });
    expect(h.graph.count("hangUp", "placed-2")).toBe(1);
    expect(await h.held("replayed")).toBe(0);
    expect(await h.held("dropped")).toBe(1);
    expect(await h.notifications({ kind: "callState", outcome: "unknown_call" })).toBe(1);
  });
});
