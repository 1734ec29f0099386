/**
 * A placed call's media session in the worker's engine: created under a provisional id (sent as
 * CreateSession.call_id and media_session_id) with no handlers, bound to Graph's call id by
 * bindCallId, which re-keys it and only then creates its handlers.
 */
import { describe, expect, it } from "vitest";
import type { CreateSessionRequest } from "../../src/bridge/bridge-client-types.js";
import type { CallEvent, MediaCall } from "../../src/media/bot-api.js";
import { startEngine } from "./engine-fixture.js";
import { FakeBridge } from "./fake-bridge.js";

class RecordingBridge extends FakeBridge {
  readonly requests: CreateSessionRequest[] = [];
  override createSession(request: CreateSessionRequest) {
    this.requests.push(request);
    return super.createSession(request);
  }
}

const PROVISIONAL = "6b1a4f0e-3c2d-4e5f-9a8b-7c6d5e4f3a2b";

function setup() {
  const created: string[] = [];
  const events: string[] = [];
  const bridge = new RecordingBridge();
  const { engine } = startEngine({
    bridge,
    handlers: [
      {
        name: "probe",
        options: undefined,
        factory: (call: MediaCall) => {
          created.push(call.callId);
          return {
            onCallEvent: (event: CallEvent) => events.push(`${call.callId} ${event.type}`),
            onEnd: (reason: string) => {
              events.push(`${call.callId} end ${reason}`);
            },
          };
        },
      },
    ],
  });
  return { engine, bridge, created, events };
}

describe("a placed call's media session", () => {
  it("is created under the provisional id with no handlers, then bound: handlers see Graph's id", async () => {
    const { engine, bridge, created, events } = setup();
    const info = await engine.createSession({
      callId: PROVISIONAL,
      direction: "sendRecv",
      unmixedAudio: false,
      placed: true,
    });
    expect(bridge.requests[0]).toMatchObject({ callId: PROVISIONAL, mediaSessionId: PROVISIONAL });
    expect(info.mediaSessionId).toBe(PROVISIONAL);
    expect(created).toEqual([]);
    await engine.bindCallId(PROVISIONAL, "graph-call-1");
    expect(created).toEqual(["graph-call-1"]);
    engine.callEvent("graph-call-1", { type: "established" });
    engine.callEvent(PROVISIONAL, { type: "lobby" });
    expect(await engine.closeSession(PROVISIONAL, "gone")).toBe(false);
    expect(await engine.closeSession("graph-call-1", "hungUp")).toBe(true);
    expect(events).toEqual(["graph-call-1 established", "graph-call-1 end hungUp"]);
  });

  it("refuses to bind an unknown or already bound session, or an id another session has", async () => {
    const { engine } = setup();
    await expect(engine.bindCallId(PROVISIONAL, "graph-call-1")).rejects.toThrow(/no media session waits/);
    await engine.createSession({ callId: "answered", direction: "sendRecv", unmixedAudio: false });
    await expect(engine.bindCallId("answered", "graph-call-2")).rejects.toThrow(/no media session waits/);
    await engine.createSession({
      callId: PROVISIONAL,
      direction: "sendRecv",
      unmixedAudio: false,
      placed: true,
    });
    await expect(engine.bindCallId(PROVISIONAL, "answered")).rejects.toThrow(/already has a media session/);
    await engine.bindCallId(PROVISIONAL, "graph-call-3");
    await expect(engine.bindCallId(PROVISIONAL, "graph-call-3")).rejects.toThrow(/no media session waits/);
    await engine.shutdown();
  });
});
