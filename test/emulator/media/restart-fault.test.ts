/** The restart fault through the media emulator's control surface (docs/media-emulator.md). */
import { afterEach, describe, expect, it } from "vitest";
import { MediaPlatformEmulator } from "../../../src/emulator/media/media-platform-emulator.js";

const SECRET = "restart-fault-secret-0123456789";
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("media emulator restart fault (control surface)", () => {
  it("takes {kind: restart, keepSessions, downMs?} and refuses a body without a boolean keepSessions", async () => {
    const emulator = await MediaPlatformEmulator.start({ secret: SECRET });
    cleanups.push(() => emulator.stop());
    const post = (body: unknown) =>
      fetch(`${emulator.controlUrl}/control/faults`, {
        method: "POST",
        headers: { authorization: `Bearer ${SECRET}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await post({ kind: "restart", keepSessions: false, downMs: 50 })).status).toBe(200);
    expect((await post({ kind: "restart", keepSessions: true })).status).toBe(200);
    const missing = await post({ kind: "restart" });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ error: "missing keepSessions" });
    const notBoolean = await post({ kind: "restart", keepSessions: "no" });
    expect(await notBoolean.json()).toEqual({ error: 'keepSessions must be true or false, got "no"' });
    const badDown = await post({ kind: "restart", keepSessions: true, downMs: -1 });
    expect(await badDown.json()).toEqual({ error: "restart's downMs must be in [0, 600000]" });
    expect(emulator.stats()).toMatchObject({ restarts: 2, sessionsEndedByRestart: 0 });
  });
});
