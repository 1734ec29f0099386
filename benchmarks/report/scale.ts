/**
 * Axes of the benchmark charts: a domain with readable tick values, linear or logarithmic,
 * and the projection of a value onto pixels. Latencies span 0.1 ms to a second, so the
 * latency chart is logarithmic; CPU per frame is linear from zero.
 */

export type AxisKind = "linear" | "log";

export interface Axis {
  kind: AxisKind;
  min: number;
  max: number;
  /** Tick values inside [min, max], ascending. */
  ticks: number[];
}

/** 1, 2, 2.5, 5 or 10 times a power of ten, the smallest such step >= rough. */
export function niceStep(rough: number): number {
  if (!(rough > 0) || !Number.isFinite(rough))
    throw new Error(`niceStep needs a positive finite value, got ${rough}`);
  const power = 10 ** Math.floor(Math.log10(rough));
  for (const m of [1, 2, 2.5, 5, 10]) {
    if (m * power >= rough * (1 - 1e-9)) return clean(m * power);
  }
  return clean(10 * power);
}

/**
 * A linear axis covering the values with about `targetTicks` round ticks. Non-finite values
 * are ignored; no value at all gives 0..1. `includeZero` starts the axis at zero for
 * positive data (bars and costs read wrongly from a cut-off axis).
 */
export function linearAxis(values: readonly number[], targetTicks = 5, includeZero = true): Axis {
  const finite = values.filter(Number.isFinite);
  let lo = finite.length > 0 ? Math.min(...finite) : 0;
  let hi = finite.length > 0 ? Math.max(...finite) : 1;
  if (includeZero) {
    lo = Math.min(lo, 0);
    hi = Math.max(hi, 0);
  }
  if (lo === hi) {
    // One value: a range around it so it does not sit on the edge of nothing.
    const pad = lo === 0 ? 1 : Math.abs(lo) / 2;
    if (lo !== 0) lo -= pad;
    hi += pad;
  }
  const step = niceStep((hi - lo) / Math.max(1, targetTicks));
  const min = clean(Math.floor(lo / step + 1e-9) * step);
  const max = clean(Math.ceil(hi / step - 1e-9) * step);
  const ticks: number[] = [];
  for (let i = 0; ; i++) {
    const tick = clean(min + i * step);
    if (tick > max + step * 1e-9) break;
    ticks.push(tick);
  }
  return { kind: "linear", min, max, ticks };
}

/**
 * A logarithmic axis from the decade at or below the smallest positive value to the decade at
 * or above the largest. Ticks at 1, 2, 5 per decade when few decades are shown, at each
 * decade otherwise. Values <= 0 cannot be placed and are ignored.
 */
export function logAxis(values: readonly number[]): Axis {
  const positive = values.filter((v) => Number.isFinite(v) && v > 0);
  if (positive.length === 0) return { kind: "log", min: 1, max: 10, ticks: [1, 2, 5, 10] };
  const lo = Math.floor(Math.log10(Math.min(...positive)) + 1e-9);
  let hi = Math.ceil(Math.log10(Math.max(...positive)) - 1e-9);
  if (hi === lo) hi = lo + 1;
  // 1, 2, 5 per decade while that stays legible; decades alone beyond.
  const multiples = hi - lo <= 3 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let d = lo; d <= hi; d++) {
    for (const m of multiples) {
      if (d === hi && m > 1) break;
      ticks.push(clean(m * 10 ** d));
    }
  }
  return { kind: "log", min: clean(10 ** lo), max: clean(10 ** hi), ticks };
}

/**
 * Pixel position of a value on an axis drawn from `from` (at min) to `to` (at max). Values
 * outside the domain land outside the range; a value a log axis cannot place gives NaN.
 */
export function project(axis: Axis, value: number, from: number, to: number): number {
  if (axis.kind === "log") {
    if (!(value > 0)) return Number.NaN;
    const t = (Math.log10(value) - Math.log10(axis.min)) / (Math.log10(axis.max) - Math.log10(axis.min));
    return from + t * (to - from);
  }
  const t = (value - axis.min) / (axis.max - axis.min);
  return from + t * (to - from);
}

/** Removes binary noise (0.30000000000000004 -> 0.3) from computed tick values. */
function clean(value: number): number {
  return Number(value.toPrecision(12));
}
