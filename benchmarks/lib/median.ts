/** The median of the finite numbers among `values` (null when there are none). */
export function medianOf(values: readonly (number | null | undefined)[]): number | null {
  const sorted = values
    .filter((v): v is number => typeof v === "number" && Number.isFinite(v))
    .sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * The median of bucket upper bounds ("p99 ≤ 2 ms") over repeated runs: the upper-middle value
 * of the sorted runs, so it is always one of the bounds (a mean of two bounds is no bound) and
 * errs high, never low. A run with no figure (null, undefined: beyond the last bucket) or
 * Infinity counts as above every bound; the result is Infinity when the upper-middle run is
 * such a run, and null only when there are no runs at all.
 */
export function upperMedianBoundOf(values: readonly (number | null | undefined)[]): number | null {
  if (values.length === 0) return null;
  const sorted = values
    .map((v) => (typeof v === "number" && !Number.isNaN(v) ? v : Number.POSITIVE_INFINITY))
    .sort((a, b) => a - b);
  return sorted[sorted.length >> 1] as number;
}
