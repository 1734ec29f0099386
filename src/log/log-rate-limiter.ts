/**
 * Lets one log line per key through per interval and counts the ones it holds back, so a flood
 * of bad input (a notification with 20,000 bad items, a host sending garbage every tick) costs
 * a few lines, not megabytes of synchronous writes on the event loop. The next line let through
 * for a key says how many were not logged before it.
 *
 * Usage:
 *   const suppressed = limiter.take("bad_frame");
 *   if (suppressed !== undefined) log.warn({ notLoggedBefore: suppressed }, "...");
 */
export class LogRateLimiter {
  private readonly keys = new Map<string, { loggedAtMs: number; held: number }>();

  constructor(
    private readonly intervalMs: number,
    private readonly nowMs: () => number = () => performance.now(),
    /** Keys remembered at most; beyond it the oldest is forgotten (bounded memory for any input). */
    private readonly maxKeys = 256,
  ) {
    if (!(intervalMs >= 0)) throw new RangeError(`intervalMs must be >= 0, got ${intervalMs}`);
  }

  /**
   * Returns undefined when this line must not be logged (it is counted), or the number of
   * lines of this key held back since the last one logged.
   */
  take(key = ""): number | undefined {
    const now = this.nowMs();
    const entry = this.keys.get(key);
    if (entry === undefined) {
      if (this.keys.size >= this.maxKeys) {
        const oldest = this.keys.keys().next().value as string;
        this.keys.delete(oldest);
      }
      this.keys.set(key, { loggedAtMs: now, held: 0 });
      return 0;
    }
    if (now - entry.loggedAtMs < this.intervalMs) {
      entry.held++;
      return undefined;
    }
    const held = entry.held;
    entry.loggedAtMs = now;
    entry.held = 0;
    return held;
  }
}
