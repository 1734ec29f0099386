/**
 * A bounded record of timed events (a time and a value each) in preallocated arrays, for
 * diagnostics that run beside the media path (bench:load's stall evidence): adding an event
 * allocates nothing. Times are epoch milliseconds with sub-millisecond resolution
 * (epochMs()), so records made in different threads and processes of one machine compare.
 */
export class TimedEvents {
  private readonly times: Float64Array;
  private readonly values: Float64Array;
  private size = 0;
  /** Events not kept because the record was full (the first `capacity` are kept). */
  overflowed = 0;

  constructor(readonly capacity = 4096) {
    this.times = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
  }

  get count(): number {
    return this.size;
  }

  add(atMs: number, value: number): void {
    if (this.size === this.capacity) {
      this.overflowed++;
      return;
    }
    this.times[this.size] = atMs;
    this.values[this.size] = value;
    this.size++;
  }

  /**
   * Adds `value` to the last event when it is at most `withinMs` older (the many calls trimmed
   * in one render tick are one event), otherwise adds an event.
   */
  addMerged(atMs: number, value: number, withinMs: number): void {
    const last = this.size - 1;
    if (last >= 0 && atMs - (this.times[last] as number) <= withinMs) {
      this.values[last] = (this.values[last] as number) + value;
      return;
    }
    this.add(atMs, value);
  }

  clear(): void {
    this.size = 0;
    this.overflowed = 0;
  }

  /** A copy as plain [time, value] pairs (times rounded to 0.01 ms), for a message or a file. */
  toPairs(): [number, number][] {
    const pairs: [number, number][] = [];
    for (let i = 0; i < this.size; i++) {
      pairs.push([Math.round((this.times[i] as number) * 100) / 100, this.values[i] as number]);
    }
    return pairs;
  }
}

/** The clock reading as epoch milliseconds, comparable across threads and processes. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
