/**
 * The media worker thread's own V8 heap on its metrics path (media_worker_heap_used_bytes,
 * media_worker_heap_total_bytes): the main thread's nodejs_heap_size_* never showed it, and a
 * soak needs it to tell a worker leak from a signaling one.
 */
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../src/log/logger.js";
import { BridgeMediaSessionProvider } from "../../src/media/bridge-media-session-provider.js";
import { parseExposition } from "../../src/metrics/prometheus-text.js";

describe("media worker heap gauges", () => {
  it("report the worker thread's own heap, not the main thread's", async () => {
    const provider = await BridgeMediaSessionProvider.start({
      bridge: { url: "ws://127.0.0.1:9/bridge", secret: "0123456789abcdef-secret", reconnectGraceMs: 200 },
      media: { fqdn: "media.example.com", publicPort: 8445, unmixedAudio: false, recordingsDir: "/tmp" },
      logger: silentLogger(),
      workerLogLevel: "silent",
    });
    // 128 MB of doubles held on the main thread's heap only.
    const held = new Array<number>(16 * 1024 * 1024).fill(0.5);
    try {
      const text = await provider.metrics();
      expect(text).toContain("# TYPE media_worker_heap_used_bytes gauge");
      expect(text).toContain("# TYPE media_worker_heap_total_bytes gauge");
      const scrape = parseExposition(text);
      const used = scrape.get("media_worker_heap_used_bytes") as number;
      const total = scrape.get("media_worker_heap_total_bytes") as number;
      // A live isolate's heap: megabytes, and no more in use than allocated.
      expect(used).toBeGreaterThan(1024 * 1024);
      expect(total).toBeGreaterThanOrEqual(used);
      // Read on the worker: the main thread's 128 MB are not in it.
      const mainUsed = process.memoryUsage().heapUsed;
      expect(mainUsed).toBeGreaterThan(128 * 1024 * 1024);
      expect(used).toBeLessThan(mainUsed - 100 * 1024 * 1024);
    } finally {
      held.length = 0;
      await provider.close();
    }
  });
});
