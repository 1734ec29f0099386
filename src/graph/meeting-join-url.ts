/**
 * Parses a Teams meeting join link into what Graph needs to join the meeting (chatInfo +
 * organizerMeetingInfo):
 *
 *   https://teams.microsoft.com/l/meetup-join/<threadId, URL-encoded>/<messageId>
 *     ?context={"Tid":"<tenant id>","Oid":"<organizer's user id>"[,"MessageId":"<reply chain>"]}
 *
 * The context is usually URL-encoded, sometimes twice (links passed through mail "safe links").
 * Government clouds use teams.microsoft.us, gov.teams.microsoft.us and dod.teams.microsoft.us;
 * teams.cloud.microsoft is the newer commercial host. Consumer links (teams.live.com) and the
 * short /meet/<id> links carry no thread or organizer, so they are refused with a reason.
 */

import { isGuid } from "../config/env-readers.js";

/** What a join link says: Graph's chatInfo and the organizer of organizerMeetingInfo. */
export interface MeetingJoinInfo {
  /** chatInfo.threadId, decoded: `19:meeting_...@thread.v2`. */
  threadId: string;
  /** chatInfo.messageId: `0` for a scheduled meeting, the channel post's id for a channel meeting. */
  messageId: string;
  /** The meeting's tenant (context.Tid). */
  tenantId: string;
  /** The organizer's Entra user id (context.Oid). */
  organizerId: string;
  /** chatInfo.replyChainMessageId, when the context names one (context.MessageId). */
  replyChainMessageId?: string;
}

/** A string that is not a Teams meeting join link; `problem` says what is wrong with it. */
export class MeetingJoinUrlError extends Error {
  constructor(readonly problem: string) {
    super(`not a Teams meeting join link: ${problem}`);
    this.name = "MeetingJoinUrlError";
  }
}

const TEAMS_HOSTS = new Set([
  "teams.microsoft.com",
  "teams.cloud.microsoft",
  "teams.microsoft.us",
  "gov.teams.microsoft.us",
  "dod.teams.microsoft.us",
]);
/** Join links are a few hundred characters; a bound keeps a pasted document from being parsed. */
export const MAX_JOIN_URL_LENGTH = 4096;
/** Teams thread ids: `19:<id>@thread.<kind>` (v2 for meetings, tacv2/skype for channels). */
const THREAD_ID = /^19:[^\s/?#@]+@thread\.[a-z0-9]+$/i;
const MESSAGE_ID = /^\d{1,20}$/;

function decoded(field: string, text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new MeetingJoinUrlError(`the ${field} is not valid URL encoding`);
  }
}

function quoted(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

/** The meeting's thread, message, tenant and organizer, or MeetingJoinUrlError saying why not. */
export function parseMeetingJoinUrl(joinUrl: unknown): MeetingJoinInfo {
  if (typeof joinUrl !== "string") throw new MeetingJoinUrlError("it is not a string");
  const text = joinUrl.trim();
  if (text === "") throw new MeetingJoinUrlError("it is empty");
  if (text.length > MAX_JOIN_URL_LENGTH) {
    throw new MeetingJoinUrlError(`it is ${text.length} characters, more than ${MAX_JOIN_URL_LENGTH}`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new MeetingJoinUrlError(`${quoted(text)} is not a URL`);
  }
  if (url.protocol !== "https:") throw new MeetingJoinUrlError(`it uses ${url.protocol}, not https:`);
  const host = url.hostname.toLowerCase();
  if (host === "teams.live.com") {
    throw new MeetingJoinUrlError(
      "teams.live.com links are Teams (free) meetings, which Graph bots cannot join",
    );
  }
  if (!TEAMS_HOSTS.has(host)) {
    throw new MeetingJoinUrlError(
      `host ${quoted(host)} is not a Teams host (${[...TEAMS_HOSTS].join(", ")})`,
    );
  }
  const segments = url.pathname.split("/").filter((segment) => segment !== "");
  if (segments[0]?.toLowerCase() === "meet") {
    throw new MeetingJoinUrlError(
      "a /meet/ link carries only a meeting id; join with the meeting id and passcode instead",
    );
  }
  if (segments[0]?.toLowerCase() !== "l" || segments[1]?.toLowerCase() !== "meetup-join") {
    throw new MeetingJoinUrlError(`path ${quoted(url.pathname)} does not start with /l/meetup-join/`);
  }
  if (segments.length !== 4) {
    throw new MeetingJoinUrlError(
      `path ${quoted(url.pathname)} must be /l/meetup-join/<thread id>/<message id>`,
    );
  }
  const threadId = decoded("thread id", segments[2] as string);
  if (!THREAD_ID.test(threadId)) {
    throw new MeetingJoinUrlError(`thread id ${quoted(threadId)} is not of the form 19:…@thread.…`);
  }
  const messageId = decoded("message id", segments[3] as string);
  if (!MESSAGE_ID.test(messageId)) {
    throw new MeetingJoinUrlError(`message id ${quoted(messageId)} is not a number`);
  }
  const context = parseContext(url.searchParams.get("context"));
  return {
    threadId,
    messageId,
    tenantId: context.tenantId,
    organizerId: context.organizerId,
    ...(context.replyChainMessageId !== undefined
      ? { replyChainMessageId: context.replyChainMessageId }
      : {}),
  };
}

interface JoinContext {
  tenantId: string;
  organizerId: string;
  replyChainMessageId?: string;
}

function parseContext(raw: string | null): JoinContext {
  if (raw === null) throw new MeetingJoinUrlError("it has no context parameter (tenant and organizer)");
  // URLSearchParams decoded it once; a link encoded twice still starts with %7B.
  const text = /^\s*%7b/i.test(raw) ? decoded("context", raw) : raw;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new MeetingJoinUrlError(`context ${quoted(text)} is not JSON`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new MeetingJoinUrlError("context is not a JSON object");
  }
  const fields = value as Record<string, unknown>;
  const tenantId = fields.Tid;
  const organizerId = fields.Oid;
  if (typeof tenantId !== "string" || !isGuid(tenantId)) {
    throw new MeetingJoinUrlError("context.Tid (the tenant id) is missing or not a GUID");
  }
  if (typeof organizerId !== "string" || !isGuid(organizerId)) {
    throw new MeetingJoinUrlError("context.Oid (the organizer's user id) is missing or not a GUID");
  }
  const replyChain = fields.MessageId;
  if (replyChain !== undefined && (typeof replyChain !== "string" || !MESSAGE_ID.test(replyChain))) {
    throw new MeetingJoinUrlError("context.MessageId (the reply chain) is not a number");
  }
  return {
    tenantId,
    organizerId,
    ...(replyChain !== undefined ? { replyChainMessageId: replyChain } : {}),
  };
}
