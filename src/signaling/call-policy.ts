/**
 * Whether to take an incoming call. Pure: everything it needs is passed in, so it is decided
 * in microseconds on the answer path and tested without sockets.
 */
import type { RejectReason } from "../graph/types.js";
import type { MediaUnavailableReason } from "../media/media-session-provider.js";

export interface IncomingCallFacts {
  /** Tenant of the call (resourceData.tenantId), else the notification token's tid. */
  tenantId?: string;
  /** Calls live now, the incoming one excluded (calls waiting for the media host included). */
  liveCalls: number;
  maxCalls: number;
  /** Empty = any tenant. Compared case-insensitively (GUIDs). */
  allowedTenants: readonly string[];
  mediaUnavailable: MediaUnavailableReason | null;
  /**
   * Whether the call may wait for a disconnected media host: "possible" (time is left for it
   * before Graph's deadline), "none" (no wait is possible), "expired" (it waited and the host
   * did not come back in time).
   */
  mediaHostWait: "possible" | "none" | "expired";
  shuttingDown: boolean;
  /** Taken with service-hosted media: Graph hosts it, so the media host's state does not matter. */
  serviceHosted?: boolean;
  /** A redirect target is configured (BOT_REDIRECT_WHEN_BUSY): a call at capacity goes there. */
  canRedirect?: boolean;
}

export type CallDecision =
  | { action: "answer" }
  /** The media host is reconnecting: hold the call (not answered, not rejected), then decide again. */
  | { action: "waitForMediaHost" }
  /** At capacity with a redirect target configured: redirect the call there (a failure rejects busy). */
  | { action: "redirect"; why: "capacity" }
  | {
      action: "reject";
      reason: RejectReason;
      why:
        | "tenant_not_allowed"
        | "capacity"
        | "media_unavailable"
        | "media_host_unreachable"
        | "shutting_down";
    };

/** BOT_ALLOWED_TENANTS: empty allows any tenant; else the tenant must be listed (GUIDs, any case). */
export function isTenantAllowed(tenantId: string | undefined, allowedTenants: readonly string[]): boolean {
  if (allowedTenants.length === 0) return true;
  const tenant = tenantId?.toLowerCase();
  return !!tenant && allowedTenants.some((allowed) => allowed.toLowerCase() === tenant);
}

export function decideIncomingCall(facts: IncomingCallFacts): CallDecision {
  if (!isTenantAllowed(facts.tenantId, facts.allowedTenants))
    return { action: "reject", reason: "forbidden", why: "tenant_not_allowed" };
  if (facts.shuttingDown) return { action: "reject", reason: "busy", why: "shutting_down" };
  // Before the media host's state: calls held for it count here, so a flood arriving during an
  // outage is turned away at once beyond maxCalls instead of piling up.
  if (facts.liveCalls >= facts.maxCalls) return atCapacity(facts);
  if (facts.serviceHosted) return { action: "answer" };
  if (facts.mediaUnavailable === "disconnected") {
    // A host connection that drops for a few seconds comes back within the reconnect grace.
    if (facts.mediaHostWait === "possible") return { action: "waitForMediaHost" };
    if (facts.mediaHostWait === "expired")
      return { action: "reject", reason: "busy", why: "media_host_unreachable" };
  }
  if (facts.mediaUnavailable !== null) return { action: "reject", reason: "busy", why: "media_unavailable" };
  return { action: "answer" };
}

function atCapacity(facts: IncomingCallFacts): CallDecision {
  return facts.canRedirect
    ? { action: "redirect", why: "capacity" }
    : { action: "reject", reason: "busy", why: "capacity" };
}
