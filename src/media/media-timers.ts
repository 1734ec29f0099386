/**
 * The media worker's time source and timeouts outside the pacer (recording-status and
 * session-create deadlines, the reconnect grace, the wait for handlers' onEnd). Production
 * uses the real ones; the test kit (src/testing) substitutes a virtual clock so that a call's
 * timeouts run on the same timeline as its frames.
 */
export interface MediaTimers {
  /** Monotonic milliseconds, on the same base as the bridge's receive times (performance.now()). */
  now(): number;
  setTimer(callback: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

export const realTimers: MediaTimers = {
  now: () => performance.now(),
  setTimer: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
};
