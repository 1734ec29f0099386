import http from "node:http";
import type { AddressInfo } from "node:net";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/log/logger.js";
import { createSignalingMetrics } from "../../src/metrics/signaling-metrics.js";
import type { BatchContext } from "../../src/signaling/call-manager.js";
import type { AuthResult } from "../../src/signaling/notification-auth.js";
import { createSignalingApp, NOTIFICATION_PATH } from "../../src/signaling/signaling-app.js";
import { FakeVerifier } from "./helpers/fakes.js";

/**
 * Checks the token after a timer, and queues a setImmediate callback just before letting the
 * request go on: by then the (small) body is already buffered, so the request is read, answered
 * and handed to its handler without the loop reaching its check phase again, unless the app
 * itself defers the handling to a setImmediate of its own (queued after this one).
 */
class VerifierQueuingAnImmediate extends FakeVerifier {
  immediateRan = false;
  override async verify(authorization: string | undefined): Promise<AuthResult> {
    await new Promise((resolve) => setTimeout(resolve, 20));
    setImmediate(() => {
      this.immediateRan = true;
    });
    return super.verify(authorization);
  }
}

let server: http.Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

describe("a notification's handling", () => {
  it("starts right after its 202 is written, not on a later turn of the event loop", async () => {
    const verifier = new VerifierQueuingAnImmediate();
    const handled: { immediateRanBefore: boolean; context: BatchContext }[] = [];
    const app = createSignalingApp({
      verifier,
      onNotifications: (_body, context) =>
        handled.push({ immediateRanBefore: verifier.immediateRan, context }),
      metrics: createSignalingMetrics(new Registry()),
      logger: silentLogger(),
      bodyLimitBytes: 64 * 1024,
    });
    server = http.createServer(app);
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const body = JSON.stringify({
      value: [
        { changeType: "updated", resourceUrl: "/communications/calls/c1", resourceData: { state: "x" } },
      ],
    });
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: "127.0.0.1",
          port,
          path: NOTIFICATION_PATH,
          method: "POST",
          headers: { authorization: "Bearer ok", "content-type": "application/json" },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
    expect(status).toBe(202);
    await new Promise((resolve) => setImmediate(resolve));
    expect(handled).toHaveLength(1);
    // Deferred to setImmediate, the handling ran after the callback queued before it.
    expect(handled[0]?.immediateRanBefore).toBe(false);
    // The stages the answer benchmark reads, in order.
    const stages = handled[0]?.context.stages;
    const receivedAt = handled[0]?.context.receivedAt ?? Number.NaN;
    expect(stages?.tokenCheckedAt).toBeGreaterThanOrEqual(receivedAt);
    expect(stages?.parsedAt).toBeGreaterThanOrEqual(stages?.tokenCheckedAt ?? Number.NaN);
    expect(stages?.respondedAt).toBeGreaterThanOrEqual(stages?.parsedAt ?? Number.NaN);
    expect(stages?.handledAt).toBeGreaterThanOrEqual(stages?.respondedAt ?? Number.NaN);
  });
});
