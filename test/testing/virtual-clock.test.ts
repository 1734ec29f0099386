import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../src/testing/index.js";

describe("VirtualClock", () => {
  it("runs timers in due order at their due time; advanceTo leaves those due at the target to runDue", () => {
    const clock = new VirtualClock();
    const ran: [string, number][] = [];
    clock.setTimer(() => ran.push(["b", clock.now()]), 30);
    clock.setTimer(() => ran.push(["a", clock.now()]), 10);
    clock.setTimer(() => ran.push(["c", clock.now()]), 40);
    const cleared = clock.setTimer(() => ran.push(["x", clock.now()]), 20);
    clock.clearTimer(cleared);
    clock.advanceTo(40);
    expect(ran).toEqual([
      ["a", 10],
      ["b", 30],
    ]);
    expect(clock.now()).toBe(40);
    clock.runDue();
    expect(ran.at(-1)).toEqual(["c", 40]);
    expect(clock.nextDueMs).toBeUndefined();
  });

  it("runs timers set while running when they fall due, same-time ones in the order set", () => {
    const clock = new VirtualClock();
    const ran: string[] = [];
    clock.setTimer(() => {
      ran.push("first");
      clock.setTimer(() => ran.push("zero delay"), 0);
      clock.setTimer(() => ran.push("later"), 100);
    }, 5);
    clock.setTimer(() => ran.push("same time"), 5);
    clock.advanceTo(50);
    expect(ran).toEqual(["first", "same time", "zero delay"]);
    expect(clock.nextDueMs).toBe(105);
    expect(() => clock.advanceTo(10)).toThrow(/cannot go back/);
  });
});
