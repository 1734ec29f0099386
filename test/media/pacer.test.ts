import { describe, expect, it } from "vitest";
import { Pacer, type PacerClock } from "../../src/media/pacer.js";

/** A virtual clock: timers fire when the test advances time, late by whatever the test says. */
class VirtualClock implements PacerClock {
  time = 1000;
  timers: { at: number; callback: () => void }[] = [];
  now(): number {
    return this.time;
  }
  setTimer(callback: () => void, delayMs: number): unknown {
    const timer = { at: this.time + delayMs, callback };
    this.timers.push(timer);
    return timer;
  }
  clearTimer(handle: unknown): void {
    this.timers = this.timers.filter((timer) => timer !== handle);
  }
  /** Fires the next timer `lateMs` after it was due. */
  fireNext(lateMs = 0): void {
    this.timers.sort((a, b) => a.at - b.at);
    const timer = this.timers.shift();
    if (!timer) throw new Error("no timer pending");
    this.time = Math.max(this.time, timer.at + lateMs);
    timer.callback();
  }
}

describe("Pacer", () => {
  it("schedules every tick for start + n × 20 ms, so late timers do not accumulate drift", () => {
    const clock = new VirtualClock();
    const ticks: { tick: number; deadline: number; now: number }[] = [];
    const pacer = new Pacer({ clock, onTick: (tick, deadline, now) => ticks.push({ tick, deadline, now }) });
    pacer.start();
    // Every timer fires 3 ms late; setInterval-style scheduling would drift by 3 ms a tick.
    for (let i = 0; i < 50; i++) clock.fireNext(3);
    expect(ticks.map((t) => t.deadline)).toEqual(ticks.map((t) => 1000 + t.tick * 20));
    expect(ticks.at(-1)).toEqual({ tick: 50, deadline: 2000, now: 2003 });
    // The next timer aims at the absolute deadline, not now + 20.
    expect(clock.timers[0]?.at).toBe(2020);
  });

  it("catches up a short stall tick by tick and skips a long one instead of bursting", () => {
    const clock = new VirtualClock();
    const ticks: number[] = [];
    const skipped: number[] = [];
    const pacer = new Pacer({
      clock,
      maxCatchUpTicks: 2,
      onTick: (tick) => ticks.push(tick),
      onSkipped: (n) => skipped.push(n),
    });
    pacer.start();
    clock.fireNext(); // tick 1 at 1020
    clock.fireNext(45); // tick 2 due 1040, runs at 1085: ticks 3 and 4 are due too (2 behind)
    clock.fireNext();
    clock.fireNext();
    expect(ticks).toEqual([0, 1, 2, 3, 4]);
    expect(skipped).toEqual([]);
    clock.fireNext(200); // tick 5 due 1100, runs at 1300: 10 ticks behind
    expect(skipped).toEqual([10]);
    expect(ticks.at(-1)).toBe(15);
    clock.fireNext();
    expect(ticks.at(-1)).toBe(16);
    expect(clock.time).toBe(1320);
  });

  it("stops cleanly and keeps ticking when a tick throws", () => {
    const clock = new VirtualClock();
    let count = 0;
    const pacer = new Pacer({
      clock,
      onTick: () => {
        count++;
        if (count === 2) throw new Error("boom");
      },
    });
    pacer.start();
    expect(() => clock.fireNext()).toThrow("boom");
    clock.fireNext();
    expect(count).toBe(3);
    pacer.stop();
    expect(clock.timers).toHaveLength(0);
  });

  it("on the real clock, ticks land on their deadlines", async () => {
    const lateness: number[] = [];
    const pacer = new Pacer({ onTick: (_tick, deadline, now) => lateness.push(now - deadline) });
    pacer.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    pacer.stop();
    expect(lateness.length).toBeGreaterThanOrEqual(10);
    // Tolerant: a shared 2-core machine; what matters is no drift, so the median stays small.
    const sorted = [...lateness].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThan(10);
  });
});
