import { describe, expect, it } from "vitest";
import { Pacer, type PacerClock, REAL_CLOCK_LEAD_MS } from "../../src/media/pacer.js";

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

/** The virtual clock plus a precise sleep that advances virtual time; records each sleep. */
class SleepingClock extends VirtualClock {
  sleeps: number[] = [];
  sleep(ms: number): void {
    this.sleeps.push(ms);
    this.time += ms;
  }
}

type TickRecord = { tick: number; deadline: number; now: number };

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
  // Without the lead (pre-1f81a7e) the timer is armed for the deadline itself, so the first
  // expectation on the pending timer fails; an injected clock must still default to no lead.
  it("arms the timer leadMs before the deadline only when asked or on the real clock", () => {
    const plain = new SleepingClock();
    new Pacer({ clock: plain, onTick: () => {} }).start();
    expect(plain.timers[0]?.at).toBe(1020); // injected clock: lead 0 by default
    const led = new SleepingClock();
    new Pacer({ clock: led, leadMs: REAL_CLOCK_LEAD_MS, onTick: () => {} }).start();
    expect(led.timers[0]?.at).toBe(1020 - REAL_CLOCK_LEAD_MS);
    // A clock that cannot sleep has no lead whatever leadMs says: timers alone.
    const noSleep = new VirtualClock();
    new Pacer({ clock: noSleep, leadMs: 1.5, onTick: () => {} }).start();
    expect(noSleep.timers[0]?.at).toBe(1020);
  });

  it("waitForDeadline false: a tick goes as soon as it is prepared, up to the lead early, and never blocks", () => {
    const clock = new SleepingClock();
    const ticks: TickRecord[] = [];
    const prepared: number[] = [];
    const pacer = new Pacer({
      clock,
      leadMs: 2.5,
      waitForDeadline: false,
      prepare: (tick) => prepared.push(tick),
      onTick: (tick, deadline, now) => ticks.push({ tick, deadline, now }),
    });
    pacer.start(); // tick 0 at 1000; timer for 1017.5
    for (let i = 0; i < 5; i++) clock.fireNext();
    expect(clock.sleeps).toEqual([]);
    expect(prepared).toEqual([0, 1, 2, 3, 4, 5]);
    // Each tick after the first ran at its timer, 2.5 ms before its deadline, in order.
    expect(ticks.slice(1)).toEqual(
      [1, 2, 3, 4, 5].map((tick) => ({ tick, deadline: 1000 + tick * 20, now: 997.5 + tick * 20 })),
    );
    expect(clock.timers.map((t) => t.at)).toEqual([1117.5]);
  });

  // Old code ran the tick whenever its timer fired: fireNext(-5.5) would run tick 2 at 1034.5
  // (now < deadline) and no sleep would ever be recorded, failing both kinds of expectation.
  it("with a lead, an early timer is slept out or re-armed and never runs a tick before its deadline", () => {
    const clock = new SleepingClock();
    const ticks: TickRecord[] = [];
    const pacer = new Pacer({
      clock,
      leadMs: 1.5,
      onTick: (tick, deadline, now) => ticks.push({ tick, deadline, now }),
    });
    pacer.start(); // tick 0 at 1000; timer for 1018.5
    clock.fireNext(); // the designed lead: sleeps 1.5 ms, tick 1 exactly on 1020
    expect(clock.sleeps).toEqual([1.5]);
    expect(ticks.at(-1)).toEqual({ tick: 1, deadline: 1020, now: 1020 });

    // Timer fires 5.5 ms before its 1038.5 (7 ms before the deadline, more than lead + 1):
    // no tick, no sleep, a new timer lead before the deadline.
    clock.fireNext(-5.5);
    expect(clock.time).toBe(1033);
    expect(ticks).toHaveLength(2);
    expect(clock.sleeps).toEqual([1.5]);
    expect(clock.timers.map((t) => t.at)).toEqual([1038.5]);
    // Re-armed timer fires 0.75 ms early (2.25 ms before the deadline, within lead + 1): slept.
    clock.fireNext(-0.75);
    expect(clock.sleeps).toEqual([1.5, 2.25]);
    expect(ticks.at(-1)).toEqual({ tick: 2, deadline: 1040, now: 1040 });
    // The bound: exactly lead + 1 ms early is slept, a hair more is re-armed.
    clock.fireNext(-1); // timer at 1058.5 fires 1057.5
    expect(clock.sleeps.at(-1)).toBe(2.5);
    expect(ticks.at(-1)).toEqual({ tick: 3, deadline: 1060, now: 1060 });
    clock.fireNext(-1.25); // 2.75 ms before 1080: re-armed
    expect(ticks).toHaveLength(4);
    expect(clock.sleeps).toHaveLength(3);
    clock.fireNext();
    expect(ticks.at(-1)).toEqual({ tick: 4, deadline: 1080, now: 1080 });

    // Many random early/late firings: no tick ever runs before its deadline, none is lost.
    let seed = 7;
    for (let i = 0; i < 200; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      clock.fireNext((seed / 2147483648) * 8 - 6); // -6 .. +2 ms around the armed time
    }
    for (const t of ticks) expect(t.now).toBeGreaterThanOrEqual(t.deadline);
    expect(ticks.map((t) => t.tick)).toEqual(ticks.map((_t, i) => i));
    expect(clock.sleeps.every((ms) => ms > 0 && ms <= 2.5)).toBe(true);
  });

  // Without the lead the late-fired timer still skips, but the re-armed timer would be at the
  // deadline (1320), not 1318.5; without the sleep the tick after it would run at 1318.5.
  it("with a lead, a long stall is still skipped and the grid resumes lead before each deadline", () => {
    const clock = new SleepingClock();
    const ticks: TickRecord[] = [];
    const skipped: number[] = [];
    const pacer = new Pacer({
      clock,
      leadMs: 1.5,
      onTick: (tick, deadline, now) => ticks.push({ tick, deadline, now }),
      onSkipped: (n) => skipped.push(n),
    });
    pacer.start();
    clock.fireNext(); // tick 1 at 1020
    clock.fireNext(201.5); // timer at 1038.5 fires at 1240: tick 2 due 1040, 10 behind
    expect(skipped).toEqual([10]);
    expect(ticks.at(-1)).toEqual({ tick: 12, deadline: 1240, now: 1240 });
    expect(clock.timers.map((t) => t.at)).toEqual([1258.5]);
    clock.fireNext();
    expect(ticks.at(-1)).toEqual({ tick: 13, deadline: 1260, now: 1260 });
    expect(skipped).toEqual([10]);
  });

  // Removing runIfDue makes every call here a TypeError; a version that ran the tick without
  // clearing the pending timer leaves two timers (the length-1 checks), and one that ignored
  // the deadline would run tick 1 early at 1019.75 (the first expectation).
  it("runIfDue runs exactly the due tick once and only prepares a not-yet-due tick", () => {
    const clock = new SleepingClock();
    const ticks: TickRecord[] = [];
    const prepared: TickRecord[] = [];
    const pacer = new Pacer({
      clock,
      leadMs: 1.5,
      prepare: (tick, deadline, now) => prepared.push({ tick, deadline, now }),
      onTick: (tick, deadline, now) => ticks.push({ tick, deadline, now }),
    });
    expect(pacer.runIfDue()).toBe(false); // not running
    pacer.start(); // tick 0
    const armed = clock.timers[0];
    clock.time = 1018; // before tick 1's lead: nothing at all
    expect(pacer.runIfDue()).toBe(false);
    expect(prepared).toHaveLength(1);
    clock.time = 1019.75; // inside the lead, still before tick 1's deadline
    expect(pacer.runIfDue()).toBe(false);
    expect(pacer.runIfDue()).toBe(false);
    expect(ticks).toHaveLength(1);
    expect(prepared).toEqual([
      { tick: 0, deadline: 1000, now: 1000 },
      { tick: 1, deadline: 1020, now: 1019.75 }, // once, however often it is asked
    ]);
    expect(clock.timers).toEqual([armed]); // pending timer untouched
    expect(clock.sleeps).toEqual([]); // runIfDue never blocks

    clock.time = 1020.5; // the timer is held up (long work on the thread): tick 1 is due
    expect(pacer.runIfDue()).toBe(true);
    expect(ticks.at(-1)).toEqual({ tick: 1, deadline: 1020, now: 1020.5 });
    expect(clock.timers).toHaveLength(1); // the stale timer replaced, not doubled
    expect(clock.timers[0]?.at).toBe(1038.5);
    expect(pacer.runIfDue()).toBe(false); // tick 2 is not due: no second run
    expect(ticks).toHaveLength(2);

    clock.fireNext(); // the timer now runs tick 2, not tick 1 again
    expect(ticks.map((t) => t.tick)).toEqual([0, 1, 2]);
    expect(prepared.map((t) => t.tick)).toEqual([0, 1, 2]);
    expect(ticks.at(-1)?.now).toBe(1040);
    pacer.stop();
    clock.time = 2000;
    expect(pacer.runIfDue()).toBe(false);
    expect(ticks).toHaveLength(3);
  });

  // Same: without runIfDue a TypeError; it must go through the stall logic, not run tick 2 late.
  it("runIfDue after a stall skips the missed ticks like the timer does", () => {
    const clock = new VirtualClock();
    const ticks: number[] = [];
    const skipped: number[] = [];
    const pacer = new Pacer({
      clock,
      onTick: (tick) => ticks.push(tick),
      onSkipped: (n) => skipped.push(n),
    });
    pacer.start();
    clock.fireNext(); // tick 1
    clock.time = 1230; // 230 ms of blocking work: tick 2 (1040) is 9 periods behind
    expect(pacer.runIfDue()).toBe(true);
    expect(skipped).toEqual([9]);
    expect(ticks).toEqual([0, 1, 11]);
    expect(clock.timers.map((t) => t.at)).toEqual([1240]);
    expect(pacer.runIfDue()).toBe(false);
  });

  // The real clock's default lead + Atomics.wait sleep. libuv timers count whole milliseconds
  // from a cached loop time, so a plain setTimeout wakes up to ~1 ms before its fractional
  // target as performance.now() sees it; the old code then ran the tick early (negative
  // lateness): measured here with a sleep-less real clock, 35 of 50 ticks ran early, by up to 1.37 ms. Now an early wake-up sleeps to the deadline.
  // Tolerance 5 µs: Atomics.wait's timeout is kept in whole microseconds and may end up to 1 µs
  // short — far below the ~1 ms early ticks this guards against. Lateness on a loaded machine
  // can be large, so only the lower bound is checked.
  it("on the real clock, no tick runs before its deadline", async () => {
    const lateness: number[] = [];
    await new Promise<void>((resolve) => {
      const pacer = new Pacer({
        onTick: (_tick, deadline, now) => {
          lateness.push(now - deadline);
          if (lateness.length === 50) {
            pacer.stop();
            resolve();
          }
        },
      });
      pacer.start();
    });
    expect(lateness).toHaveLength(50);
    expect(Math.min(...lateness)).toBeGreaterThanOrEqual(-0.005);
  }, 15_000);

  it("prepares each tick once, inside its lead, before sleeping out the rest to the deadline", () => {
    const clock = new SleepingClock();
    const events: string[] = [];
    const pacer = new Pacer({
      clock,
      leadMs: 1.5,
      prepare: (tick, deadline, now) => {
        events.push(`prepare ${tick} due ${deadline} at ${now}`);
        clock.time += 0.5; // rendering takes half a millisecond
      },
      onTick: (tick, deadline, now) => events.push(`tick ${tick} due ${deadline} at ${now}`),
    });
    pacer.start();
    expect(events).toEqual(["prepare 0 due 1000 at 1000", "tick 0 due 1000 at 1000.5"]);
    events.length = 0;
    clock.fireNext(); // on time: 1018.5, the lead before tick 1
    expect(events).toEqual(["prepare 1 due 1020 at 1018.5", "tick 1 due 1020 at 1020"]);
    expect(clock.sleeps.at(-1)).toBe(1); // 1.5 ms lead less 0.5 ms of rendering
    events.length = 0;
    clock.fireNext(5); // late past the deadline: prepared and run at once, no sleep
    expect(events).toEqual(["prepare 2 due 1040 at 1043.5", "tick 2 due 1040 at 1044"]);
    expect(clock.sleeps).toHaveLength(1);
    pacer.stop();
  });
});

/** The virtual clock with an I/O phase: afterIo callbacks wait until the test says input was handled. */
class IoClock extends VirtualClock {
  waiting: (() => void)[] = [];
  afterIo(callback: () => void): void {
    this.waiting.push(callback);
  }
  ioDone(): void {
    for (const callback of this.waiting.splice(0)) callback();
  }
}

describe("Pacer after a stall", () => {
  it("a tick more than half a period late waits for the input first; the ticks it catches up do not", () => {
    const clock = new IoClock();
    const ticks: number[] = [];
    const pacer = new Pacer({ clock, maxCatchUpTicks: 2, onTick: (tick) => ticks.push(tick) });
    pacer.start();
    clock.fireNext(9); // late, but not a stall: runs at once
    expect(ticks).toEqual([0, 1]);
    clock.fireNext(45); // tick 2, 45 ms late: waits
    expect(ticks).toEqual([0, 1]);
    expect(clock.waiting).toHaveLength(1);
    // A large batch being handled meanwhile does not run it either.
    expect(pacer.runIfDue()).toBe(false);
    clock.ioDone();
    expect(ticks).toEqual([0, 1, 2]);
    clock.fireNext(); // tick 3 catches up (due 25 ms ago): no second wait
    clock.fireNext(); // tick 4
    expect(ticks).toEqual([0, 1, 2, 3, 4]);
    expect(clock.waiting).toHaveLength(0);
    // The next stall waits again.
    clock.fireNext(30);
    expect(clock.waiting).toHaveLength(1);
    pacer.stop();
    clock.ioDone();
    expect(ticks).toEqual([0, 1, 2, 3, 4]);
  });

  it("a clock without afterIo runs a late tick at once", () => {
    const clock = new VirtualClock();
    const ticks: number[] = [];
    const pacer = new Pacer({ clock, onTick: (tick) => ticks.push(tick) });
    pacer.start();
    clock.fireNext(45);
    expect(ticks).toEqual([0, 1]);
    pacer.stop();
  });
});
