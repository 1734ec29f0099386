import type { IncomingHttpHeaders } from "node:http";
import type { NotRetriedWhy } from "./retry-policy.js";

/**
 * Codes the client itself gives to failures that carry no Graph error body. Graph's own codes
 * (e.g. "NotFound", "TooManyRequests", "8537") pass through unchanged.
 */
export type ClientErrorCode =
  | "invalidRequest"
  | "requestTimeout"
  | "connectionFailed"
  | "aborted"
  | "deadlineExceeded"
  | "tokenUnavailable"
  | "invalidResponse"
  | "httpError";

export interface GraphErrorInit {
  action: string;
  /** HTTP status of the last response; 0 when there was none (timeout, connection, validation). */
  status: number;
  code: string;
  message: string;
  clientRequestId: string;
  requestId?: string;
  /** Graph's innerError.date, when given. */
  date?: string;
  /** HTTP attempts made; 0 when the request was refused before sending. */
  attempts: number;
  /**
   * True when Graph may have acted on the request although no success was seen (timeout,
   * reset connection, 504). For answer this means: wait for the call's notifications rather
   * than assume the call was not answered.
   */
  outcomeUnknown?: boolean;
  retryAfterMs?: number;
  /**
   * Why the last retryable failure was not retried: no attempt could still finish before the
   * deadline, the attempts were used up, repeating was unsafe, or the caller stopped retries.
   * Absent for final failures.
   */
  gaveUp?: NotRetriedWhy;
  callId?: string;
  cause?: unknown;
}

const GAVE_UP: Record<NotRetriedWhy, string> = {
  deadline: "no further attempt could finish before the deadline",
  attempts: "attempts used up",
  unsafe: "Graph may have acted on it, so it is not repeated",
  stopped: "the caller stopped retrying",
};

/** The one error type GraphCallsApi methods reject with. Never holds the token. */
export class GraphError extends Error {
  readonly action: string;
  readonly status: number;
  readonly code: string;
  readonly clientRequestId: string;
  readonly requestId: string | undefined;
  readonly date: string | undefined;
  readonly attempts: number;
  readonly outcomeUnknown: boolean;
  readonly retryAfterMs: number | undefined;
  readonly gaveUp: NotRetriedWhy | undefined;
  readonly callId: string | undefined;

  constructor(init: GraphErrorInit) {
    super(
      `Graph ${init.action} failed${init.status ? ` with HTTP ${init.status}` : ""} (${init.code}): ${init.message}${
        init.gaveUp ? `; not retried: ${GAVE_UP[init.gaveUp]}` : ""
      }`,
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.name = "GraphError";
    this.action = init.action;
    this.status = init.status;
    this.code = init.code;
    this.clientRequestId = init.clientRequestId;
    this.requestId = init.requestId;
    this.date = init.date;
    this.attempts = init.attempts;
    this.outcomeUnknown = init.outcomeUnknown ?? false;
    this.retryAfterMs = init.retryAfterMs;
    this.gaveUp = init.gaveUp;
    this.callId = init.callId;
  }

  /** Fields for a structured log line. */
  toLog(): Record<string, unknown> {
    return {
      action: this.action,
      status: this.status,
      code: this.code,
      graphMessage: this.message,
      requestId: this.requestId,
      clientRequestId: this.clientRequestId,
      attempts: this.attempts,
      outcomeUnknown: this.outcomeUnknown,
      gaveUp: this.gaveUp,
    };
  }
}

export interface ParsedGraphErrorBody {
  code?: string;
  message?: string;
  requestId?: string;
  clientRequestId?: string;
  date?: string;
}

function stringField(source: unknown, key: string): string | undefined {
  if (source === null || typeof source !== "object") return undefined;
  const value = (source as Record<string, unknown>)[key];
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  return undefined;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Reads `{"error": {"code", "message", "innerError": {"request-id", "client-request-id", "date"}}}`
 * tolerantly (innerError/innererror, camel or kebab keys), falling back to the response headers
 * `request-id` and `client-request-id`. A body that is not JSON yields only the header values.
 */
export function parseGraphErrorBody(body: Buffer, headers: IncomingHttpHeaders): ParsedGraphErrorBody {
  let error: unknown;
  try {
    error = (JSON.parse(body.toString("utf8")) as { error?: unknown } | null)?.error;
  } catch {
    error = undefined;
  }
  const inner =
    error && typeof error === "object"
      ? ((error as Record<string, unknown>).innerError ?? (error as Record<string, unknown>).innererror)
      : undefined;
  const message = stringField(error, "message");
  return {
    code: stringField(error, "code"),
    // Bounded: an error message lands in logs and exception text.
    message: message === undefined ? undefined : message.slice(0, 1000),
    requestId:
      stringField(inner, "request-id") ?? stringField(inner, "requestId") ?? header(headers, "request-id"),
    clientRequestId:
      stringField(inner, "client-request-id") ??
      stringField(inner, "clientRequestId") ??
      header(headers, "client-request-id"),
    date: stringField(inner, "date"),
  };
}
