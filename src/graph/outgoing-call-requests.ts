/**
 * Bodies of POST /communications/calls for the calls the bot places with app-hosted media:
 * joining a meeting (by join link, by chat + organizer, by meeting id + passcode) and calling a
 * user peer-to-peer. Shapes as Graph v1.0 defines them (calls-v1.0.csdl.xml: call, chatInfo,
 * organizerMeetingInfo, joinMeetingIdMeetingInfo, invitationParticipantInfo) and as Graph's
 * create-call examples send them; every body also passes createCallBody (request-bodies.ts), which
 * GraphClient.createCall runs again before sending.
 */
import { type MeetingJoinInfo, parseMeetingJoinUrl } from "./meeting-join-url.js";
import { createCallBody, InvalidRequestError } from "./request-bodies.js";
import type { CreateCallRequest, Modality, ParticipantInfo } from "./types.js";

/** What every outgoing call needs besides whom it reaches. */
export interface OutgoingCallOptions {
  /** https URL Graph posts the call's notifications to. */
  callbackUri: string;
  /** The app-hosted media session blob (serializeMediaBlob of the call's media configuration). */
  mediaBlob: string;
  /** Default ["audio"]. */
  requestedModalities?: Modality[];
  /** The bot as the call's source (optional: Graph fills in the calling application). */
  source?: ParticipantInfo;
}

/** A meeting's chat and organizer, as a join link carries them or as the app already knows them. */
export interface MeetingChatInfo {
  threadId: string;
  messageId: string;
  replyChainMessageId?: string;
  organizerId: string;
  tenantId: string;
}

export interface MeetingIdJoin {
  /** The meeting id as shown in the invitation ("123 456 789 012"); spaces are removed. */
  joinMeetingId: string;
  passcode?: string;
  /** The bot's tenant, sent as the call's tenantId. */
  tenantId: string;
}

export interface UserCallTarget {
  /** The callee's Entra user id. */
  userId: string;
  /** The callee's tenant. */
  tenantId: string;
  displayName?: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MEETING_ID = /^\d{1,32}$/;
const MAX_PASSCODE_LENGTH = 64;

function guid(field: string, value: unknown): string {
  if (typeof value !== "string" || !GUID.test(value.trim())) {
    throw new InvalidRequestError(field, `must be a GUID, got ${JSON.stringify(String(value)).slice(0, 80)}`);
  }
  return value.trim();
}

function nonEmpty(field: string, value: unknown): string {
  if (typeof value !== "string" || value.trim() === "")
    throw new InvalidRequestError(field, "must be a non-empty string");
  return value.trim();
}

function baseCall(options: OutgoingCallOptions): CreateCallRequest {
  return {
    "@odata.type": "#microsoft.graph.call",
    callbackUri: options.callbackUri,
    requestedModalities: options.requestedModalities ?? ["audio"],
    mediaConfig: { "@odata.type": "#microsoft.graph.appHostedMediaConfig", blob: options.mediaBlob },
    ...(options.source !== undefined ? { source: options.source } : {}),
  };
}

/** Join a meeting by its chat thread and organizer (chatInfo + organizerMeetingInfo). */
export function joinMeetingByChatInfoRequest(
  meeting: MeetingChatInfo,
  options: OutgoingCallOptions,
): CreateCallRequest {
  const tenantId = guid("tenantId", meeting.tenantId);
  const replyChain =
    meeting.replyChainMessageId === undefined
      ? {}
      : { replyChainMessageId: nonEmpty("chatInfo.replyChainMessageId", meeting.replyChainMessageId) };
  const request: CreateCallRequest = {
    ...baseCall(options),
    chatInfo: {
      threadId: nonEmpty("chatInfo.threadId", meeting.threadId),
      messageId: nonEmpty("chatInfo.messageId", meeting.messageId),
      ...replyChain,
    },
    meetingInfo: {
      "@odata.type": "#microsoft.graph.organizerMeetingInfo",
      organizer: {
        "@odata.type": "#microsoft.graph.identitySet",
        // identity is an open type; Graph's examples name the organizer's tenant this way.
        user: {
          "@odata.type": "#microsoft.graph.identity",
          id: guid("meetingInfo.organizer.user.id", meeting.organizerId),
          tenantId,
        },
      },
    },
    tenantId,
  };
  createCallBody(request);
  return request;
}

/** Join a meeting by its join link (parsed by parseMeetingJoinUrl; MeetingJoinUrlError if it is not one). */
export function joinMeetingByUrlRequest(
  joinUrl: string | MeetingJoinInfo,
  options: OutgoingCallOptions,
): CreateCallRequest {
  const info = typeof joinUrl === "string" ? parseMeetingJoinUrl(joinUrl) : joinUrl;
  return joinMeetingByChatInfoRequest(info, options);
}

/** Join a meeting by its meeting id and passcode (joinMeetingIdMeetingInfo; no chatInfo). */
export function joinMeetingByIdRequest(
  meeting: MeetingIdJoin,
  options: OutgoingCallOptions,
): CreateCallRequest {
  const joinMeetingId =
    typeof meeting.joinMeetingId === "string" ? meeting.joinMeetingId.replace(/\s+/g, "") : "";
  if (!MEETING_ID.test(joinMeetingId)) {
    throw new InvalidRequestError("meetingInfo.joinMeetingId", "must be the meeting's numeric id");
  }
  const meetingInfo: CreateCallRequest["meetingInfo"] = {
    "@odata.type": "#microsoft.graph.joinMeetingIdMeetingInfo",
    joinMeetingId,
  };
  if (meeting.passcode !== undefined) {
    const passcode = nonEmpty("meetingInfo.passcode", meeting.passcode);
    if (passcode.length > MAX_PASSCODE_LENGTH) {
      throw new InvalidRequestError(
        "meetingInfo.passcode",
        `must be at most ${MAX_PASSCODE_LENGTH} characters`,
      );
    }
    meetingInfo.passcode = passcode;
  }
  const request: CreateCallRequest = {
    ...baseCall(options),
    meetingInfo,
    tenantId: guid("tenantId", meeting.tenantId),
  };
  createCallBody(request);
  return request;
}

/** Call a user peer-to-peer (one invitationParticipantInfo target). */
export function callUserRequest(target: UserCallTarget, options: OutgoingCallOptions): CreateCallRequest {
  const tenantId = guid("tenantId", target.tenantId);
  const user: Record<string, unknown> = {
    "@odata.type": "#microsoft.graph.identity",
    id: guid("targets[0].identity.user.id", target.userId),
    tenantId,
  };
  if (target.displayName !== undefined)
    user.displayName = nonEmpty("targets[0].identity.user.displayName", target.displayName);
  const request: CreateCallRequest = {
    ...baseCall(options),
    targets: [
      {
        "@odata.type": "#microsoft.graph.invitationParticipantInfo",
        identity: { "@odata.type": "#microsoft.graph.identitySet", user },
      },
    ],
    tenantId,
  };
  createCallBody(request);
  return request;
}
