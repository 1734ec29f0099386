import { describe, expect, it } from "vitest";
import { silentLogger } from "../../src/log/logger.js";
import { BridgeMediaSessionProvider } from "../../src/media/bridge-media-session-provider.js";

const settings = {
  bridge: { url: "ws://127.0.0.1:9/bridge", secret: "0123456789abcdef-secret", reconnectGraceMs: 200 },
  media: { fqdn: "media.example.com", publicPort: 8445, unmixedAudio: false, recordingsDir: "/tmp" },
};

describe("BridgeMediaSessionProvider worker lifecycle", () => {
  it("runs the worker thread from TypeScript sources, reports a missing host, exposes metrics, closes", async () => {
    const provider = await BridgeMediaSessionProvider.start({
      ...settings,
      logger: silentLogger(),
      workerLogLevel: "silent",
    });
    try {
      expect(provider.unavailableReason()).toBe("disconnected");
      const text = await provider.metrics();
      expect(text).toContain("# TYPE media_frames_received_total counter");
      expect(text).toContain("# TYPE media_render_lateness_seconds histogram");
      expect(text).toContain("# TYPE media_worker_event_loop_utilization gauge");
      expect(text).toContain("media_render_lateness_seconds_max ");
      await expect(
        provider.createSession({ callId: "c1", direction: "sendRecv", unmixedAudio: false }),
      ).rejects.toThrow(/not connected/);
    } finally {
      await provider.close();
    }
  });

  it("fails to start with a clear message when a handler module cannot be loaded", async () => {
    await expect(
      BridgeMediaSessionProvider.start({
        ...settings,
        logger: silentLogger(),
        workerLogLevel: "silent",
        handlers: [{ module: "/nonexistent/handler.js" }],
      }),
    ).rejects.toThrow(/cannot load handler module \/nonexistent\/handler.js/);
  });
});
