/** Percentiles and mean of latency samples (ms), over the last `capacity` samples. */
export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** A bounded window of latency samples; summary() sorts a copy (tools and tests, not per frame). */
export class LatencyStats {
  private readonly samples: Float64Array;
  private size = 0;
  private next = 0;
  /** All samples ever recorded, including those that left the window. */
  total = 0;

  constructor(capacity = 10_000) {
    this.samples = new Float64Array(capacity);
  }

  record(ms: number): void {
    this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.samples.length;
    if (this.size < this.samples.length) this.size++;
    this.total++;
  }

  reset(): void {
    this.size = 0;
    this.next = 0;
    this.total = 0;
  }

  summary(): LatencySummary {
    if (this.size === 0) return { count: 0, meanMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, maxMs: 0 };
    const sorted = this.samples.slice(0, this.size).sort();
    const at = (q: number) => sorted[Math.min(this.size - 1, Math.floor(q * this.size))] as number;
    let sum = 0;
    for (const value of sorted) sum += value;
    return {
      count: this.size,
      meanMs: sum / this.size,
      p50Ms: at(0.5),
      p90Ms: at(0.9),
      p99Ms: at(0.99),
      maxMs: sorted[this.size - 1] as number,
    };
  }
}
