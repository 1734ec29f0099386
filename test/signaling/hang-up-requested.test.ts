/**
 * A media handler's hang up (MediaSessionProvider event hangUpRequested) through the signaling
 * service with the fake Graph and media provider: hung up through Graph like an API hang up.
 */
import { describe, expect, it } from "vitest";
import { GraphStatusError, until } from "./helpers/fakes.js";
import { TENANT } from "./helpers/key-server.js";
import { serviceHarnessPerTest } from "./helpers/service-harness.js";

const startHarness = serviceHarnessPerTest();

async function start(options: { endConfirmTimeoutMs?: number } = {}) {
  const harness = await startHarness({}, { service: options });
  const { service } = harness;
  return {
    ...harness,
    post: (body: unknown) =>
      fetch(`${service.url}/api/calls`, {
        method: "POST",
        headers: { authorization: "Bearer ok", "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
    graphRequests: (outcome: string) =>
      harness.metric("signaling_graph_requests_total", { action: "hangUp", outcome }),
    state: (callId: string) => service.calls().find((call) => call.callId === callId)?.state,
  };
}

function notify(callId: string, changeType: string, resourceData: unknown): unknown {
  return {
    "@odata.type": "#microsoft.graph.commsNotifications",
    value: [{ changeType, resourceUrl: `/communications/calls/${callId}`, resourceData }],
  };
}

const incoming = (callId: string) =>
  notify(callId, "created", {
    "@odata.type": "#microsoft.graph.call",
    state: "incoming",
    direction: "incoming",
    tenantId: TENANT,
    requestedModalities: ["audio"],
    source: { identity: { user: { id: "u1" } } },
  });
const ended = (callId: string) =>
  notify(callId, "deleted", { state: "terminated", resultInfo: { code: 200, subcode: 7000 } });

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

describe("signaling: hang up requested by a media handler", () => {
  it("hangs the call up through Graph once, however often it is asked, and the call ends", async () => {
    const h = await start();
    h.graph.hangUpImpl = async (callId) => {
      // Graph confirms the hang up with its deleted notification, a little later.
      setTimeout(() => void h.post(ended(callId)), 20);
    };
    await h.post(incoming("h1"));
    await h.post(notify("h1", "updated", { state: "established" }));
    await until(() => h.state("h1") === "established", 3000, "established");

    h.media.emit({ kind: "hangUpRequested", callId: "h1", reason: "done" });
    h.media.emit({ kind: "hangUpRequested", callId: "h1", reason: "done" });
    await until(() => h.state("h1") === "terminated", 3000, "call ended");
    await until(() => h.media.log.includes("close h1"), 3000, "media session closed");
    expect(h.graph.count("hangUp", "h1")).toBe(1);
    expect(h.service.calls()[0]?.end?.meaning?.endedBy).toBe("bot");
    expect(await h.graphRequests("ok")).toBe(1);

    // An ended call is not hung up again.
    h.media.emit({ kind: "hangUpRequested", callId: "h1", reason: "late" });
    await settle();
    expect(h.graph.count("hangUp")).toBe(1);
  });

  it("ignores a request for a call it does not know", async () => {
    const h = await start();
    await h.post(incoming("h2"));
    await until(() => h.graph.count("answer") === 1);
    h.media.emit({ kind: "hangUpRequested", callId: "never-seen", reason: "done" });
    await settle();
    expect(h.graph.count("hangUp")).toBe(0);
    expect(h.state("h2")).toBe("answering");
  });

  it("ends the call locally and closes its media when Graph no longer knows it", async () => {
    const h = await start();
    h.graph.hangUpImpl = async () => {
      throw new GraphStatusError(404);
    };
    await h.post(incoming("h3"));
    await until(() => h.graph.count("answer") === 1);
    h.media.emit({ kind: "hangUpRequested", callId: "h3", reason: "done" });
    await until(() => h.state("h3") === "terminated", 3000, "call ended locally");
    await until(() => h.media.log.includes("close h3"), 3000, "media session closed");
    expect(h.graph.count("hangUp", "h3")).toBe(1);
    expect(await h.graphRequests("error")).toBe(1);
  });
});
