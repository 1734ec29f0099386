/** Medians across repeated runs: plain for continuous figures, upper-middle for bucket bounds. */
import { describe, expect, it } from "vitest";
import { medianOf, upperMedianBoundOf } from "../../benchmarks/lib/median.js";

describe("upperMedianBoundOf", () => {
  it("counts a run beyond the last bucket (null, Infinity) as above every bound", () => {
    expect(upperMedianBoundOf([null, 0.25, 0.5])).toBe(0.5);
    expect(upperMedianBoundOf([Number.POSITIVE_INFINITY, 0.25, 0.5])).toBe(0.5);
    expect(upperMedianBoundOf([null, null, 0.5])).toBe(Number.POSITIVE_INFINITY);
  });

  it("takes the upper of the two middle runs, always one of the bounds", () => {
    expect(upperMedianBoundOf([1, 3])).toBe(3);
    expect(upperMedianBoundOf([2, 1])).toBe(2);
    expect(upperMedianBoundOf([5, 0.75, 1, 1.5])).toBe(1.5);
    expect(upperMedianBoundOf([])).toBe(null);
  });

  it("leaves continuous figures to the plain median", () => {
    expect(medianOf([1, 3])).toBe(2);
    expect(medianOf([null, 1, 2, 3])).toBe(2);
  });
});
