import * as hdr from "hdr-histogram-js";

/** One stage of a latency breakdown, ms (HDR: 3 significant digits, or exact counts in the worker). */
export interface StageFigures {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

/** Latencies in microseconds in an HDR histogram (1 µs .. 60 s, 3 significant digits), read in ms. */
export class LatencyHistogram {
  private readonly histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
    bitBucketSize: 64,
    useWebAssembly: false,
  });

  recordMs(ms: number): void {
    this.histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  /** `count` samples of `us` microseconds (below 1 µs counted as 1). */
  recordUs(us: number, count = 1): void {
    this.histogram.recordValueWithCount(Math.max(1, Math.round(us)), count);
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  percentileMs(percentile: number): number {
    return round3(this.histogram.getValueAtPercentile(percentile) / 1000);
  }

  get maxMs(): number {
    return round3(this.histogram.maxValue / 1000);
  }

  summary(): { p50Ms: number; p99Ms: number; maxMs: number } {
    return { p50Ms: this.percentileMs(50), p99Ms: this.percentileMs(99), maxMs: this.maxMs };
  }

  /** A stage of the breakdown: the same percentiles as the worker's probe, in ms. */
  stageSummary(): StageFigures {
    return {
      count: this.histogram.totalCount,
      meanMs: round3(this.histogram.mean / 1000),
      p50Ms: this.percentileMs(50),
      p90Ms: this.percentileMs(90),
      p99Ms: this.percentileMs(99),
      p999Ms: this.percentileMs(99.9),
      maxMs: this.maxMs,
    };
  }
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
