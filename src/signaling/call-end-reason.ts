/**
 * The end reason word of a placed call (CallEvent ended.reason) from Graph's resultInfo, per
 * Microsoft's call end reason codes (call-delete page). Not in that table, assumed: a callee's
 * decline is 603/*, a busy callee 486/* (the SIP codes), an organizer ending the meeting for
 * everyone is 200/5001.
 */
import type { ResultInfo } from "../graph/types.js";
import type { CallEndReason } from "../media/bot-api.js";

const REMOVED = new Set([5000, 5300]);
const REMOTE_ENDED = new Set([4097, 4521, 18503]);
const HUNG_UP = new Set([7000, 10550]);

/** `meeting`: the call joined a meeting (200/5001..5030 then mean the meeting ended). */
export function callEndReasonOf(result: ResultInfo | undefined, meeting: boolean): CallEndReason {
  if (result === undefined) return "failed";
  const { code, subcode } = result;
  if (code === 603) return "declined";
  if (code === 486) return "busy";
  if (code === 480 || (code === 408 && subcode === 10057)) return "unreachable";
  if (code !== 200) return "failed";
  if (REMOVED.has(subcode)) return "removed";
  if (subcode === 5855) return "lobbyTimeout";
  if (HUNG_UP.has(subcode)) return "hungUp";
  if (subcode === 7015) return "transferred";
  if (REMOTE_ENDED.has(subcode)) return "remoteEnded";
  if (subcode >= 5001 && subcode <= 5030) return meeting ? "meetingEnded" : "remoteEnded";
  return "failed";
}
