import type { Scrape } from "../../src/metrics/prometheus-text.js";

/**
 * Counters of the bot summed over a soak from successive scrapes. A counter that went down
 * was reset (the media worker restarted with fresh metrics): what it shows then is all new,
 * so the increase counted is its new value, not a negative delta.
 */
export class CounterTotals {
  private previous: Scrape | undefined;
  private readonly totals = new Map<string, number>();

  constructor(private readonly names: readonly string[]) {}

  add(scrape: Scrape): void {
    for (const [key, value] of scrape) {
      if (!this.tracks(key)) continue;
      const before = this.previous?.get(key);
      // The first scrape is the baseline: what happened before the soak is not counted.
      if (this.previous === undefined) continue;
      const increase = before === undefined || value < before ? value : value - before;
      if (increase !== 0) this.totals.set(key, (this.totals.get(key) ?? 0) + increase);
    }
    this.previous = scrape;
  }

  /** The total increase of a counter over all its labels. */
  sum(name: string): number {
    let sum = 0;
    for (const [key, value] of this.totals) if (key === name || key.startsWith(`${name}{`)) sum += value;
    return sum;
  }

  /** The increase of a counter by the value of its one label (non-zero only). */
  byLabel(name: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [key, value] of this.totals) {
      if (!key.startsWith(`${name}{`)) continue;
      const label = /="([^"]*)"/.exec(key)?.[1] ?? key;
      out[label] = (out[label] ?? 0) + value;
    }
    return out;
  }

  private tracks(key: string): boolean {
    const name = key.split("{")[0] as string;
    return this.names.includes(name);
  }
}
