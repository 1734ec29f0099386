/**
 * The calls the bot knows, their state transitions (logged with the call id and counted) and
 * the bounded memory of ended calls: a terminated call is kept for a while so late
 * notifications about it are recognized and ignored, then forgotten.
 */
import type { Logger } from "../log/logger.js";
import type { SignalingMetrics } from "../metrics/signaling-metrics.js";
import {
  CALL_LIFECYCLE_STATES,
  Call,
  type CallEndInfo,
  type CallLifecycleState,
  type CallSnapshot,
  classifyTransition,
  type TransitionOutcome,
} from "./call.js";

export interface CallRegistryOptions {
  logger: Logger;
  metrics: SignalingMetrics;
  /** How long an ended call is remembered. */
  terminatedRetentionMs?: number;
  /** At most this many ended calls are remembered; the oldest are forgotten first. */
  maxTerminated?: number;
  now?: () => number;
}

export class CallRegistry {
  private readonly calls = new Map<string, Call>();
  /** Ended calls in the order they ended, with their forget timers. */
  private readonly ended = new Map<string, NodeJS.Timeout>();
  private readonly logger: Logger;
  private readonly metrics: SignalingMetrics;
  private readonly retentionMs: number;
  private readonly maxTerminated: number;
  private readonly now: () => number;
  /** Calls not terminated yet, kept apart from the (up to maxTerminated) ended ones. */
  private readonly liveSet = new Set<Call>();
  private readonly liveWaiters = new Set<() => void>();

  constructor(options: CallRegistryOptions) {
    this.logger = options.logger;
    this.metrics = options.metrics;
    this.retentionMs = options.terminatedRetentionMs ?? 60_000;
    this.maxTerminated = options.maxTerminated ?? 10_000;
    this.now = options.now ?? Date.now;
    // Every state appears in the gauge from the start, so dashboards see zeros, not gaps.
    for (const state of CALL_LIFECYCLE_STATES) this.metrics.calls.set({ state }, 0);
  }

  get(callId: string): Call | undefined {
    return this.calls.get(callId);
  }

  /** Calls not yet terminated. */
  get liveCount(): number {
    return this.liveSet.size;
  }

  /** Live calls only: an incoming call counts them without walking the ended calls kept. */
  liveCalls(): Call[] {
    return [...this.liveSet];
  }

  snapshot(): CallSnapshot[] {
    return [...this.calls.values()].map((call) => call.snapshot());
  }

  countsByState(): Record<CallLifecycleState, number> {
    const counts = Object.fromEntries(CALL_LIFECYCLE_STATES.map((state) => [state, 0])) as Record<
      CallLifecycleState,
      number
    >;
    for (const call of this.calls.values()) counts[call.state] += 1;
    return counts;
  }

  /** Adds a new call; throws if the id is already known (callers check `get` first). */
  add(
    callId: string,
    initial: CallLifecycleState,
    direction: "incoming" | "outgoing",
    tenantId?: string,
  ): Call {
    if (this.calls.has(callId)) throw new Error(`call ${callId} is already registered`);
    const call = new Call(callId, initial, direction, tenantId, this.now());
    this.calls.set(callId, call);
    this.metrics.calls.inc({ state: initial });
    if (initial !== "terminated") this.liveSet.add(call);
    this.logger.info({ callId, state: initial, direction, tenantId }, "call registered");
    return call;
  }

  /**
   * Moves a call to a new state if the state machine allows it. Duplicates and stale
   * (out-of-order) requests are ignored and reported; refused ones are logged as warnings.
   */
  transition(
    call: Call,
    to: CallLifecycleState,
    detail?: { reason?: string; end?: CallEndInfo },
  ): TransitionOutcome {
    const from = call.state;
    const outcome = classifyTransition(from, to);
    if (outcome === "duplicate" || outcome === "stale") {
      this.logger.debug({ callId: call.callId, from, to, outcome }, "call transition ignored");
      return outcome;
    }
    if (outcome === "refused") {
      this.logger.warn({ callId: call.callId, from, to }, "call transition not allowed; ignored");
      return outcome;
    }
    call.state = to;
    this.metrics.transitions.inc({ from, to });
    this.metrics.calls.dec({ state: from });
    this.metrics.calls.inc({ state: to });
    if (to === "terminated") this.onTerminated(call, detail?.end);
    else this.logger.info({ callId: call.callId, from, to, reason: detail?.reason }, "call state changed");
    return outcome;
  }

  /** Resolves once no call is live, or after timeoutMs; true when none is live. */
  waitForNoLiveCalls(timeoutMs: number): Promise<boolean> {
    if (this.liveSet.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.liveWaiters.delete(done);
        resolve(this.liveSet.size === 0);
      };
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      this.liveWaiters.add(done);
    });
  }

  /** Forgets everything (shutdown): timers cleared, gauge zeroed. */
  clear(): void {
    for (const call of this.calls.values()) {
      call.clearTimers();
      this.metrics.calls.dec({ state: call.state });
    }
    for (const timer of this.ended.values()) clearTimeout(timer);
    this.calls.clear();
    this.ended.clear();
    this.liveSet.clear();
    for (const waiter of [...this.liveWaiters]) waiter();
  }

  private onTerminated(call: Call, end: CallEndInfo | undefined): void {
    call.clearTimers();
    call.endedAt = this.now();
    call.end = end ?? call.end;
    this.liveSet.delete(call);
    this.logger.info(
      {
        callId: call.callId,
        to: "terminated",
        durationMs: call.endedAt - call.createdAt,
        resultCode: call.end?.resultInfo
          ? `${call.end.resultInfo.code}/${call.end.resultInfo.subcode}`
          : undefined,
        resultMessage: call.end?.resultInfo?.message,
        meaning: call.end?.meaning?.meaning,
        endedBy: call.end?.meaning?.endedBy,
        localReason: call.end?.localReason,
      },
      call.end?.meaning?.botFault ? "call terminated (bot-side fault)" : "call terminated",
    );
    const timer = setTimeout(() => this.forget(call.callId), this.retentionMs);
    timer.unref();
    this.ended.set(call.callId, timer);
    while (this.ended.size > this.maxTerminated) {
      const oldest = this.ended.keys().next().value;
      if (oldest === undefined) break;
      this.forget(oldest);
    }
    if (this.liveSet.size === 0) for (const waiter of [...this.liveWaiters]) waiter();
  }

  private forget(callId: string): void {
    const timer = this.ended.get(callId);
    if (timer) clearTimeout(timer);
    this.ended.delete(callId);
    const call = this.calls.get(callId);
    if (call?.state !== "terminated") return;
    this.calls.delete(callId);
    this.metrics.calls.dec({ state: "terminated" });
  }
}
