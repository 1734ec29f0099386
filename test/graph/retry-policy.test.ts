import { describe, expect, it } from "vitest";
import type { GraphClientSettings } from "../../src/config/config.js";
import { HttpTimeoutError } from "../../src/graph/https-request.js";
import { attemptTimeoutMs, type RequestBudget, requestBudget } from "../../src/graph/request-budget.js";
import {
  backoffDelayMs,
  decideRetry,
  isOutcomeUnknown,
  parseRetryAfter,
  type RetryInput,
  reasonForStatus,
  reasonForTransportError,
} from "../../src/graph/retry-policy.js";

const NOW = Date.parse("2025-03-01T12:00:00Z");

describe("parseRetryAfter", () => {
  it("reads delay-seconds", () => {
    expect(parseRetryAfter("0", NOW)).toBe(0);
    expect(parseRetryAfter("3", NOW)).toBe(3000);
    expect(parseRetryAfter(" 120 ", NOW)).toBe(120_000);
    expect(parseRetryAfter(["2", "9"], NOW)).toBe(2000);
  });

  it("reads the three HTTP date forms relative to now", () => {
    expect(parseRetryAfter("Sat, 01 Mar 2025 12:00:05 GMT", NOW)).toBe(5000);
    expect(parseRetryAfter("Saturday, 01-Mar-25 12:00:07 GMT", NOW)).toBe(7000);
    expect(parseRetryAfter("Sat Mar  1 12:00:09 2025", NOW)).toBe(9000);
  });

  it("treats a date in the past as no wait", () => {
    expect(parseRetryAfter("Sat, 01 Mar 2025 11:59:00 GMT", NOW)).toBe(0);
  });

  it.each([undefined, "", "  ", "-1", "1.5", "soon", "5s", "2025-03-01T12:00:05Z", "Sat, 99 Foo 2025 GMT"])(
    "ignores %j",
    (value) => {
      expect(parseRetryAfter(value, NOW)).toBeUndefined();
    },
  );
});

describe("backoffDelayMs (full jitter)", () => {
  const settings = { baseDelayMs: 100, maxDelayMs: 1000 };

  it("stays within [0, min(max, base * 2^(n-1)))", () => {
    expect(backoffDelayMs(1, settings, () => 0)).toBe(0);
    expect(backoffDelayMs(1, settings, () => 0.999)).toBe(99);
    expect(backoffDelayMs(2, settings, () => 0.999)).toBe(199);
    expect(backoffDelayMs(3, settings, () => 0.5)).toBe(200);
    expect(backoffDelayMs(5, settings, () => 0.999)).toBe(999);
    expect(backoffDelayMs(60, settings, () => 0.999)).toBe(999);
  });

  it("spreads delays over the whole window with a real random source", () => {
    const samples = Array.from({ length: 2000 }, () => backoffDelayMs(4, settings));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...samples)).toBeLessThan(800);
    expect(Math.min(...samples)).toBeLessThan(100);
    expect(Math.max(...samples)).toBeGreaterThan(700);
  });
});

describe("retry reasons", () => {
  it("maps statuses", () => {
    expect(reasonForStatus(429)).toBe("throttled");
    expect(reasonForStatus(503)).toBe("unavailable");
    expect(reasonForStatus(504)).toBe("gateway_timeout");
    expect(reasonForStatus(500)).toBe("server_error");
    expect(reasonForStatus(502)).toBe("bad_gateway");
    for (const status of [400, 401, 403, 404, 409, 501, 505]) expect(reasonForStatus(status)).toBeUndefined();
  });

  it("maps transport errors", () => {
    const coded = (code: string) => Object.assign(new Error(code), { code });
    expect(reasonForTransportError(new HttpTimeoutError("https://x", 5))).toBe("timeout");
    expect(reasonForTransportError(coded("ECONNREFUSED"))).toBe("connection_refused");
    expect(reasonForTransportError(coded("ENOTFOUND"))).toBe("connection_refused");
    expect(reasonForTransportError(coded("ECONNRESET"))).toBe("connection_reset");
    expect(reasonForTransportError(new Error("socket hang up"))).toBe("connection_reset");
    expect(reasonForTransportError(coded("DEPTH_ZERO_SELF_SIGNED_CERT"))).toBeUndefined();
    expect(
      reasonForTransportError(Object.assign(new Error("aborted"), { name: "AbortError" })),
    ).toBeUndefined();
    expect(reasonForTransportError("not an error")).toBeUndefined();
  });

  it("knows which failures may have reached Graph", () => {
    expect(isOutcomeUnknown("throttled")).toBe(false);
    expect(isOutcomeUnknown("unavailable")).toBe(false);
    expect(isOutcomeUnknown("connection_refused")).toBe(false);
    // Graph's own 500 says it failed; a gateway's 502 or 504 cannot say what Graph did.
    expect(isOutcomeUnknown("server_error")).toBe(false);
    expect(isOutcomeUnknown("bad_gateway")).toBe(true);
    expect(isOutcomeUnknown("gateway_timeout")).toBe(true);
    expect(isOutcomeUnknown("timeout")).toBe(true);
    expect(isOutcomeUnknown("connection_reset")).toBe(true);
  });
});

describe("decideRetry", () => {
  const base: RetryInput = {
    reason: "throttled",
    attemptsMade: 1,
    maxAttempts: 4,
    remainingMs: 11_900,
    minAttemptMs: 5000,
    idempotent: true,
    backoff: { baseDelayMs: 200, maxDelayMs: 4000 },
    random: () => 0.5,
  };

  it("uses Retry-After when given, backoff otherwise", () => {
    expect(decideRetry({ ...base, retryAfterMs: 3000 })).toEqual({ retry: true, delayMs: 3000 });
    expect(decideRetry({ ...base, retryAfterMs: 0 })).toEqual({ retry: true, delayMs: 0 });
    expect(decideRetry(base)).toEqual({ retry: true, delayMs: 100 });
    expect(decideRetry({ ...base, attemptsMade: 3 })).toEqual({ retry: true, delayMs: 400 });
  });

  it("bounds the number of attempts", () => {
    expect(decideRetry({ ...base, attemptsMade: 4 })).toEqual({ retry: false, why: "attempts" });
    expect(decideRetry({ ...base, maxAttempts: 1 })).toEqual({ retry: false, why: "attempts" });
  });

  it("never starts an attempt that cannot have its least time before the deadline", () => {
    // 6900 wait + 5000 least attempt = 11900 left: just fits.
    expect(decideRetry({ ...base, retryAfterMs: 6900 })).toEqual({ retry: true, delayMs: 6900 });
    expect(decideRetry({ ...base, retryAfterMs: 6901 })).toEqual({ retry: false, why: "deadline" });
    expect(decideRetry({ ...base, remainingMs: 5000 })).toEqual({ retry: false, why: "deadline" });
  });

  it("retries non-idempotent requests only when Graph certainly did not act", () => {
    for (const reason of ["throttled", "unavailable", "connection_refused", "stale_connection"] as const) {
      expect(decideRetry({ ...base, reason, idempotent: false }).retry).toBe(true);
    }
    // A 500 is not repeated either where a repeat could double an effect (createCall).
    for (const reason of [
      "server_error",
      "bad_gateway",
      "gateway_timeout",
      "timeout",
      "connection_reset",
    ] as const) {
      expect(decideRetry({ ...base, reason, idempotent: false })).toEqual({ retry: false, why: "unsafe" });
      expect(decideRetry({ ...base, reason, idempotent: true }).retry).toBe(true);
    }
  });
});

/**
 * A request retried on a fake clock: every attempt fails `failMs` after it starts with
 * Retry-After `retryAfterMs`; returns the attempts' start times and their timeouts.
 */
function attemptsOnFakeClock(
  budget: RequestBudget,
  settings: GraphClientSettings,
  retryAfterMs: number,
  failMs = 20,
): { startsMs: number[]; timeoutsMs: number[]; why: string } {
  let now = 0;
  const startsMs: number[] = [];
  const timeoutsMs: number[] = [];
  for (;;) {
    const timeout = attemptTimeoutMs(budget, settings, now);
    if (timeout === 0) return { startsMs, timeoutsMs, why: "no time" };
    startsMs.push(now);
    timeoutsMs.push(timeout);
    now += failMs;
    const decision = decideRetry({
      reason: "unavailable",
      attemptsMade: startsMs.length,
      maxAttempts: budget.maxAttempts,
      remainingMs: budget.deadlineAt - now,
      minAttemptMs: budget.minAttemptMs,
      retryAfterMs,
      idempotent: false,
    });
    if (!decision.retry) return { startsMs, timeoutsMs, why: decision.why };
    now += decision.delayMs;
  }
}

describe("request budget (fake clock)", () => {
  const settings: GraphClientSettings = { requestTimeoutMs: 5000, maxAttempts: 4, overallDeadlineMs: 12_000 };

  it("an answer with Graph's deadline keeps trying on 503 + Retry-After: 3 while an attempt fits", () => {
    // Graph's 15 s less the call manager's 1 s margin.
    const run = attemptsOnFakeClock(requestBudget(settings, 0, 14_000), settings, 3000);
    expect(run.startsMs).toEqual([0, 3020, 6040, 9060, 12_080]);
    // The last attempt's timeout is cut at the deadline rather than kept at 5 s.
    expect(run.timeoutsMs).toEqual([5000, 5000, 5000, 4940, 1920]);
    expect(run.why).toBe("deadline");
  });

  it("follows a shorter deadline (a configurable window) the same way", () => {
    const run = attemptsOnFakeClock(requestBudget(settings, 0, 4500), settings, 1000);
    expect(run.startsMs).toEqual([0, 1020, 2040, 3060]);
    expect(run.why).toBe("deadline");
  });

  it("without a caller deadline, the settings bound the request as before", () => {
    // 5 s per attempt must fit in 12 s: attempts at 0, 3 and 6 s only.
    const run = attemptsOnFakeClock(requestBudget(settings, 0), settings, 3000);
    expect(run.startsMs).toEqual([0, 3020, 6040]);
    expect(run.why).toBe("deadline");
    const quick = attemptsOnFakeClock(requestBudget(settings, 0), settings, 0);
    expect(quick.startsMs).toHaveLength(4);
    expect(quick.why).toBe("attempts");
  });

  it("sends nothing once the deadline has passed", () => {
    const budget = requestBudget(settings, 0, 1000);
    expect(attemptTimeoutMs(budget, settings, 999)).toBe(1);
    expect(attemptTimeoutMs(budget, settings, 999.5)).toBe(0);
    expect(attemptTimeoutMs(budget, settings, 2000)).toBe(0);
  });
});
