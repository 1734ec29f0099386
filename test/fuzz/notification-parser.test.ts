/**
 * Fuzzing the Graph notification parser with arbitrary JSON and mutated realistic bodies:
 * a bad envelope is a NotificationEnvelopeError, every item gives events or a precise skip
 * reason, and nothing else is thrown (not even inside, where a throw would be caught and
 * reported as "parser error").
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  NotificationEnvelopeError,
  notificationItems,
  parseNotificationBatch,
} from "../../src/signaling/notification-parser.js";
import { fuzz, timeoutFor } from "./fuzz-runner.js";
import { realisticBodies } from "./graph-notifications.js";
import { mutatedJson } from "./json-mutations.js";

const SAFE_ID = /^[A-Za-z0-9._:@=+-]{1,256}$/;
const BASES = [...realisticBodies("call-1"), ...realisticBodies("2a1b-55ff:x@y")];

/** JSON values shaped a little like notifications, so parsing gets past the first checks. */
const notificationLike = fc.record(
  {
    changeType: fc.oneof(fc.constantFrom("created", "updated", "deleted", "Deleted"), fc.jsonValue()),
    resourceUrl: fc.oneof(
      fc.constantFrom("/communications/calls/c1", "/app/calls/c1/participants", "/calls/c1/operations/o1"),
      fc.string().map((s) => `/communications/calls/${s}`),
      fc.jsonValue(),
    ),
    resource: fc.jsonValue(),
    resourceData: fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.array(fc.jsonValue({ maxDepth: 2 }))),
  },
  { requiredKeys: [] },
);

const anyBody = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.array(notificationLike, { maxLength: 4 }).map((value) => ({ value })),
  notificationLike,
  mutatedJson(BASES),
);

function checkParsed(body: unknown): void {
  let items: unknown[];
  try {
    items = notificationItems(body);
  } catch (error) {
    expect(error).toBeInstanceOf(NotificationEnvelopeError);
    expect(() => parseNotificationBatch(body)).toThrow(NotificationEnvelopeError);
    expect((error as Error).message).toMatch(/body|value/);
    return;
  }
  const batch = parseNotificationBatch(body);
  for (const skipped of batch.skipped) {
    // "parser error: ..." means something threw inside: a defect, not a precise reason.
    expect(skipped.reason).not.toMatch(/^parser error/);
    expect(skipped.reason.length).toBeGreaterThan(5);
    expect(skipped.index).toBeGreaterThanOrEqual(0);
    expect(skipped.index).toBeLessThan(items.length);
    if (skipped.callId !== undefined) expect(skipped.callId).toMatch(SAFE_ID);
  }
  expect(new Set(batch.skipped.map((s) => s.index)).size).toBe(batch.skipped.length);
  for (const event of batch.events) {
    expect(event.callId).toMatch(SAFE_ID);
    if (event.kind === "operationCompleted") expect(event.operationId).not.toBe("");
    if (event.kind === "roster") for (const p of event.participants) expect(p.id).not.toBe("");
  }
}

describe("fuzz: Graph notification parser", () => {
  it(
    "arbitrary and mutated bodies: events or precise skips, an envelope error, nothing else",
    () => {
      fuzz("notification parser", 2000, anyBody, checkParsed);
    },
    timeoutFor(2000, 20_000),
  );

  it("the realistic bodies parse to events without skips", () => {
    for (const body of BASES) {
      const batch = parseNotificationBatch(body);
      expect(batch.skipped, JSON.stringify(body)).toEqual([]);
      expect(batch.events.length).toBeGreaterThan(0);
    }
  });
});
