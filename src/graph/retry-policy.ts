import { isStaleSocketError } from "./https-request.js";
/**
 * When and how long to wait before retrying a Graph request. Pure functions: no clock, no I/O;
 * the caller passes the current time and elapsed time, and a random source for the jitter.
 */

export interface BackoffSettings {
  /** Ceiling of the first retry's delay; doubles per retry. */
  baseDelayMs: number;
  /** Upper bound of any computed (non Retry-After) delay. */
  maxDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffSettings = { baseDelayMs: 200, maxDelayMs: 4000 };

/**
 * Why an attempt is retried; also the `reason` label of graph_request_retries_total.
 * - throttled (429), unavailable (503): Graph refused the request before acting on it.
 * - server_error (500): Graph says it failed; it is taken as not done (Microsoft's guidance
 *   treats 5xx as transient), but repeated only where a repeat cannot double an effect.
 * - bad_gateway (502), gateway_timeout (504), timeout, connection_reset: a gateway or the
 *   connection failed after the request was sent; Graph may have acted on it.
 * - connection_refused: the request never reached Graph (connect or DNS failure).
 * - stale_connection: a kept-alive connection Graph had closed was reset before it answered
 *   (Graph never read the request).
 */
export type RetryReason =
  | "throttled"
  | "unavailable"
  | "server_error"
  | "bad_gateway"
  | "gateway_timeout"
  | "timeout"
  | "connection_reset"
  | "connection_refused"
  | "stale_connection";

/** Reasons after which Graph may already have acted on the request. */
const OUTCOME_UNKNOWN: ReadonlySet<RetryReason> = new Set([
  "bad_gateway",
  "gateway_timeout",
  "timeout",
  "connection_reset",
]);

/** Reasons after which Graph certainly did not act: the only ones a non-idempotent request is retried on. */
const NOT_ACTED: ReadonlySet<RetryReason> = new Set([
  "throttled",
  "unavailable",
  "connection_refused",
  "stale_connection",
]);

export function isOutcomeUnknown(reason: RetryReason): boolean {
  return OUTCOME_UNKNOWN.has(reason);
}

/** The retry reason for an HTTP status, or undefined if that status is final. */
export function reasonForStatus(status: number): RetryReason | undefined {
  if (status === 429) return "throttled";
  if (status === 500) return "server_error";
  if (status === 502) return "bad_gateway";
  if (status === 503) return "unavailable";
  if (status === 504) return "gateway_timeout";
  return undefined;
}

const NEVER_SENT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ENETUNREACH", "EHOSTUNREACH"]);
const MAYBE_SENT_CODES = new Set(["ECONNRESET", "EPIPE", "ETIMEDOUT", "ECONNABORTED", "UND_ERR_SOCKET"]);

/**
 * The retry reason for a transport error from httpsRequest, or undefined when retrying cannot
 * help (TLS trust failures, caller aborts, programming errors).
 */
export function reasonForTransportError(error: unknown): RetryReason | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error.name === "HttpTimeoutError") return "timeout";
  if (error.name === "AbortError") return undefined;
  if (isStaleSocketError(error)) return "stale_connection";
  const code = (error as NodeJS.ErrnoException).code;
  if (code && NEVER_SENT_CODES.has(code)) return "connection_refused";
  if (code && MAYBE_SENT_CODES.has(code)) return "connection_reset";
  if (error.message === "socket hang up") return "connection_reset";
  return undefined;
}

/**
 * Parses a Retry-After header: delay-seconds (a non-negative integer) or an HTTP date.
 * Returns milliseconds to wait (0 for a date in the past), or undefined if absent or malformed,
 * in which case the caller falls back to its own backoff.
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (text === "") return undefined;
  if (/^\d+$/.test(text)) {
    const seconds = Number(text);
    return Number.isSafeInteger(seconds) ? seconds * 1000 : undefined;
  }
  // HTTP dates (IMF-fixdate, RFC 850, asctime) start with a weekday; requiring that shape keeps
  // Date.parse's lenient guessing (of "1.5" or "-3") out of the delay.
  let dateText: string;
  if (/^[A-Za-z]{3,9}, .+ GMT$/.test(text)) dateText = text;
  else if (/^[A-Za-z]{3} [A-Za-z]{3} +\d{1,2} \d{2}:\d{2}:\d{2} \d{4}$/.test(text)) dateText = `${text} GMT`;
  else return undefined;
  const at = Date.parse(dateText);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/**
 * "Full jitter" exponential backoff: uniform in [0, min(max, base * 2^(retry-1))).
 * `retryNumber` is 1 for the first retry. Spreading retries uniformly keeps many calls
 * throttled at once from coming back in lockstep.
 */
export function backoffDelayMs(
  retryNumber: number,
  settings: BackoffSettings = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, Math.min(retryNumber - 1, 30));
  const ceiling = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** exponent);
  return Math.floor(random() * ceiling);
}

export interface RetryInput {
  reason: RetryReason;
  /** Attempts already made for this logical request (>= 1). */
  attemptsMade: number;
  maxAttempts: number;
  /** Time left, from now (the failed attempt's end), until the request's deadline. */
  remainingMs: number;
  /**
   * Least time the next attempt must have: a retry is started only if, after its wait, this
   * much is left before the deadline (the full attempt timeout, or less for a caller deadline:
   * see request-budget.ts).
   */
  minAttemptMs: number;
  /** Parsed Retry-After of the failed response, if it had one. */
  retryAfterMs?: number;
  /**
   * Whether repeating the request is harmless if Graph already acted on it. Non-idempotent
   * requests are retried only when Graph certainly did not act (throttled, unavailable,
   * connection refused, stale connection).
   */
  idempotent: boolean;
  backoff?: BackoffSettings;
  random?: () => number;
}

/**
 * Why a failed attempt is not retried; also GraphError.gaveUp. "stopped" comes from the
 * caller (GraphRequestOptions.stopRetries), never from decideRetry.
 */
export type NotRetriedWhy = "unsafe" | "attempts" | "deadline" | "stopped";

export type RetryDecision = { retry: true; delayMs: number } | { retry: false; why: NotRetriedWhy };

/** Decides whether to retry a failed attempt and after what delay. */
export function decideRetry(input: RetryInput): RetryDecision {
  if (!input.idempotent && !NOT_ACTED.has(input.reason)) return { retry: false, why: "unsafe" };
  if (input.attemptsMade >= input.maxAttempts) return { retry: false, why: "attempts" };
  const delayMs =
    input.retryAfterMs ?? backoffDelayMs(input.attemptsMade, input.backoff ?? DEFAULT_BACKOFF, input.random);
  // Never start an attempt that cannot have its least time before the deadline.
  if (delayMs + input.minAttemptMs > input.remainingMs) return { retry: false, why: "deadline" };
  return { retry: true, delayMs };
}
