/**
 * Call control asked for by a media handler (MediaCall.mute/unmute/transfer/invite): the
 * message shapes between the worker and signaling, and the worker's pending requests. The
 * worker sends a request with an id; signaling carries it out through Graph and answers with
 * the result for that id, which settles the handler's promise. Plain structured-clone data.
 */
import type { InvitationParticipantInfo, ParticipantInfo } from "../graph/types.js";

/** What a handler asks signaling to do. */
export type CallControlRequest =
  | { action: "mute" }
  | { action: "unmute" }
  | { action: "transfer"; transferTarget: InvitationParticipantInfo; transferee?: ParticipantInfo }
  | { action: "invite"; participants: InvitationParticipantInfo[] };

/**
 * Why a call-control request failed: not_our_call (the call is no longer live), invalid_request
 * (a wrong target, refused before sending), refused (Graph said no, or the call is not in a
 * state for it), failed (Graph unreachable), call_ended (the call ended before the answer).
 */
export type CallControlFailureReason =
  | "not_our_call"
  | "invalid_request"
  | "refused"
  | "failed"
  | "call_ended";

export interface CallControlFailureInfo {
  reason: CallControlFailureReason;
  message: string;
  /** Graph's HTTP status and error code, when Graph answered. */
  status?: number;
  graphCode?: string;
}

export type CallControlResult = { ok: true } | { ok: false; failure: CallControlFailureInfo };

/** How a handler names a user to transfer to or invite (or Graph's invitationParticipantInfo). */
export type CallTarget =
  | { userId: string; tenantId?: string; displayName?: string }
  | InvitationParticipantInfo;

/** The error a MediaCall call-control promise rejects with. */
export class CallControlRefusedError extends Error {
  readonly reason: CallControlFailureReason;
  readonly status?: number;
  readonly graphCode?: string;

  constructor(action: CallControlRequest["action"], failure: CallControlFailureInfo) {
    super(failure.message.startsWith(`${action}:`) ? failure.message : `${action}: ${failure.message}`);
    this.name = "CallControlRefusedError";
    this.reason = failure.reason;
    if (failure.status !== undefined) this.status = failure.status;
    if (failure.graphCode !== undefined) this.graphCode = failure.graphCode;
  }
}

/** A handler's target as Graph's invitationParticipantInfo. */
export function invitationOf(target: CallTarget): InvitationParticipantInfo {
  if (target !== null && typeof target === "object" && "identity" in target) return target;
  const user = target as { userId?: unknown; tenantId?: unknown; displayName?: unknown };
  // Wrong shapes go as they are: signaling's body check names the field.
  return {
    "@odata.type": "#microsoft.graph.invitationParticipantInfo",
    identity: {
      user: {
        id: user?.userId as string,
        ...(user?.tenantId === undefined ? {} : { tenantId: user.tenantId as string }),
        ...(user?.displayName === undefined ? {} : { displayName: user.displayName as string }),
      },
    },
  };
}

/** One call's requests waiting for signaling's answer. */
export class PendingCallControl {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { action: CallControlRequest["action"]; resolve: () => void; reject: (error: Error) => void }
  >();

  /** Registers a request; `send` gets its id. Resolves or rejects when settled. */
  start(request: CallControlRequest, send: (requestId: number) => void): Promise<void> {
    const requestId = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(requestId, { action: request.action, resolve, reject });
      send(requestId);
    });
  }

  /** Signaling's answer; an unknown id (already settled by the end of the call) is ignored. */
  settle(requestId: number, result: CallControlResult): void {
    const entry = this.pending.get(requestId);
    if (entry === undefined) return;
    this.pending.delete(requestId);
    if (result.ok) entry.resolve();
    else entry.reject(new CallControlRefusedError(entry.action, result.failure));
  }

  /** The call ended: nothing will answer the requests still waiting. */
  rejectAll(message: string): void {
    for (const [requestId, entry] of this.pending) {
      this.pending.delete(requestId);
      entry.reject(new CallControlRefusedError(entry.action, { reason: "call_ended", message }));
    }
  }

  get size(): number {
    return this.pending.size;
  }
}
