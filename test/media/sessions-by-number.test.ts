import { describe, expect, it } from "vitest";
import { SessionsByNumber } from "../../src/media/sessions-by-number.js";

describe("SessionsByNumber", () => {
  it("finds small and large session numbers, and forgets deleted and cleared ones", () => {
    const sessions = new SessionsByNumber<string>();
    sessions.set(1, "a");
    sessions.set(3, "c");
    sessions.set(65_535, "last dense");
    sessions.set(65_536, "first sparse");
    sessions.set(0xffff_ffff, "largest uint32");
    expect(sessions.get(1)).toBe("a");
    expect(sessions.get(2)).toBeUndefined();
    expect(sessions.get(3)).toBe("c");
    expect(sessions.get(65_535)).toBe("last dense");
    expect(sessions.get(65_536)).toBe("first sparse");
    expect(sessions.get(0xffff_ffff)).toBe("largest uint32");
    expect(sessions.get(1_000_000)).toBeUndefined();
    expect(sessions.get(-1)).toBeUndefined();

    sessions.delete(3);
    sessions.delete(65_536);
    sessions.delete(99); // never set: nothing happens
    expect(sessions.get(3)).toBeUndefined();
    expect(sessions.get(65_536)).toBeUndefined();
    expect(sessions.get(1)).toBe("a");

    sessions.set(3, "c again");
    expect(sessions.get(3)).toBe("c again");
    sessions.clear();
    expect(sessions.get(1)).toBeUndefined();
    expect(sessions.get(0xffff_ffff)).toBeUndefined();
    expect(sessions.get(65_535)).toBeUndefined();
  });

  it("a number from a hostile host does not grow the array", () => {
    const sessions = new SessionsByNumber<string>();
    sessions.set(2_000_000_000, "far");
    sessions.set(2, "near");
    expect(sessions.get(2_000_000_000)).toBe("far");
    // Only numbers below the dense limit take array slots: this one took three (0, 1, 2).
    expect((sessions as unknown as { dense: unknown[] }).dense.length).toBe(3);
  });
});
