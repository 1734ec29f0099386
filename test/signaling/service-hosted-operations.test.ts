/**
 * PendingOperations: Graph's operation notification may arrive before the POST's response that
 * names the operation; it must settle the operation, not be lost. Ids no POST claims are reported.
 */
import { describe, expect, it } from "vitest";
import type { CommsOperation } from "../../src/graph/types.js";
import { type OperationNotice, PendingOperations } from "../../src/signaling/service-hosted-operations.js";

/** A POST whose response the test releases. */
function heldPost(): { post: () => Promise<CommsOperation>; respond: (operation: CommsOperation) => void } {
  let respond: (operation: CommsOperation) => void = () => undefined;
  const response = new Promise<CommsOperation>((resolve) => {
    respond = resolve;
  });
  return { post: () => response, respond };
}

describe("PendingOperations", () => {
  it("a notification that arrives before the POST's response settles the operation when the response names it", async () => {
    const unknown: OperationNotice[] = [];
    const operations = new PendingOperations((notice) => unknown.push(notice));
    const { post, respond } = heldPost();
    const result = operations.run(post);
    expect(
      operations.notify({ operationId: "op-1", status: "completed", resultInfo: { code: 200, subcode: 0 } }),
    ).toBe("held");
    respond({ id: "op-1", status: "Running" });
    expect(await result).toEqual({ status: "completed", resultInfo: { code: 200, subcode: 0 } });
    expect(unknown).toEqual([]);
  });

  it("a held notification no POST claims is reported unknown once no POST is in flight", async () => {
    const unknown: string[] = [];
    const operations = new PendingOperations((notice) => unknown.push(notice.operationId));
    const { post, respond } = heldPost();
    const result = operations.run(post);
    expect(operations.notify({ operationId: "stray", status: "failed" })).toBe("held");
    respond({ id: "op-2", status: "Running" });
    await Promise.resolve();
    await Promise.resolve();
    expect(unknown).toEqual(["stray"]);
    expect(
      operations.notify({ operationId: "op-2", status: "failed", resultInfo: { code: 400, subcode: 8508 } }),
    ).toBe("matched");
    expect(await result).toEqual({ status: "cancelled", resultInfo: { code: 400, subcode: 8508 } });
    expect(operations.notify({ operationId: "other", status: "completed" })).toBe("unknown_operation");
  });

  it("running notifications are not final; a final status in the response settles at once; the end settles the rest", async () => {
    const operations = new PendingOperations(() => undefined);
    expect(await operations.run(async () => ({ id: "t", status: "Completed" }))).toEqual({
      status: "completed",
    });
    const pending = operations.run(async () => ({ id: "p", status: "Running" }));
    await Promise.resolve();
    expect(operations.notify({ operationId: "p", status: "running" })).toBe("not_final");
    operations.end();
    expect(await pending).toEqual({ status: "failed", callEnded: true });
    expect(await operations.run(async () => ({ id: "late", status: "Running" }))).toEqual({
      status: "failed",
      callEnded: true,
    });
  });

  it("a failed POST resolves failed with its error (never rejects)", async () => {
    const operations = new PendingOperations(() => undefined);
    expect(await operations.run(() => Promise.reject(new Error("HTTP 503")))).toEqual({
      status: "failed",
      error: "HTTP 503",
    });
  });
});
