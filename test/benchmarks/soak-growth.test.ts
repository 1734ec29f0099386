import { describe, expect, it } from "vitest";
import { CounterTotals } from "../../benchmarks/soak/counter-totals.js";
import { fitLine, fitWindow, growthOver } from "../../benchmarks/soak/growth.js";

describe("soak growth figures", () => {
  it("fits a line: slope, r² 1 for points on it, none from too few points", () => {
    const points = [0, 10, 20, 30].map((t) => ({ t, value: 100 + 2 * t }));
    expect(fitLine(points)).toEqual({ slope: 2, intercept: 100, r2: 1 });
    expect(fitLine(points.slice(0, 2))).toBeNull();
    expect(fitLine([0, 1, 2].map(() => ({ t: 5, value: 1 })))).toBeNull();
    expect(fitLine([0, 1, 2].map((t) => ({ t, value: 7 })))?.r2).toBeNull();
  });

  it("gives growth per minute over the window and per call ended in it", () => {
    // 1 KiB a second for 10 minutes; the first half (and its jump) is left out.
    const points = Array.from({ length: 121 }, (_, i) => ({
      t: i * 5,
      value: (i < 30 ? 5e6 : 0) + 1024 * i * 5,
    }));
    const window = fitWindow(600, 20);
    expect(window).toEqual({ fromS: 300, toS: 600 });
    const ends = [10, 100, 310, 400, 590, 610];
    const growth = growthOver(points, window.fromS, window.toS, ends);
    expect(growth.bytesPerMinute).toBe(61_440);
    expect(growth.r2).toBe(1);
    expect(growth.fittedGrowthBytes).toBe(307_200);
    expect(growth.callsEnded).toBe(3);
    expect(growth.bytesPerCall).toBe(102_400);
    expect(growth.samples).toBe(61);
    expect(growth.peakBytes).toBe(5e6 + 1024 * 29 * 5);
    // A ramp longer than half the run moves the window's start to its end.
    expect(fitWindow(600, 400)).toEqual({ fromS: 400, toS: 600 });
  });

  it("sums counters over scrapes, counting a reset counter's new value", () => {
    const totals = new CounterTotals(["media_frames_dropped_total"]);
    const scrape = (late: number, trim: number) =>
      new Map([
        ['media_frames_dropped_total{reason="late"}', late],
        ['media_frames_dropped_total{reason="latency_trim"}', trim],
        ["other_total", 99],
      ]);
    totals.add(scrape(5, 0)); // baseline: not counted
    totals.add(scrape(8, 2));
    totals.add(scrape(1, 3)); // the worker restarted: late starts over
    expect(totals.byLabel("media_frames_dropped_total")).toEqual({ late: 4, latency_trim: 3 });
    expect(totals.sum("media_frames_dropped_total")).toBe(7);
    expect(totals.sum("other_total")).toBe(0);
  });
});
