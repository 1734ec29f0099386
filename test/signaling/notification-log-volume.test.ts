import { describe, expect, it } from "vitest";
import { summarizeSkipped } from "../../src/signaling/skipped-notification-log.js";
import { until } from "./helpers/fakes.js";
import { TENANT } from "./helpers/key-server.js";
import { serviceHarnessPerTest } from "./helpers/service-harness.js";

const start = serviceHarnessPerTest();

const NOTIFICATIONS = "signaling_notifications_total";

/** 20,000 items in about 160 KB, none usable: the outside fuzzing run's notification. */
const badBatch = () => JSON.stringify({ value: Array.from({ length: 20_000 }, (_, i) => ({ x: i % 10 })) });

describe("logging of notification batches with many unusable items", () => {
  it("counts all 20,000 bad items of one notification but logs the batch in one line", async () => {
    const h = await start({ notificationBodyLimitBytes: 256 * 1024 });
    const body = badBatch();
    expect(body.length).toBeGreaterThan(150_000);
    expect((await h.postNotification(body)).status).toBe(202);
    await h.waitForMetric(NOTIFICATIONS, { kind: "invalid" }, 20_000, 5000);
    const lines = h.log.warnings();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      skipped: 20_000,
      byOutcome: { invalid: 20_000, unknown: 0 },
      byReason: { "no resourceUrl/resource naming a call": 20_000 },
      examples: [{ index: 0 }, { index: 1 }, { index: 2 }],
      batchesNotLoggedBefore: 0,
    });
    // Before: 20,000 lines, about 3 MB.
    expect(h.log.bytes).toBeLessThan(4096);
  });

  it("logs eight such notifications at once in one line and still counts every item", async () => {
    const h = await start({ notificationBodyLimitBytes: 256 * 1024 });
    const body = badBatch();
    const responses = await Promise.all(Array.from({ length: 8 }, () => h.postNotification(body)));
    expect(responses.map((response) => response.status)).toEqual(Array(8).fill(202));
    await h.waitForMetric(NOTIFICATIONS, { kind: "invalid" }, 160_000, 10_000);
    expect(h.log.warnings()).toHaveLength(1);
    expect(h.log.bytes).toBeLessThan(4096);
  });

  it("bounds the reasons and examples a line quotes, whatever the items say", async () => {
    const h = await start({ notificationBodyLimitBytes: 1024 * 1024 });
    // Well-formed items naming 5,000 different unhandled sub-resources of one call.
    const value = Array.from({ length: 5000 }, (_, i) => ({
      changeType: "updated",
      resourceUrl: `/communications/calls/c1/thing${i}${"z".repeat(i % 150)}`,
      resourceData: {},
    }));
    expect((await h.postNotification(JSON.stringify({ value }))).status).toBe(202);
    await h.waitForMetric(NOTIFICATIONS, { kind: "unknown" }, 5000, 5000);
    const lines = h.log.warnings();
    expect(lines).toHaveLength(1);
    const line = lines[0] as { byReason: Record<string, number> };
    expect(Object.keys(line.byReason)).toHaveLength(9);
    expect(line.byReason.other).toBe(5000 - 8);
    expect(line).toMatchObject({ callId: "c1", byOutcome: { unknown: 5000 } });
    expect(h.log.bytes).toBeLessThan(4096);
  });

  it("logs thousands of unknown states for a live call in one line, counting each", async () => {
    const h = await start({ notificationBodyLimitBytes: 1024 * 1024 });
    const incoming = {
      value: [
        {
          changeType: "created",
          resourceUrl: "/communications/calls/live-1",
          resourceData: {
            state: "incoming",
            direction: "incoming",
            tenantId: TENANT,
            requestedModalities: ["audio"],
          },
        },
      ],
    };
    await h.postNotification(JSON.stringify(incoming));
    await until(() => h.graph.count("answer", "live-1") === 1, 3000, "answer");
    const value = Array.from({ length: 5000 }, (_, i) => ({
      changeType: "updated",
      resourceUrl: "/communications/calls/live-1",
      resourceData: { state: `weird${i}` },
    }));
    expect((await h.postNotification(JSON.stringify({ value }))).status).toBe(202);
    await h.waitForMetric(NOTIFICATIONS, { kind: "callState", outcome: "unknown_state" }, 5000);
    const lines = h.log.warnings();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ callId: "live-1", msg: "unknown call state ignored" });
  });
});

describe("summarizeSkipped", () => {
  it("counts by outcome and reason, keeps the first three items and the call they all name", () => {
    const summary = summarizeSkipped([
      { index: 0, outcome: "invalid", reason: "a", callId: "c" },
      { index: 1, outcome: "unknown", reason: "b", callId: "c" },
      { index: 2, outcome: "invalid", reason: "a", callId: "c" },
      { index: 3, outcome: "invalid", reason: "x".repeat(500), callId: "c" },
    ]);
    expect(summary).toMatchObject({
      skipped: 4,
      byOutcome: { invalid: 3, unknown: 1 },
      byReason: { a: 2, b: 1 },
      callId: "c",
    });
    expect(summary.examples.map((item) => item.index)).toEqual([0, 1, 2]);
    expect(Object.keys(summary.byReason).every((reason) => reason.length <= 123)).toBe(true);
    expect(
      summarizeSkipped([
        { index: 0, outcome: "invalid", reason: "a", callId: "c" },
        { index: 1, outcome: "invalid", reason: "a" },
      ]).callId,
    ).toBeUndefined();
  });
});
