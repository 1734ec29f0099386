/**
 * A createSession the signaling side gave up on (a slow handler factory) must not leave the
 * session in the worker and on the host: the real worker against the media platform emulator.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "./wait-for.js";
import { startWorkerWithEmulator, type WorkerWithEmulator } from "./worker-with-emulator.js";

const SECRET = "create-timeout-secret-0123456789";

describe("createSession that times out (media worker, emulator, loopback)", () => {
  let world: WorkerWithEmulator;
  beforeAll(async () => {
    // The provider waits requestTimeoutMs + 1 s = 1.5 s; the factory takes 2.5 s.
    world = await startWorkerWithEmulator("slow-factory-handler.ts", () => ({ delayMs: 2500 }), SECRET, 500);
  });
  afterAll(async () => {
    await world?.stop();
  });

  it("leaves no session in the worker or on the host once the factory finishes", async () => {
    const { provider, emulator } = world;
    await expect(
      provider.createSession({ callId: "slow-1", direction: "sendRecv", unmixedAudio: false }),
    ).rejects.toThrow(/got no answer/);
    const active = async () =>
      Number(/^media_active_sessions (\d+)$/m.exec(await provider.metrics())?.[1] ?? Number.NaN);
    await waitFor(async () => (await active()) === 0 && emulator.stats().sessions === 0, 6000);
    expect(await active()).toBe(0);
    expect(emulator.stats().sessions).toBe(0);
  });
});
