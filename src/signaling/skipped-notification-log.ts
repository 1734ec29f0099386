/**
 * Accounts for the notifications of a batch that produced no event: every item is counted in
 * signaling_notifications_total, but the log gets one warn line per batch (counts by outcome and
 * reason, the first few items as examples), rate-limited. A line per item let one authenticated
 * 160 KB notification of 20,000 bad items write 3 MB of synchronous log and hold the event loop
 * for hundreds of milliseconds, delaying every other call's answer.
 */
import { LogRateLimiter } from "../log/log-rate-limiter.js";
import type { Logger } from "../log/logger.js";
import type { SignalingMetrics } from "../metrics/signaling-metrics.js";
import type { SkippedNotification } from "./notification-parser.js";

/** Items quoted in full in a batch's line. */
const EXAMPLES = 3;
/** Distinct reasons counted by name in a batch's line; the rest are summed under "other". */
const REASONS = 8;
/** Reasons may quote input (a resource path, a parser message): bounded in the log. */
const REASON_CHARS = 120;

export interface SkippedBatchSummary {
  skipped: number;
  byOutcome: Record<SkippedNotification["outcome"], number>;
  byReason: Record<string, number>;
  examples: SkippedNotification[];
  /** The call every skipped item named, when they all named the same one. */
  callId?: string;
}

function bounded(reason: string): string {
  return reason.length > REASON_CHARS ? `${reason.slice(0, REASON_CHARS)}...` : reason;
}

/** Counts of a batch's skipped items, at most REASONS + 1 reason keys and EXAMPLES examples. */
export function summarizeSkipped(skipped: readonly SkippedNotification[]): SkippedBatchSummary {
  const summary: SkippedBatchSummary = {
    skipped: skipped.length,
    byOutcome: { unknown: 0, invalid: 0 },
    byReason: {},
    examples: [],
  };
  const reasons = new Map<string, number>();
  let other = 0;
  let callId = skipped[0]?.callId;
  for (const item of skipped) {
    if (item.callId !== callId) callId = undefined;
    summary.byOutcome[item.outcome]++;
    const reason = bounded(item.reason);
    const count = reasons.get(reason);
    if (count !== undefined) reasons.set(reason, count + 1);
    else if (reasons.size < REASONS) reasons.set(reason, 1);
    else other++;
    if (summary.examples.length < EXAMPLES) summary.examples.push({ ...item, reason });
  }
  for (const [reason, count] of reasons) summary.byReason[reason] = count;
  if (other > 0) summary.byReason.other = other;
  if (callId !== undefined) summary.callId = callId;
  return summary;
}

export class SkippedNotificationLog {
  private readonly limiter: LogRateLimiter;

  constructor(
    private readonly logger: Logger,
    private readonly metrics: SignalingMetrics,
    /** At most one batch line per this interval; the next says how many were not logged. */
    intervalMs = 10_000,
  ) {
    this.limiter = new LogRateLimiter(intervalMs);
  }

  /** Counts every skipped item and logs the batch, if any, in at most one line. */
  report(skipped: readonly SkippedNotification[]): void {
    if (skipped.length === 0) return;
    const summary = summarizeSkipped(skipped);
    for (const outcome of ["unknown", "invalid"] as const) {
      const count = summary.byOutcome[outcome];
      if (count > 0) this.metrics.notifications.inc({ kind: outcome, outcome: "ignored" }, count);
    }
    const batchesNotLoggedBefore = this.limiter.take("skipped");
    if (batchesNotLoggedBefore === undefined) return;
    this.logger.warn(
      { ...summary, batchesNotLoggedBefore },
      `${summary.skipped} notification(s) of a batch skipped`,
    );
  }
}
