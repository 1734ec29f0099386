import { describe, expect, it } from "vitest";
import { GraphError, parseGraphErrorBody } from "../../src/graph/graph-error.js";

describe("parseGraphErrorBody", () => {
  it("reads code, message and innerError ids", () => {
    const body = Buffer.from(
      JSON.stringify({
        error: {
          code: "8537",
          message: "Call not found",
          innerError: { "request-id": "r-1", "client-request-id": "c-1", date: "2025-03-01T12:00:00" },
        },
      }),
    );
    expect(parseGraphErrorBody(body, { "request-id": "r-header" })).toEqual({
      code: "8537",
      message: "Call not found",
      requestId: "r-1",
      clientRequestId: "c-1",
      date: "2025-03-01T12:00:00",
    });
  });

  it("falls back to headers for a body that is not Graph's shape", () => {
    expect(
      parseGraphErrorBody(Buffer.from("<html>bad gateway</html>"), {
        "request-id": "r-2",
        "client-request-id": "c-2",
      }),
    ).toEqual({
      code: undefined,
      message: undefined,
      requestId: "r-2",
      clientRequestId: "c-2",
      date: undefined,
    });
  });

  it("accepts lower-case innererror and numeric codes, bounds long messages", () => {
    const body = Buffer.from(
      JSON.stringify({ error: { code: 404, message: "m".repeat(5000), innererror: { requestId: "r-3" } } }),
    );
    const parsed = parseGraphErrorBody(body, {});
    expect(parsed.code).toBe("404");
    expect(parsed.requestId).toBe("r-3");
    expect(parsed.message).toHaveLength(1000);
  });
});

describe("GraphError", () => {
  it("carries the request identity and a readable message", () => {
    const error = new GraphError({
      action: "answer",
      status: 429,
      code: "TooManyRequests",
      message: "slow down",
      clientRequestId: "c",
      requestId: "r",
      attempts: 3,
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe("Graph answer failed with HTTP 429 (TooManyRequests): slow down");
    expect(error.toLog()).toMatchObject({ status: 429, requestId: "r", clientRequestId: "c", attempts: 3 });
    expect(error.outcomeUnknown).toBe(false);
  });
});
