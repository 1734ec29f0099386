/**
 * A handler's MediaCall.hangUp through the real media worker against the media platform
 * emulator (loopback): the provider emits hangUpRequested once per call, for open sessions only.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sleep, waitFor } from "./wait-for.js";
import { startWorkerWithEmulator, type WorkerWithEmulator } from "./worker-with-emulator.js";

const SECRET = "hang-up-secret-0123456789";
const FRAMES_BEFORE_HANG_UP = 5;

describe("MediaCall.hangUp (media worker, emulator, loopback)", () => {
  let world: WorkerWithEmulator;
  let emulator: WorkerWithEmulator["emulator"];
  let provider: WorkerWithEmulator["provider"];
  let events: WorkerWithEmulator["events"];
  const hangUps = (callId: string) =>
    events.filter((event) => event.kind === "hangUpRequested" && event.callId === callId);

  beforeAll(async () => {
    world = await startWorkerWithEmulator(
      "hang-up-handler.ts",
      () => ({ frames: FRAMES_BEFORE_HANG_UP }),
      SECRET,
    );
    ({ emulator, provider, events } = world);
  });
  afterAll(async () => {
    await world?.stop();
  });

  it("a handler hanging up after N received frames raises hangUpRequested once, with its reason", async () => {
    const callId = "frames-1";
    const session = await provider.createSession({ callId, direction: "sendRecv", unmixedAudio: false });
    await sleep(100);
    expect(hangUps(callId)).toEqual([]); // no audio yet, no hang up
    expect(await emulator.connectMedia(session.mediaSessionId, 2000)).toBe(true);
    const event = await waitFor(() => hangUps(callId)[0]);
    expect(event).toEqual({ kind: "hangUpRequested", callId, reason: "done" });
    // The media goes on until signaling ends the call; the handler's second request is dropped.
    await sleep(200);
    expect(hangUps(callId)).toHaveLength(1);
    expect(emulator.session(callId)).toBeDefined();
    await provider.closeSession(callId, "hung up");
  });

  it("a handler hanging up on a DTMF tone raises hangUpRequested; nothing after the session closed", async () => {
    const callId = "tone-1";
    const session = await provider.createSession({ callId, direction: "sendRecv", unmixedAudio: false });
    await emulator.connectMedia(session.mediaSessionId, 2000);
    await waitFor(() => events.find((e) => e.kind === "mediaConnected" && e.callId === callId));
    expect(hangUps(callId)).toEqual([]);
    emulator.sendTone(callId, "pound");
    expect(await waitFor(() => hangUps(callId)[0])).toEqual({
      kind: "hangUpRequested",
      callId,
      reason: "done",
    });
    await provider.closeSession(callId, "hung up");

    // A fresh call whose session is closed before its tone: the handler is gone, no event.
    const late = "tone-2";
    const lateSession = await provider.createSession({
      callId: late,
      direction: "sendRecv",
      unmixedAudio: false,
    });
    await emulator.connectMedia(lateSession.mediaSessionId, 2000);
    await provider.closeSession(late, "caller left");
    provider.toneReceived(late, "pound");
    await sleep(150);
    expect(hangUps(late)).toEqual([]);
    expect(hangUps(callId)).toHaveLength(1);
  });
});
