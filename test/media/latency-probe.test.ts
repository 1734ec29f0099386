import { describe, expect, it } from "vitest";
import { LatencyProbe, MicrosecondHistogram } from "../../src/media/latency-probe.js";

describe("MicrosecondHistogram", () => {
  it("reads percentiles to the microsecond and the maximum exactly beyond the exact range", () => {
    const h = new MicrosecondHistogram();
    for (let us = 1; us <= 1000; us++) h.record(us);
    h.record(750_000.4);
    const s = h.summary();
    expect(s).toMatchObject({
      count: 1001,
      p50Us: 501,
      p90Us: 901,
      p99Us: 991,
      maxUs: 750_000,
      aboveExactUs: 1,
    });
    // Negative readings (two threads' clocks) count as 0; weighted samples count n times.
    h.record(-5);
    h.record(2, 10);
    expect(h.summary().count).toBe(1012);
  });

  it("a reset clears every counter it used: a new window sees none of the old one", () => {
    const h = new MicrosecondHistogram();
    for (let i = 0; i < 100; i++) h.record(40_000);
    h.reset();
    h.record(10);
    expect(h.summary()).toMatchObject({ count: 1, p50Us: 10, p99Us: 10, maxUs: 10, aboveExactUs: 0 });
    // Values above the last window's highest are counted from zero as well.
    h.record(45_000, 3);
    expect(h.summary()).toMatchObject({ count: 4, p50Us: 45_000, maxUs: 45_000 });
  });
});

describe("LatencyProbe", () => {
  it("a reset empties every stage and the frame counts", () => {
    const probe = new LatencyProbe();
    probe.hostToWorker.record(3000, 1000);
    probe.renderLateness.record(120);
    probe.framesSentLive = 1000;
    probe.reset();
    const snapshot = probe.snapshot();
    expect(Object.values(snapshot.stages).map((stage) => stage.count)).toEqual([0, 0, 0, 0, 0]);
    expect(snapshot.framesSentLive).toBe(0);
  });
});
