/**
 * Whether to take an incoming call. Pure: everything it needs is passed in, so it is decided
 * in microseconds on the answer path and tested without sockets.
 */
import type { RejectReason } from "../graph/types.js";
import type { MediaUnavailableReason } from "../media/media-session-provider.js";

export interface IncomingCallFacts {
  /** Tenant of the call (resourceData.tenantId), else the notification token's tid. */
  tenantId?: string;
  /** Calls live now, the incoming one excluded. */
  liveCalls: number;
  maxCalls: number;
  /** Empty = any tenant. Compared case-insensitively (GUIDs). */
  allowedTenants: readonly string[];
  mediaUnavailable: MediaUnavailableReason | null;
  shuttingDown: boolean;
}

export type CallDecision =
  | { action: "answer" }
  | {
      action: "reject";
      reason: RejectReason;
      why: "tenant_not_allowed" | "capacity" | "media_unavailable" | "shutting_down";
    };

export function decideIncomingCall(facts: IncomingCallFacts): CallDecision {
  if (facts.allowedTenants.length > 0) {
    const tenant = facts.tenantId?.toLowerCase();
    if (!tenant || !facts.allowedTenants.some((allowed) => allowed.toLowerCase() === tenant)) {
      return { action: "reject", reason: "forbidden", why: "tenant_not_allowed" };
    }
  }
  if (facts.shuttingDown) return { action: "reject", reason: "busy", why: "shutting_down" };
  if (facts.liveCalls >= facts.maxCalls) return { action: "reject", reason: "busy", why: "capacity" };
  if (facts.mediaUnavailable !== null) return { action: "reject", reason: "busy", why: "media_unavailable" };
  return { action: "answer" };
}
