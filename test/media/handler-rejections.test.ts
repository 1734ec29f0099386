/**
 * Handlers' rejected promises through the real media worker against the media platform
 * emulator (loopback): a rejection nobody handles (a dropped play() promise) or an async
 * callback that rejects is counted and logged; the worker and every call on it go on.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sleep, waitFor } from "./wait-for.js";
import { startWorkerWithEmulator, type WorkerWithEmulator } from "./worker-with-emulator.js";

const SECRET = "rejections-secret-0123456789";

describe("handlers' rejected promises (media worker, emulator, loopback)", () => {
  let world: WorkerWithEmulator;
  let emulator: WorkerWithEmulator["emulator"];
  let provider: WorkerWithEmulator["provider"];
  let events: WorkerWithEmulator["events"];

  beforeAll(async () => {
    world = await startWorkerWithEmulator(
      "rejecting-handler.ts",
      (dir) => ({ missingWav: join(dir, "missing.wav") }),
      SECRET,
    );
    ({ emulator, provider, events } = world);
  });
  afterAll(async () => {
    await world?.stop();
  });

  it("neither kills the worker nor any call on it; both are counted", async () => {
    const calls = ["bystander-1", "rejecter-1"];
    for (const callId of calls) {
      const session = await provider.createSession({ callId, direction: "sendRecv", unmixedAudio: false });
      expect(await emulator.connectMedia(session.mediaSessionId, 2000)).toBe(true);
    }
    await sleep(200);
    const echoes = () => emulator.sessions().find((s) => s.callId === "bystander-1")?.echo.count ?? 0;
    emulator.sendTone("rejecter-1", "1"); // void call.play(missing file)
    emulator.sendTone("rejecter-1", "2"); // async onTone rejects
    emulator.sendTone("rejecter-1", "4"); // a timer of the handler's own throws
    await sleep(300);
    const before = echoes();
    emulator.sendTone("rejecter-1", "3");
    expect(
      await waitFor(() => events.find((e) => e.kind === "hangUpRequested" && e.callId === "rejecter-1")),
    ).toMatchObject({ reason: "still here" });
    await sleep(200);
    expect(echoes()).toBeGreaterThan(before + 5);
    expect(events.filter((e) => e.kind === "sessionLost")).toEqual([]);
    const metrics = await provider.metrics();
    expect(metrics).toMatch(/^media_worker_unhandled_rejections_total 1$/m);
    expect(metrics).toMatch(/^media_worker_uncaught_exceptions_total 1$/m);
    expect(metrics).toMatch(/^media_handler_errors_total\{callback="onTone"\} 1$/m);
    for (const callId of calls) await provider.closeSession(callId, "done");
  });
});
