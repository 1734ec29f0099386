import { describe, expect, it } from "vitest";
import {
  deltaOf,
  histogramWindow,
  labelDeltas,
  maxUpperBoundMs,
  parseExposition,
  quantileUpperBoundMs,
} from "../../src/metrics/prometheus-text.js";

const scrape = (buckets: number[], dropped: number) =>
  parseExposition(
    [
      "# HELP t_seconds transit",
      "# TYPE t_seconds histogram",
      `t_seconds_bucket{le="0.001"} ${buckets[0]}`,
      `t_seconds_bucket{le="0.005"} ${buckets[1]}`,
      `t_seconds_bucket{le="0.01"} ${buckets[2]}`,
      `t_seconds_bucket{le="+Inf"} ${buckets[3]}`,
      `t_seconds_count ${buckets[3]}`,
      `drops_total{reason="late"} ${dropped}`,
      'drops_total{reason="bad_size"} 0',
      "frames_total 100",
      "",
    ].join("\n"),
  );

describe("Prometheus text windows", () => {
  it("takes percentiles of what happened between two scrapes, as bucket upper bounds", () => {
    const before = scrape([50, 50, 50, 50], 1);
    // Between the scrapes: 90 observations <= 1 ms, 9 in (1, 5], 1 in (10, +Inf).
    const after = scrape([140, 149, 149, 150], 4);
    const window = histogramWindow(before, after, "t_seconds");
    expect(window.count).toBe(100);
    expect(quantileUpperBoundMs(window, 0.5)).toBe(1);
    expect(quantileUpperBoundMs(window, 0.95)).toBe(5);
    expect(quantileUpperBoundMs(window, 0.999)).toBe(Number.POSITIVE_INFINITY);
    expect(maxUpperBoundMs(window)).toBe(Number.POSITIVE_INFINITY);
    expect(labelDeltas(before, after, "drops_total")).toEqual({ late: 3 });
    expect(deltaOf(before, after, "drops_total")).toBe(3);
    expect(deltaOf(before, after, "frames_total")).toBe(0);
  });

  it("reports nothing for an empty window and refuses lines that are not samples", () => {
    const same = scrape([1, 2, 3, 3], 0);
    const window = histogramWindow(same, same, "t_seconds");
    expect(quantileUpperBoundMs(window, 0.99)).toBeNull();
    expect(maxUpperBoundMs(window)).toBeNull();
    expect(() => histogramWindow(same, same, "missing_seconds")).toThrow(/not in the scrape/);
    expect(() => parseExposition("t_seconds_count abc")).toThrow(/without a number/);
    expect(() => parseExposition("{oops} 1")).toThrow(/not a Prometheus sample/);
  });
});
