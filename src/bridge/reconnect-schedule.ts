/**
 * When the bridge client dials again after a failed or lost connection.
 *
 * Outside a reconnect grace: exponential backoff (initialDelayMs doubling up to maxDelayMs)
 * with ±50 % jitter, so many workers do not hammer a host that is down for long.
 *
 * Inside the grace that follows the loss of an open connection (the host keeps that
 * connection's sessions for BOT_BRIDGE_RECONNECT_GRACE_MS, see the proto's "Reconnects"), the
 * delay is at most graceMaxDelayMs (jittered), and the last attempt is placed before the grace
 * ends rather than after it: a host back at any moment of the grace is reached within about
 * graceMaxDelayMs × 1.5, while the calls can still be resumed. Exponential backoff alone
 * (250 ms doubling) put the fifth attempt at 3.75-7.75 s, past a 5 s grace.
 */
export interface ReconnectSchedule {
  initialDelayMs: number;
  maxDelayMs: number;
  /** The host's reconnect grace (0 = none: plain backoff). */
  graceMs: number;
  /** Largest base delay inside the grace (jittered ±50 %). */
  graceMaxDelayMs: number;
}

export const DEFAULT_RECONNECT_SCHEDULE: ReconnectSchedule = {
  initialDelayMs: 250,
  maxDelayMs: 5000,
  graceMs: 0,
  graceMaxDelayMs: 200,
};

/**
 * Milliseconds to wait before the next dial.
 * @param attempt failed dials since the last open connection (1 = the first)
 * @param sinceLostMs time since an open connection was lost; undefined when no open connection
 *   was lost since the last grace (first connect, or a grace already over)
 * @param random a number in [0, 1) (Math.random, or a seeded one in tests)
 */
export function reconnectDelayMs(
  schedule: ReconnectSchedule,
  attempt: number,
  sinceLostMs: number | undefined,
  random: () => number,
): number {
  const jitter = 0.5 + random();
  const doubled = schedule.initialDelayMs * 2 ** Math.min(30, Math.max(0, attempt - 1));
  const backoff = Math.round(Math.min(schedule.maxDelayMs, doubled) * jitter);
  if (sinceLostMs === undefined || schedule.graceMs <= 0) return backoff;
  const left = schedule.graceMs - sinceLostMs;
  // Too close to the end for another attempt to help: back to plain backoff.
  const endMarginMs = schedule.graceMaxDelayMs / 4;
  if (left <= endMarginMs) return backoff;
  const inGrace = Math.round(Math.min(schedule.graceMaxDelayMs, doubled) * jitter);
  return Math.max(0, Math.min(inGrace, Math.floor(left - endMarginMs)));
}
