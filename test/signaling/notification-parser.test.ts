import { describe, expect, it } from "vitest";
import {
  NotificationEnvelopeError,
  notificationItems,
  odataType,
  parseNotificationBatch,
} from "../../src/signaling/notification-parser.js";

const CALL = "84dbfc70-81cb-4a35-9e53-c5b48b82c447";

function batch(...value: unknown[]): unknown {
  return { "@odata.type": "#microsoft.graph.commsNotifications", value };
}

function callNotification(changeType: string, resourceData: unknown, url = `/communications/calls/${CALL}`) {
  return { "@odata.type": "#microsoft.graph.commsNotification", changeType, resourceUrl: url, resourceData };
}

describe("notification parser", () => {
  it("parses the documented incoming call (seed page)", () => {
    const parsed = parseNotificationBatch(
      batch(
        callNotification("created", {
          "@odata.type": "#microsoft.graph.call",
          state: "incoming",
          direction: "incoming",
          tenantId: " 11111111-2222-3333-4444-555555555555 ",
          source: { identity: { user: { displayName: "John", id: "112f7296 " } } },
          targets: [{ identity: { application: { id: "app" } } }],
          requestedModalities: ["audio", "Video"],
          myParticipantId: "p1",
          callChainId: "chain",
        }),
      ),
    );
    expect(parsed.skipped).toEqual([]);
    expect(parsed.events).toHaveLength(1);
    const event = parsed.events[0];
    expect(event?.kind).toBe("incomingCall");
    if (event?.kind !== "incomingCall") throw new Error("unreachable");
    expect(event.callId).toBe(CALL);
    expect(event.tenantId).toBe("11111111-2222-3333-4444-555555555555");
    expect(event.requestedModalities).toEqual(["audio", "video"]);
    expect(event.callChainId).toBe("chain");
    expect(event.myParticipantId).toBe("p1");
    expect(event.isMeeting).toBe(false);
    expect(event.targets).toHaveLength(1);
  });

  it("flags meeting invites (chatInfo/meetingInfo)", () => {
    const parsed = parseNotificationBatch(
      batch(callNotification("created", { state: "incoming", chatInfo: { threadId: "t" }, meetingInfo: {} })),
    );
    expect(parsed.events[0]).toMatchObject({ kind: "incomingCall", isMeeting: true });
  });

  it("reads call states in any case and keeps unknown ones as unknown", () => {
    const parsed = parseNotificationBatch(
      batch(
        callNotification("updated", { state: "establishing" }),
        callNotification("Updated", { state: "Established" }),
        callNotification("updated", { state: "HOLD" }),
        callNotification("updated", { state: "TransferAccepted" }),
        callNotification("updated", { state: "unknownFutureValue" }),
        callNotification("updated", { state: "ringing" }),
      ),
    );
    expect(parsed.skipped).toEqual([]);
    expect(parsed.events.map((event) => (event.kind === "callState" ? event.state : event.kind))).toEqual([
      "establishing",
      "established",
      "hold",
      "transferAccepted",
      "unknown",
      "ringing",
    ]);
    expect(parsed.events[4]).toMatchObject({ rawState: "unknownFutureValue" });
  });

  it("reads call end with numeric, string and subCode result info, and without state", () => {
    const parsed = parseNotificationBatch(
      batch(
        callNotification("deleted", {
          state: "terminated",
          resultInfo: { code: 200, subcode: 5001, message: "bye" },
        }),
        callNotification("Deleted", { state: "Terminated", resultInfo: { code: "408", subCode: "8537" } }),
        callNotification("deleted", { "@odata.type": "#microsoft.graph.call" }),
        { changeType: "deleted", resourceUrl: `/communications/calls/${CALL}` },
        callNotification("updated", { state: "terminated", terminationReason: "AppHangUp" }),
      ),
    );
    expect(parsed.skipped).toEqual([]);
    expect(parsed.events).toEqual(
      [
        { kind: "callEnded", callId: CALL, resultInfo: { code: 200, subcode: 5001, message: "bye" } },
        { kind: "callEnded", callId: CALL, resultInfo: { code: 408, subcode: 8537 } },
        { kind: "callEnded", callId: CALL },
        { kind: "callEnded", callId: CALL },
        { kind: "callEnded", callId: CALL, terminationReason: "AppHangUp" },
      ].map((event) => ({ resultInfo: undefined, terminationReason: undefined, ...event })),
    );
  });

  it("reads DTMF tones (with the call state alongside)", () => {
    const parsed = parseNotificationBatch(
      batch(
        callNotification("updated", { state: "established", toneInfo: { sequenceId: "3", tone: "Tone5" } }),
      ),
    );
    expect(parsed.events).toEqual([
      { kind: "tone", callId: CALL, tone: "tone5", sequenceId: 3 },
      { kind: "callState", callId: CALL, state: "established", rawState: "established" },
    ]);
  });

  it("reads rosters from an array or a single object, trimming ids and source ids", () => {
    const url = `/communications/calls/${CALL}/participants`;
    const parsed = parseNotificationBatch(
      batch(
        callNotification(
          "updated",
          [
            {
              "@odata.type": "#microsoft.graph.participant",
              id: " p1 ",
              isMuted: false,
              mediaStreams: [
                { mediaType: "Audio", sourceId: 12, direction: "SendReceive", serverMuted: false },
              ],
            },
            { id: "p2", info: { identity: { user: { id: "u2" } } } },
            "garbage",
          ],
          url,
        ),
        callNotification("updated", { id: "p3" }, url),
      ),
    );
    expect(parsed.skipped).toEqual([]);
    const [first, second] = parsed.events;
    expect(first?.kind).toBe("roster");
    if (first?.kind !== "roster" || second?.kind !== "roster") throw new Error("unreachable");
    expect(first.participants.map((p) => p.id)).toEqual(["p1", "p2"]);
    expect(first.participants[0]?.mediaStreams?.[0]).toMatchObject({ mediaType: "audio", sourceId: "12" });
    expect(second.participants.map((p) => p.id)).toEqual(["p3"]);
  });

  it("reads completed operations", () => {
    const parsed = parseNotificationBatch(
      batch(
        callNotification(
          "deleted",
          {
            "@odata.type": "microsoft.graph.updateRecordingStatusOperation",
            status: "Completed",
            clientContext: "ctx",
            resultInfo: { code: 200, subcode: 0 },
          },
          `/communications/calls/${CALL}/operations/op-1`,
        ),
      ),
    );
    expect(parsed.events).toEqual([
      {
        kind: "operationCompleted",
        callId: CALL,
        operationId: "op-1",
        status: "completed",
        operationType: "updateRecordingStatusOperation",
        clientContext: "ctx",
        resultInfo: { code: 200, subcode: 0 },
      },
    ]);
  });

  it("accepts legacy resource paths, stray whitespace and resourceData arrays for calls", () => {
    const parsed = parseNotificationBatch(
      batch(
        { changeType: "updated", resource: ` /app/calls/${CALL} `, resourceData: [{ state: "established" }] },
        {
          changeType: "updated",
          resourceUrl: `/communications/calls/%20${CALL}%20/`,
          resourceData: { state: "hold" },
        },
        {
          changeType: "updated",
          resourceData: { "@odata.id": `/communications/calls/${CALL}`, state: "hold" },
        },
      ),
    );
    expect(parsed.skipped).toEqual([]);
    expect(parsed.events.map((event) => event.callId)).toEqual([CALL, CALL, CALL]);
  });

  it("keeps the good items of a batch when others are bad, and says why", () => {
    const parsed = parseNotificationBatch(
      batch(
        null,
        42,
        { changeType: "updated", resourceUrl: "/subscriptions/abc" },
        callNotification("updated", { state: "established" }),
        callNotification("updated", { foo: 1 }),
        callNotification("updated", { id: "x" }, `/communications/calls/${CALL}/audioRoutingGroups/x`),
        callNotification("updated", ["junk"], `/communications/calls/${CALL}/participants`),
        callNotification("created", undefined),
        {
          changeType: "updated",
          resourceUrl: "/communications/calls/..%2F..%2Fadmin",
          resourceData: { state: "hold" },
        },
      ),
    );
    expect(parsed.events).toEqual([
      { kind: "callState", callId: CALL, state: "established", rawState: "established" },
    ]);
    expect(parsed.skipped.map((s) => [s.index, s.outcome])).toEqual([
      [0, "invalid"],
      [1, "invalid"],
      [2, "invalid"],
      [4, "unknown"],
      [5, "unknown"],
      [6, "invalid"],
      [7, "invalid"],
      [8, "invalid"],
    ]);
  });

  it("checks the envelope", () => {
    expect(() => notificationItems("x")).toThrow(NotificationEnvelopeError);
    expect(() => notificationItems([])).toThrow(NotificationEnvelopeError);
    expect(() => notificationItems({ value: {} })).toThrow(NotificationEnvelopeError);
    expect(() => notificationItems({ hello: 1 })).toThrow(NotificationEnvelopeError);
    expect(notificationItems({ value: [] })).toEqual([]);
    // A bare notification without the commsNotifications wrapper.
    expect(notificationItems({ changeType: "updated", resourceUrl: "/communications/calls/x" })).toHaveLength(
      1,
    );
  });

  it("normalizes @odata.type with or without #", () => {
    expect(odataType("#microsoft.graph.call")).toBe("call");
    expect(odataType("microsoft.graph.call")).toBe("call");
    expect(odataType(" #Microsoft.Graph.participant ")).toBe("participant");
    expect(odataType(5)).toBeUndefined();
  });
});
