import type { GraphClientSettings } from "../config/config.js";

/**
 * How long one logical Graph request may go on, and how long each of its attempts may take.
 *
 * By default the settings bound it: at most BOT_GRAPH_MAX_ATTEMPTS attempts, and none started
 * unless its whole BOT_GRAPH_TIMEOUT_MS ends within BOT_GRAPH_DEADLINE_MS of the first.
 *
 * A caller with a deadline of its own (the answer: Graph's 15 s from the incoming
 * notification, less a margin) replaces both: attempts go on, however many, while the next one
 * can start after its wait (Retry-After or backoff) and still have MIN_ATTEMPT_MS before that
 * deadline; each attempt's timeout is cut to what is left. A fixed count and the full
 * per-attempt timeout gave up while Graph's window still had room (503 with Retry-After: 3
 * stopped after attempts at 0, 3 and 6 s; issue 13, defect 5).
 */
export interface RequestBudget {
  /** performance.now() past which no attempt may run. */
  deadlineAt: number;
  /** A retry starts only if this much time is left after its wait. */
  minAttemptMs: number;
  maxAttempts: number;
}

/** Shortest attempt worth starting: Graph answers an answer in well under a second. */
export const MIN_ATTEMPT_MS = 1000;
/**
 * Guard for a caller deadline against a server that fails at once with Retry-After: 0; the
 * deadline, not this, is what ends retries in practice.
 */
export const DEADLINE_MAX_ATTEMPTS = 20;

/** The budget of a request whose first attempt starts at `startedAt` (performance.now()). */
export function requestBudget(
  settings: GraphClientSettings,
  startedAt: number,
  callerDeadlineAt?: number,
): RequestBudget {
  if (callerDeadlineAt === undefined) {
    return {
      deadlineAt: startedAt + settings.overallDeadlineMs,
      minAttemptMs: settings.requestTimeoutMs,
      maxAttempts: settings.maxAttempts,
    };
  }
  return {
    deadlineAt: callerDeadlineAt,
    minAttemptMs: Math.min(settings.requestTimeoutMs, MIN_ATTEMPT_MS),
    maxAttempts: DEADLINE_MAX_ATTEMPTS,
  };
}

/**
 * Timeout of an attempt starting at `now`: the configured one, cut at the deadline; 0 when no
 * time is left (the attempt must not be sent).
 */
export function attemptTimeoutMs(budget: RequestBudget, settings: GraphClientSettings, now: number): number {
  const left = Math.floor(budget.deadlineAt - now);
  return left < 1 ? 0 : Math.min(settings.requestTimeoutMs, left);
}
