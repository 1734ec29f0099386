/**
 * One call as the signaling layer tracks it, and its state machine. Graph's notifications can
 * arrive duplicated or out of order (establishing after established), so moves backwards along
 * the setup path and repeats are ignored instead of failing.
 */
import type { ResultInfo } from "../graph/types.js";
import { CallRoster } from "./call-roster.js";
import type { ResultCodeMeaning } from "./result-codes.js";

export type CallLifecycleState =
  | "incoming"
  | "answering"
  | "establishing"
  | "established"
  | "hold"
  | "transferring"
  | "redirecting"
  | "terminating"
  | "terminated";

export const CALL_LIFECYCLE_STATES: readonly CallLifecycleState[] = [
  "incoming",
  "answering",
  "establishing",
  "established",
  "hold",
  "transferring",
  "redirecting",
  "terminating",
  "terminated",
];

const ALLOWED: Readonly<Record<CallLifecycleState, readonly CallLifecycleState[]>> = {
  incoming: ["answering", "establishing", "established", "redirecting", "terminating", "terminated"],
  answering: ["establishing", "established", "terminating", "terminated"],
  establishing: ["established", "hold", "terminating", "terminated"],
  established: ["hold", "transferring", "terminating", "terminated"],
  hold: ["established", "transferring", "terminating", "terminated"],
  transferring: ["established", "hold", "terminating", "terminated"],
  redirecting: ["terminating", "terminated"],
  terminating: ["terminated"],
  terminated: [],
};

/** Position on the setup path; a notification for an earlier step than the current one is stale. */
const SETUP_RANK: Partial<Record<CallLifecycleState, number>> = {
  incoming: 0,
  answering: 1,
  establishing: 2,
  established: 3,
  hold: 3,
  transferring: 3,
};

/** What a requested transition did. */
export type TransitionOutcome = "applied" | "duplicate" | "stale" | "refused";

export function isTransitionAllowed(from: CallLifecycleState, to: CallLifecycleState): boolean {
  return ALLOWED[from].includes(to);
}

/** Classifies a transition request without applying it. */
export function classifyTransition(from: CallLifecycleState, to: CallLifecycleState): TransitionOutcome {
  if (from === to) return "duplicate";
  if (isTransitionAllowed(from, to)) return "applied";
  const fromRank = SETUP_RANK[from];
  const toRank = SETUP_RANK[to];
  if (fromRank !== undefined && toRank !== undefined && toRank < fromRank) return "stale";
  // Any setup or in-call state reported once the call is ending or ended is a late notification.
  if (from === "terminating" || from === "terminated") return "stale";
  return "refused";
}

export interface CallEndInfo {
  resultInfo?: ResultInfo;
  meaning?: ResultCodeMeaning;
  /** Why the bot ended or forgot the call locally, when Graph did not say. */
  localReason?: string;
}

/** Snapshot of a call for APIs and health output. */
export interface CallSnapshot {
  callId: string;
  state: CallLifecycleState;
  tenantId?: string;
  direction: "incoming" | "outgoing";
  createdAt: number;
  answeredAt?: number;
  endedAt?: number;
  end?: CallEndInfo;
}

export class Call {
  state: CallLifecycleState;
  readonly createdAt: number;
  answeredAt?: number;
  endedAt?: number;
  end?: CallEndInfo;
  /** A media session was created for this call and must be closed when it ends. */
  hasMediaSession = false;
  /** The media side was told the call is established (once; hold/resume does not repeat it). */
  mediaToldEstablished = false;
  /** Last DTMF sequence id seen, to drop a duplicated tone notification. */
  lastToneSequenceId?: number;
  keepAliveTimer?: NodeJS.Timeout;
  /** Local fallback end if Graph never confirms a hang up. */
  hangUpTimer?: NodeJS.Timeout;
  /** A keepAlive retried soon after a transient failure (not a whole interval later). */
  keepAliveRetryTimer?: NodeJS.Timeout;
  /** Stops the wait while the call is held for a disconnected media host. */
  mediaHostWait?: AbortController;
  /** Stops the answer's pending retries while the call is being answered. */
  answerRetries?: AbortController;
  /** Its answer's outcome is unknown: Graph's notifications will tell. */
  answerOutcomeUnknown = false;
  /** Graph's id of the bot's own participant (incoming: from the notification; placed: from createCall). */
  myParticipantId?: string;
  /** AAD user id of the meeting's organizer, for meetings. */
  organizerId?: string;
  /** The roster built from Graph's participant notifications, deltas applied in order. */
  readonly roster = new CallRoster();

  constructor(
    readonly callId: string,
    initial: CallLifecycleState,
    readonly direction: "incoming" | "outgoing",
    readonly tenantId: string | undefined,
    now: number,
  ) {
    this.state = initial;
    this.createdAt = now;
  }

  get isLive(): boolean {
    return this.state !== "terminated";
  }

  /** Stops timers owned by the call. */
  clearTimers(): void {
    if (this.keepAliveTimer) clearInterval(this.keepAliveTimer);
    if (this.hangUpTimer) clearTimeout(this.hangUpTimer);
    if (this.keepAliveRetryTimer) clearTimeout(this.keepAliveRetryTimer);
    this.keepAliveTimer = undefined;
    this.hangUpTimer = undefined;
    this.keepAliveRetryTimer = undefined;
  }

  snapshot(): CallSnapshot {
    return {
      callId: this.callId,
      state: this.state,
      tenantId: this.tenantId,
      direction: this.direction,
      createdAt: this.createdAt,
      answeredAt: this.answeredAt,
      endedAt: this.endedAt,
      end: this.end,
    };
  }
}
