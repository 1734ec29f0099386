import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { type ServiceHarness, serviceHarnessPerTest } from "./helpers/service-harness.js";

const start = serviceHarnessPerTest();

const REFUSED = "signaling_notification_requests_refused_total";
const batch = JSON.stringify({
  value: [{ changeType: "updated", resourceUrl: "/communications/calls/c1", resourceData: { state: "x" } }],
});

/** A refused request: its status, error body, one warn line without a stack, and the metric. */
async function expectRefused(
  h: ServiceHarness,
  response: { status: number; body: string },
  status: number,
  code: string,
  message: RegExp,
): Promise<void> {
  expect({ status: response.status, body: JSON.parse(response.body) }).toMatchObject({
    status,
    body: { error: { code, message: expect.stringMatching(message) } },
  });
  expect(await h.metric(REFUSED, { reason: code })).toBe(1);
  const warnings = h.log.warnings();
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatchObject({ level: 40, status, reason: code });
  expect(JSON.stringify(warnings[0])).not.toMatch(/stack| {4}at /);
}

describe("notification requests with a Content-Encoding", () => {
  it("accepts a body that is valid gzip, deflate or br", async () => {
    const h = await start();
    for (const [encoding, body] of [
      ["gzip", gzipSync(batch)],
      ["deflate", deflateSync(batch)],
      ["br", brotliCompressSync(batch)],
      ["GZip", gzipSync(batch)],
    ] as const) {
      const response = await h.postNotification(body, { "content-encoding": encoding });
      expect({ encoding, status: response.status }).toEqual({ encoding, status: 202 });
    }
    expect(await h.metric(REFUSED)).toBe(0);
  });

  for (const [encoding, corrupt] of [
    ["gzip", Buffer.from(batch)],
    ["gzip", gzipSync(batch).subarray(0, 12)],
    ["deflate", Buffer.from(batch)],
    ["br", Buffer.from(batch)],
  ] as const) {
    it(`answers 400 bad_content_encoding for a body that is not valid ${encoding} (${corrupt.length} bytes)`, async () => {
      const h = await start();
      const response = await h.postNotification(corrupt, { "content-encoding": encoding });
      await expectRefused(
        h,
        response,
        400,
        "bad_content_encoding",
        new RegExp(`^body is not valid ${encoding}: \\S`),
      );
      expect(h.graph.requests).toEqual([]);
    });
  }

  for (const encoding of ["compress", "identity, gzip", "gzip, gzip", "x-gzip", "zstd"]) {
    it(`answers 415 unsupported_content_encoding with Accept-Encoding for "${encoding}"`, async () => {
      const h = await start();
      const response = await h.postNotification(gzipSync(batch), { "content-encoding": encoding });
      await expectRefused(
        h,
        response,
        415,
        "unsupported_content_encoding",
        /^Content-Encoding ".+" is not supported/,
      );
      expect(response.headers["accept-encoding"]).toBe("gzip, deflate, br");
    });
  }

  it("answers 415 unsupported_charset for a charset it cannot decode", async () => {
    const h = await start();
    const response = await h.postNotification(batch, { "content-type": "application/json; charset=klingon" });
    await expectRefused(h, response, 415, "unsupported_charset", /charset "klingon"/);
  });

  it("answers 413 for a compressed body over the limit once decompressed (a zip bomb)", async () => {
    const h = await start({ notificationBodyLimitBytes: 4096 });
    // 16 MB of spaces around a valid batch compresses to about 16 KB.
    const bomb = gzipSync(Buffer.concat([Buffer.from(batch), Buffer.alloc(16 * 1024 * 1024, " ")]));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const response = await h.postNotification(bomb, { "content-encoding": "gzip" });
    await expectRefused(h, response, 413, "body_too_large", /exceeds 4096 bytes/);
  });

  it("counts every refused body, logs a flood of them in one line, and keeps serving", async () => {
    const h = await start();
    for (let i = 0; i < 20; i++) {
      const encoding = i % 2 === 0 ? "gzip" : "br";
      expect(
        (await h.postNotification(Buffer.from("garbage"), { "content-encoding": encoding })).status,
      ).toBe(400);
    }
    expect((await h.postNotification(gzipSync(batch), { "content-encoding": "gzip" })).status).toBe(202);
    expect(await h.metric(REFUSED, { reason: "bad_content_encoding" })).toBe(20);
    expect(h.log.warnings().filter((line) => line.reason === "bad_content_encoding")).toHaveLength(1);
  });
});
