/**
 * A handler's call control (MediaCall.mute/unmute/transfer/invite) on the test kit's real
 * media engine: each request goes out as a worker event with a request id, signaling's answer
 * settles the handler's promise; a refusal rejects with Graph's status and code, and the end
 * of the call rejects what is still waiting.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { MediaCall } from "../../src/index.js";
import { CallControlRefusedError } from "../../src/index.js";
import { startTestCall, type TestCall } from "../../src/testing/index.js";

let call: TestCall | undefined;
afterEach(async () => {
  await call?.close();
  call = undefined;
});

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";

describe("call control from a handler", () => {
  it("sends each request to signaling and resolves when signaling accepted it", async () => {
    let media: MediaCall | undefined;
    call = await startTestCall((m) => {
      media = m;
      return {};
    });
    const settled: string[] = [];
    const track = (name: string, promise: Promise<void> | undefined) =>
      promise?.then(
        () => settled.push(`${name} ok`),
        (error: Error) => settled.push(`${name} ${error.message}`),
      );
    await Promise.all([
      track("mute", media?.mute()),
      track("unmute", media?.unmute()),
      track("transfer", media?.transfer({ userId: "u-1", tenantId: TENANT, displayName: "Tess" })),
      track("invite", media?.invite([{ userId: "u-2" }, { identity: { phone: { id: "+15550100" } } }])),
    ]);
    expect(settled).toEqual(["mute ok", "unmute ok", "transfer ok", "invite ok"]);
    expect(call.callControlRequests.map(({ atMs: _, ...request }) => request)).toEqual([
      { action: "mute" },
      { action: "unmute" },
      {
        action: "transfer",
        transferTarget: {
          "@odata.type": "#microsoft.graph.invitationParticipantInfo",
          identity: { user: { id: "u-1", tenantId: TENANT, displayName: "Tess" } },
        },
      },
      {
        action: "invite",
        participants: [
          { "@odata.type": "#microsoft.graph.invitationParticipantInfo", identity: { user: { id: "u-2" } } },
          { identity: { phone: { id: "+15550100" } } },
        ],
      },
    ]);
  });

  it("rejects with CallControlRefusedError carrying Graph's status and code when refused", async () => {
    let media: MediaCall | undefined;
    call = await startTestCall(
      (m) => {
        media = m;
        return {};
      },
      { callControl: "refuse" },
    );
    const error = await media?.mute().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CallControlRefusedError);
    expect(error).toMatchObject({ reason: "refused", status: 403, graphCode: "Forbidden" });
    expect((error as Error).message).toMatch(/^mute: /);
  });

  it("rejects a request still waiting when the call ends, and any request after the end", async () => {
    let media: MediaCall | undefined;
    call = await startTestCall(
      (m) => {
        media = m;
        return {};
      },
      { callControl: "noAnswer" },
    );
    const waiting = media?.invite({ userId: "u-3" }).catch((e: unknown) => e);
    await call.advance(100);
    await call.hangUpAsCaller();
    expect(await waiting).toMatchObject({ name: "CallControlRefusedError", reason: "call_ended" });
    expect(await media?.unmute().catch((e: unknown) => e)).toMatchObject({ reason: "call_ended" });
  });
});
