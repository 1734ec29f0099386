/**
 * Memory growth of a soak from its samples: an ordinary least-squares line through the samples
 * of a window (the run's second half, after the ramp), its slope per minute, and the growth the
 * line gives over the window divided by the calls that ended in it. A fit is a fit: r² says how
 * well a straight line describes the samples (GC sawtooth makes heap fits noisy), and a slope
 * over a few minutes is not proof of an unbounded leak, nor is a flat one proof of none.
 */

export interface Point {
  /** Seconds since the run started. */
  t: number;
  value: number;
}

export interface LineFit {
  /** Units per second. */
  slope: number;
  intercept: number;
  /** Coefficient of determination, 0..1 (null when the values do not vary). */
  r2: number | null;
}

/** Least squares through the points; null with fewer than 3 points or no spread in time. */
export function fitLine(points: readonly Point[]): LineFit | null {
  const n = points.length;
  if (n < 3) return null;
  let sx = 0;
  let sy = 0;
  for (const p of points) {
    sx += p.t;
    sy += p.value;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const p of points) {
    const dx = p.t - mx;
    const dy = p.value - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx, r2: syy === 0 ? null : (sxy * sxy) / (sxx * syy) };
}

export interface Growth {
  /** The fit's window, seconds since the run started. */
  fromS: number;
  toS: number;
  samples: number;
  /** Slope of the fitted line, bytes per minute (null: too few samples to fit). */
  bytesPerMinute: number | null;
  r2: number | null;
  /** The fitted line's rise over the window: bytesPerMinute × window minutes. */
  fittedGrowthBytes: number | null;
  /** Calls that ended (any way) inside the window. */
  callsEnded: number;
  /** fittedGrowthBytes / callsEnded (null without calls or a fit). */
  bytesPerCall: number | null;
  /** Measured, not fitted: the first, last and largest sample of the whole run. */
  firstBytes: number | null;
  lastBytes: number | null;
  peakBytes: number | null;
}

/**
 * The growth of one series over [fromS, toS]: `points` is the whole run's series (nulls, failed
 * samples, already left out), `callEndsS` when each call ended.
 */
export function growthOver(
  points: readonly Point[],
  fromS: number,
  toS: number,
  callEndsS: readonly number[],
): Growth {
  const inWindow = points.filter((p) => p.t >= fromS && p.t <= toS);
  const fit = fitLine(inWindow);
  const minutes = (toS - fromS) / 60;
  const bytesPerMinute = fit ? fit.slope * 60 : null;
  const fittedGrowthBytes = bytesPerMinute === null ? null : bytesPerMinute * minutes;
  const callsEnded = callEndsS.filter((t) => t >= fromS && t <= toS).length;
  return {
    fromS: round(fromS, 1),
    toS: round(toS, 1),
    samples: inWindow.length,
    bytesPerMinute: roundOrNull(bytesPerMinute),
    r2: fit?.r2 === null || fit === null ? null : round(fit.r2, 3),
    fittedGrowthBytes: roundOrNull(fittedGrowthBytes),
    callsEnded,
    bytesPerCall:
      fittedGrowthBytes !== null && callsEnded > 0 ? round(fittedGrowthBytes / callsEnded, 1) : null,
    firstBytes: points[0]?.value ?? null,
    lastBytes: points.at(-1)?.value ?? null,
    peakBytes: points.length > 0 ? Math.max(...points.map((p) => p.value)) : null,
  };
}

/** The window the growth is fitted over: the second half of the run, never before the ramp ended. */
export function fitWindow(runS: number, rampEndS: number): { fromS: number; toS: number } {
  return { fromS: Math.min(Math.max(runS / 2, rampEndS), runS), toS: runS };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function roundOrNull(value: number | null): number | null {
  return value === null ? null : Math.round(value);
}
