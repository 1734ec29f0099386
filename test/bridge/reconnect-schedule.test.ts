import { describe, expect, it } from "vitest";
import {
  DEFAULT_RECONNECT_SCHEDULE,
  type ReconnectSchedule,
  reconnectDelayMs,
} from "../../src/bridge/reconnect-schedule.js";

const GRACE: ReconnectSchedule = { ...DEFAULT_RECONNECT_SCHEDULE, graceMs: 5000 };
const RANDOMS = [0, 0.25, 0.5, 0.75, 0.999];

/** Times (ms after the loss) of every dial within `untilMs`, each dial failing at once. */
function dials(schedule: ReconnectSchedule, random: () => number, untilMs: number): number[] {
  const times: number[] = [];
  let now = 0;
  for (let attempt = 1; now <= untilMs && attempt < 1000; attempt++) {
    now += reconnectDelayMs(schedule, attempt, now, random);
    times.push(now);
  }
  return times;
}

describe("reconnect schedule", () => {
  it("outside a grace: 250 ms doubling up to 5 s, ±50 % jitter", () => {
    const at = (attempt: number, random: number) =>
      reconnectDelayMs(DEFAULT_RECONNECT_SCHEDULE, attempt, undefined, () => random);
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => at(n, 0.5))).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
    expect(at(1, 0)).toBe(125);
    expect(at(3, 0.999)).toBe(1499);
    expect(at(40, 0.5)).toBe(5000);
  });

  it("inside the grace: every gap is at most 300 ms, whatever the jitter, and the last dial comes before the end", () => {
    for (const r of RANDOMS) {
      const times = dials(GRACE, () => r, GRACE.graceMs);
      const inGrace = times.filter((t) => t < GRACE.graceMs);
      let previous = 0;
      for (const t of inGrace) {
        expect(t - previous).toBeLessThanOrEqual(300);
        previous = t;
      }
      // A host back at any moment up to 5 s minus the last gap is reached before the grace ends.
      expect(inGrace.at(-1)).toBeGreaterThanOrEqual(GRACE.graceMs - 300);
      expect(inGrace.at(-1)).toBeLessThan(GRACE.graceMs);
      // No spin near the end: the dial after the grace's last one is plain backoff again.
      const after = times.find((t) => t >= GRACE.graceMs);
      expect(after).toBeDefined();
    }
  });

  it("a host back at 3.0-4.5 s (grace 5 s) is dialled within 300 ms, never after the grace", () => {
    for (const r of RANDOMS) {
      const times = dials(GRACE, () => r, GRACE.graceMs);
      for (let backAt = 3000; backAt <= 4500; backAt += 50) {
        const next = times.find((t) => t >= backAt) as number;
        expect(next - backAt).toBeLessThanOrEqual(300);
        expect(next).toBeLessThan(GRACE.graceMs);
      }
    }
  });

  it("the grace's own end margin is kept when the last gap would pass it", () => {
    // 4.9 s after the loss, 100 ms left: the next dial is at most 50 ms away (end margin 50 ms).
    expect(reconnectDelayMs(GRACE, 20, 4900, () => 0.999)).toBeLessThanOrEqual(50);
    // 30 ms left (within the margin): back to backoff, no burst of dials at the end.
    expect(reconnectDelayMs(GRACE, 20, 4970, () => 0.5)).toBe(5000);
    // Grace 0: plain backoff even right after the loss.
    expect(reconnectDelayMs({ ...GRACE, graceMs: 0 }, 5, 10, () => 0.5)).toBe(4000);
  });
});
