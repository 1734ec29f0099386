/**
 * What the signaling layer reads from a failed Graph request. Duck-typed (a GraphError has
 * status, outcomeUnknown and toLog()): the signaling layer depends on GraphCallsApi only.
 */

/** HTTP status Graph answered with, if it answered. */
export function errorStatus(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === "number" ? status : undefined;
}

/** Graph may have carried the request out (no answer came back, or a 5xx after serving). */
export function isOutcomeUnknown(error: unknown): boolean {
  return (error as { outcomeUnknown?: unknown } | null)?.outcomeUnknown === true;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The error as a log field: a GraphError's own summary (no token, bounded), else its message. */
export function describeError(error: unknown): Record<string, unknown> | string {
  if (error && typeof (error as { toLog?: unknown }).toLog === "function") {
    return (error as { toLog(): Record<string, unknown> }).toLog();
  }
  return messageOf(error);
}
