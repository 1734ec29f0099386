import { describe, expect, it } from "vitest";
import { LogRateLimiter } from "../../src/log/log-rate-limiter.js";

describe("LogRateLimiter", () => {
  it("lets the first line of a key through, holds back the rest of the interval, then reports how many", () => {
    let now = 0;
    const limiter = new LogRateLimiter(1000, () => now);
    expect(limiter.take("a")).toBe(0);
    expect(limiter.take("a")).toBeUndefined();
    expect(limiter.take("a")).toBeUndefined();
    expect(limiter.take("b")).toBe(0);
    now = 999;
    expect(limiter.take("a")).toBeUndefined();
    now = 1000;
    expect(limiter.take("a")).toBe(3);
    expect(limiter.take("a")).toBeUndefined();
  });

  it("remembers a bounded number of keys, forgetting the oldest", () => {
    const limiter = new LogRateLimiter(1000, () => 0, 2);
    limiter.take("a");
    limiter.take("b");
    limiter.take("c");
    expect(limiter.take("a")).toBe(0);
    expect(limiter.take("c")).toBeUndefined();
  });

  it("refuses an interval that is not a number >= 0", () => {
    expect(() => new LogRateLimiter(Number.NaN)).toThrow(/intervalMs/);
  });
});
