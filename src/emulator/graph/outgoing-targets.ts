import type { OutgoingCallPlan } from "./call-engine.js";
import type { Callees } from "./callees.js";
import type { EmulatedCall } from "./emulated-call.js";
import { GraphRequestError } from "./graph-error.js";
import type { Meetings } from "./meetings.js";

/** What a createCall reaches beyond "established at once": its plan, attached to the new call. */
export interface OutgoingTarget {
  plan: OutgoingCallPlan;
  attach: (call: EmulatedCall) => void;
}

const JOIN_MEETING_ID_INFO = "microsoft.graph.joinMeetingIdMeetingInfo";

/**
 * The emulated meeting or callee a createCall body (already CSDL-checked) names:
 * joinMeetingIdMeetingInfo must name a known meeting with its passcode (else 404 / 403, the
 * emulator's choice of codes, see docs/meetings.md); a chatInfo thread of a known meeting joins
 * it, an unknown thread is an ad-hoc meeting established at once; a registered user as first
 * target answers as registered. Throws GraphRequestError, so nothing is created.
 */
export function resolveOutgoingTarget(
  meetings: Meetings,
  callees: Callees,
  body: Record<string, unknown>,
  app: { appId: string; displayName?: string },
): OutgoingTarget | undefined {
  const meetingInfo = body.meetingInfo as Record<string, unknown> | null | undefined;
  const chatInfo = body.chatInfo as { threadId?: unknown } | null | undefined;
  if (String(meetingInfo?.["@odata.type"] ?? "").replace(/^#/, "") === JOIN_MEETING_ID_INFO) {
    const joinMeetingId = String(meetingInfo?.joinMeetingId ?? "").replace(/\s+/g, "");
    const meeting = meetings.byJoinMeetingId(joinMeetingId);
    if (!meeting)
      throw new GraphRequestError(404, "NotFound", `No meeting has joinMeetingId ${joinMeetingId}.`);
    if (meetingInfo?.passcode !== meeting.passcode)
      throw new GraphRequestError(403, "Forbidden", `The passcode does not match meeting ${joinMeetingId}.`);
    if (meeting.ended) throw new GraphRequestError(404, "NotFound", `Meeting ${joinMeetingId} has ended.`);
    return meetings.joinPlan(meeting, app);
  }
  if (typeof chatInfo?.threadId === "string") {
    const meeting = meetings.byThread(chatInfo.threadId);
    if (!meeting) return undefined;
    if (meeting.ended)
      throw new GraphRequestError(404, "NotFound", `The meeting ${meeting.threadId} has ended.`);
    return meetings.joinPlan(meeting, app);
  }
  const callee = callees.calleeOf(body);
  return callee ? callees.callPlan(callee, app) : undefined;
}
