import { FRAME_MS } from "../../bridge/protocol.js";

/** How the far end's audio is damaged on its way to the bot (per session). */
export interface Impairments {
  /** Probability (0..1) that a frame is lost (its sequence number is skipped, its audio gone). */
  loss: number;
  /**
   * Fraction (0..0.5) of frames delivered after the frame that follows them. A swap takes two
   * frames, so at most half of them can be reordered.
   */
  reorder: number;
  /** Probability (0..1) that a frame is sent as generated silence (isSilence, zero PCM). */
  silence: number;
  /**
   * Largest extra delay, ms, rounded to whole 20 ms ticks (frames go out in per-tick batches):
   * each frame draws 0..round(jitterMs / 20) ticks, and frames keep their order.
   */
  jitterMs: number;
}

export const NO_IMPAIRMENTS: Impairments = { loss: 0, reorder: 0, silence: 0, jitterMs: 0 };

export const MAX_REORDER = 0.5;
export const MAX_JITTER_MS = 5000;

/** Checks impairments before they reach a session; the message names the field and its range. */
export function checkImpairments(impairments: Partial<Impairments>): Partial<Impairments> {
  const ranges: Record<keyof Impairments, number> = {
    loss: 1,
    reorder: MAX_REORDER,
    silence: 1,
    jitterMs: MAX_JITTER_MS,
  };
  for (const name of Object.keys(impairments) as (keyof Impairments)[]) {
    if (!Object.hasOwn(ranges, name)) throw new RangeError(`unknown impairment ${JSON.stringify(name)}`);
    const max = ranges[name];
    const value = impairments[name];
    if (value === undefined) continue;
    if (typeof value !== "number" || !(value >= 0 && value <= max))
      throw new RangeError(`${name} must be a number in [0, ${max}], got ${JSON.stringify(value)}`);
  }
  return impairments;
}

/** The most ticks a frame is held back: jitterMs rounded to whole ticks. */
export function jitterMaxTicks(jitterMs: number): number {
  return Math.round(jitterMs / FRAME_MS);
}

/**
 * Probability of holding a frame that could be held. The frame right after a held one releases
 * it and cannot be held itself, so holding with probability q reorders q / (1 + q) of the
 * frames; q = r / (1 - r) makes that the configured fraction r.
 */
export function reorderHoldProbability(reorder: number): number {
  if (reorder <= 0) return 0;
  if (reorder >= MAX_REORDER) return 1;
  return reorder / (1 - reorder);
}
