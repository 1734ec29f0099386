import { LogRateLimiter } from "../log/log-rate-limiter.js";
import type { Logger } from "../log/logger.js";
import { type ConnectFailure, failureMessage } from "./connect-failure.js";

/** Continuous failure for this long turns the warn lines into error lines. */
export const CONNECT_FAILURE_ERROR_AFTER_MS = 30_000;
/** At most one line per cause and level per this period (the rest counted in notLoggedBefore). */
export const CONNECT_FAILURE_LOG_INTERVAL_MS = 10_000;

/**
 * How the bridge client reports dials that fail: at warn from the first one (with the URL,
 * which is on the logger, and the cause), at error once the host has been out of reach for
 * CONNECT_FAILURE_ERROR_AFTER_MS, never more than one line per cause and level per interval,
 * and one info line when the connection opens again after failures.
 */
export class ConnectFailureLog {
  private readonly limiter: LogRateLimiter;
  /** When the current run of failures began (undefined while connected or before any failure). */
  private failingSinceMs: number | undefined;
  private failures = 0;

  constructor(
    private readonly log: Logger,
    private readonly nowMs: () => number = () => performance.now(),
    private readonly errorAfterMs = CONNECT_FAILURE_ERROR_AFTER_MS,
    intervalMs = CONNECT_FAILURE_LOG_INTERVAL_MS,
  ) {
    this.limiter = new LogRateLimiter(intervalMs, nowMs);
  }

  /** How long the media host has been out of reach, ms (0 while connected). */
  get failingForMs(): number {
    return this.failingSinceMs === undefined ? 0 : this.nowMs() - this.failingSinceMs;
  }

  failed(failure: ConnectFailure, attempt: number, retryInMs: number): void {
    this.failingSinceMs ??= this.nowMs();
    this.failures++;
    const failingForMs = Math.round(this.failingForMs);
    const level = failingForMs >= this.errorAfterMs ? "error" : "warn";
    const notLoggedBefore = this.limiter.take(`${level}:${failure.cause}`);
    if (notLoggedBefore === undefined) return;
    this.log[level](
      {
        cause: failure.cause,
        code: failure.code,
        reason: failure.detail,
        attempt,
        retryInMs,
        failingForMs,
        notLoggedBefore,
      },
      failureMessage(failure.cause),
    );
  }

  /** The connection is open: the next failure starts a new run. */
  opened(): { failures: number; failedForMs: number } | undefined {
    const run =
      this.failingSinceMs === undefined
        ? undefined
        : { failures: this.failures, failedForMs: Math.round(this.failingForMs) };
    this.failingSinceMs = undefined;
    this.failures = 0;
    return run;
  }
}
