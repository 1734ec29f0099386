/**
 * Reads the media worker's Prometheus exposition text (provider.metrics()) into numbers, and
 * turns two scrapes of a histogram into percentiles of what happened between them. The
 * worker keeps only bucket counts, so a percentile is known only up to its bucket: we report
 * the bucket's upper bound (the value is at most that), never an interpolated guess.
 */

/** One scrape: every sample keyed by `name{labels}` exactly as exposed. */
export type Scrape = Map<string, number>;

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/;

export function parseExposition(text: string): Scrape {
  const samples: Scrape = new Map();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    const value = Number(match[3]);
    if (Number.isNaN(value)) throw new Error(`sample without a number: ${JSON.stringify(line)}`);
    samples.set(`${match[1]}${match[2] ?? ""}`, value);
  }
  return samples;
}

/** Sum of every sample of a metric (all label values), e.g. a counter with a reason label. */
export function sumOf(scrape: Scrape, name: string): number {
  let sum = 0;
  for (const [key, value] of scrape) {
    if (key === name || key.startsWith(`${name}{`)) sum += value;
  }
  return sum;
}

/** after - before for a summed metric. */
export function deltaOf(before: Scrape, after: Scrape, name: string): number {
  return sumOf(after, name) - sumOf(before, name);
}

/** Per-label deltas of a counter with one label (reason -> count), non-zero ones only. */
export function labelDeltas(before: Scrape, after: Scrape, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of after) {
    if (!key.startsWith(`${name}{`)) continue;
    const delta = value - (before.get(key) ?? 0);
    if (delta !== 0) out[/="([^"]*)"/.exec(key)?.[1] ?? key] = delta;
  }
  return out;
}

export interface BucketWindow {
  /** Upper bounds in seconds, ascending; the last is Infinity. */
  bounds: number[];
  /** Observations per bucket (not cumulative) between the two scrapes. */
  counts: number[];
  count: number;
}

/** The histogram's observations between two scrapes. */
export function histogramWindow(before: Scrape, after: Scrape, name: string): BucketWindow {
  const cumulative: { bound: number; value: number }[] = [];
  const prefix = `${name}_bucket{`;
  for (const [key, value] of after) {
    if (!key.startsWith(prefix)) continue;
    const le = /le="([^"]+)"/.exec(key)?.[1];
    if (le === undefined) continue;
    const bound = le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le);
    cumulative.push({ bound, value: value - (before.get(key) ?? 0) });
  }
  if (cumulative.length === 0) throw new Error(`histogram ${name} not in the scrape`);
  cumulative.sort((a, b) => a.bound - b.bound);
  const counts = cumulative.map((c, i) => c.value - (i === 0 ? 0 : (cumulative[i - 1]?.value ?? 0)));
  return {
    bounds: cumulative.map((c) => c.bound),
    counts,
    count: cumulative[cumulative.length - 1]?.value ?? 0,
  };
}

/**
 * Upper bound (ms) of the bucket holding the q-th quantile (0..1): the quantile is at most
 * this. null when nothing was observed; Infinity when it lies beyond the last finite bound.
 */
export function quantileUpperBoundMs(window: BucketWindow, q: number): number | null {
  if (window.count === 0) return null;
  const rank = Math.max(1, Math.ceil(q * window.count));
  let seen = 0;
  for (let i = 0; i < window.counts.length; i++) {
    seen += window.counts[i] as number;
    if (seen >= rank) return (window.bounds[i] as number) * 1000;
  }
  return Number.POSITIVE_INFINITY;
}

/** Upper bound (ms) of the highest non-empty bucket: the maximum is at most this. */
export function maxUpperBoundMs(window: BucketWindow): number | null {
  for (let i = window.counts.length - 1; i >= 0; i--) {
    if ((window.counts[i] as number) > 0) return (window.bounds[i] as number) * 1000;
  }
  return null;
}
