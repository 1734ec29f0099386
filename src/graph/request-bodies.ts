/**
 * Builds the JSON bodies of the Graph calls actions, validated against the v1.0 metadata
 * (shared/graph/calls-v1.0.csdl.xml) before anything is sent: parameter names and types as the
 * CSDL declares them, enum members it lists, and the documented limits (clientContext <= 256
 * characters, 1..25 redirect targets, redirect timeout 15..90 s, recordResponse timeouts 1..120 s)
 * and our own bounds for service-hosted media (https media URIs, GUID resource ids, at most
 * MAX_MEDIA_ITEMS files per request). Only declared parameters are
 * emitted; a wrong value throws InvalidRequestError naming the field.
 */
import { isGuid } from "../config/env-readers.js";
import type {
  AnswerRequest,
  CreateCallRequest,
  InvitationParticipantInfo,
  MediaInfo,
  MediaPrompt,
  RecordingStatus,
  RecordResponseRequest,
  RejectReason,
  TransferRequest,
} from "./types.js";

export class InvalidRequestError extends Error {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field} ${problem}`);
    this.name = "InvalidRequestError";
  }
}

/** graph.modality members a client may send (unknownFutureValue is the server's sentinel). */
const MODALITIES = new Set(["audio", "video", "videoBasedScreenSharing", "data"]);
const REJECT_REASONS = new Set<string>(["none", "busy", "forbidden"]);
const RECORDING_STATUSES = new Set<string>(["notRecording", "recording", "failed"]);
const MEETING_INFO_TYPES = new Set([
  "#microsoft.graph.organizerMeetingInfo",
  "#microsoft.graph.tokenMeetingInfo",
  "#microsoft.graph.joinMeetingIdMeetingInfo",
]);
/** graph.callOptions properties (the type is closed, so nothing else may be sent). */
const CALL_OPTION_FLAGS = [
  "hideBotAfterEscalation",
  "isContentSharingNotificationEnabled",
  "isDeltaRosterEnabled",
  "isInteractiveRosterEnabled",
];
const CHAT_INFO_KEYS = new Set(["threadId", "messageId", "replyChainMessageId"]);
const INT32_MAX = 2 ** 31 - 1;
/** Our bound on preFetchMedia entries and on the prompts of one request (Graph states none). */
export const MAX_MEDIA_ITEMS = 20;
/** Graph's documented range of recordResponse's three timeouts (seconds). */
const RECORD_SECONDS = { min: 1, max: 120 };
/** DTMF keys recordResponse's stopTones may name. */
const STOP_TONES = new Set(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#", "A", "B", "C", "D"]);
export const MAX_CLIENT_CONTEXT_LENGTH = 256;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function httpsUrl(field: string, value: unknown): string {
  if (typeof value !== "string" || value.trim() === "")
    throw new InvalidRequestError(field, "must be an https URL");
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new InvalidRequestError(field, `must be an https URL, got "${value.slice(0, 200)}"`);
  }
  if (url.protocol !== "https:") throw new InvalidRequestError(field, `must use https, got ${url.protocol}`);
  return value.trim();
}

function modalities(field: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidRequestError(field, "must be a non-empty array of modalities");
  }
  for (const item of value) {
    if (typeof item !== "string" || !MODALITIES.has(item)) {
      throw new InvalidRequestError(
        field,
        `holds "${String(item)}", not one of ${[...MODALITIES].join(", ")}`,
      );
    }
  }
  return [...new Set(value as string[])];
}

function mediaConfig(field: string, value: unknown): Json {
  if (isObject(value) && value["@odata.type"] === "#microsoft.graph.serviceHostedMediaConfig") {
    return serviceHostedMediaConfig(field, value);
  }
  if (!isObject(value) || value["@odata.type"] !== "#microsoft.graph.appHostedMediaConfig") {
    throw new InvalidRequestError(
      field,
      'must be {"@odata.type": "#microsoft.graph.appHostedMediaConfig", blob} or ' +
        '{"@odata.type": "#microsoft.graph.serviceHostedMediaConfig", preFetchMedia}',
    );
  }
  if (typeof value.blob !== "string" || value.blob === "") {
    throw new InvalidRequestError(`${field}.blob`, "must be a non-empty string");
  }
  return { "@odata.type": "#microsoft.graph.appHostedMediaConfig", blob: value.blob };
}

function serviceHostedMediaConfig(field: string, value: Json): Json {
  const config: Json = { "@odata.type": "#microsoft.graph.serviceHostedMediaConfig" };
  for (const key of Object.keys(value)) {
    if (key !== "@odata.type" && key !== "preFetchMedia") {
      throw new InvalidRequestError(`${field}.${key}`, "is not a serviceHostedMediaConfig property");
    }
  }
  if (value.preFetchMedia === undefined) return config;
  const items = mediaItems(`${field}.preFetchMedia`, value.preFetchMedia, 0);
  // The resource id is the cache key a prompt refers to later: required and unique here.
  const seen = new Set<string>();
  const media = items.map((item, index) => {
    const checked = mediaInfo(`${field}.preFetchMedia[${index}]`, item, true);
    const id = String(checked.resourceId).toLowerCase();
    if (seen.has(id)) {
      throw new InvalidRequestError(`${field}.preFetchMedia[${index}].resourceId`, `repeats ${id}`);
    }
    seen.add(id);
    return checked;
  });
  config.preFetchMedia = media;
  return config;
}

function mediaItems(field: string, value: unknown, min: number): unknown[] {
  if (!Array.isArray(value) || value.length < min || value.length > MAX_MEDIA_ITEMS) {
    throw new InvalidRequestError(field, `must be an array of ${min}..${MAX_MEDIA_ITEMS} entries`);
  }
  return value;
}

/** graph.mediaInfo: uri (https, required), resourceId (a GUID). */
function mediaInfo(field: string, value: unknown, resourceIdRequired: boolean): MediaInfo {
  if (!isObject(value)) throw new InvalidRequestError(field, "must be a mediaInfo object");
  for (const key of Object.keys(value)) {
    if (key !== "uri" && key !== "resourceId") {
      throw new InvalidRequestError(`${field}.${key}`, "is not a mediaInfo property");
    }
  }
  const info: MediaInfo = { uri: httpsUrl(`${field}.uri`, value.uri) };
  if (value.resourceId === undefined) {
    if (resourceIdRequired) throw new InvalidRequestError(`${field}.resourceId`, "is required (a GUID)");
    return info;
  }
  if (typeof value.resourceId !== "string" || !isGuid(value.resourceId)) {
    throw new InvalidRequestError(
      `${field}.resourceId`,
      `must be a GUID, got ${JSON.stringify(value.resourceId)?.slice(0, 80)}`,
    );
  }
  info.resourceId = value.resourceId;
  return info;
}

/** Collection(graph.prompt): mediaPrompt is v1.0's only concrete prompt. */
function prompts(field: string, value: unknown, min: number): MediaPrompt[] {
  return mediaItems(field, value, min).map((prompt, index) => {
    if (!isObject(prompt) || prompt["@odata.type"] !== "#microsoft.graph.mediaPrompt") {
      throw new InvalidRequestError(
        `${field}[${index}]`,
        'must be {"@odata.type": "#microsoft.graph.mediaPrompt", mediaInfo}',
      );
    }
    for (const key of Object.keys(prompt)) {
      if (key !== "@odata.type" && key !== "mediaInfo") {
        throw new InvalidRequestError(`${field}[${index}].${key}`, "is not a mediaPrompt property");
      }
    }
    return {
      "@odata.type": "#microsoft.graph.mediaPrompt",
      mediaInfo: mediaInfo(`${field}[${index}].mediaInfo`, prompt.mediaInfo, false),
    };
  });
}

function boolean(field: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw new InvalidRequestError(field, "must be a boolean");
  return value;
}

function identitySet(field: string, value: unknown): Json {
  if (!isObject(value)) throw new InvalidRequestError(field, "must be an identitySet object");
  let identities = 0;
  for (const [key, member] of Object.entries(value)) {
    if (key.startsWith("@odata.")) continue;
    if (member === null) continue;
    if (!isObject(member)) throw new InvalidRequestError(`${field}.${key}`, "must be an identity object");
    for (const name of ["id", "displayName"]) {
      if (member[name] !== undefined && typeof member[name] !== "string") {
        throw new InvalidRequestError(`${field}.${key}.${name}`, "must be a string");
      }
    }
    identities += 1;
  }
  if (identities === 0) throw new InvalidRequestError(field, "must name at least one identity");
  return value;
}

function invitationTargets(field: string, value: unknown, max: number): InvitationParticipantInfo[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > max) {
    throw new InvalidRequestError(field, `must be an array of 1..${max} invitationParticipantInfo`);
  }
  return value.map((target, index) => {
    if (!isObject(target)) throw new InvalidRequestError(`${field}[${index}]`, "must be an object");
    identitySet(`${field}[${index}].identity`, target.identity);
    return target as InvitationParticipantInfo;
  });
}

function int32(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidRequestError(field, `must be an integer in ${min}..${max}, got ${String(value)}`);
  }
  return value;
}

/** clientContext: Edm.String, at most 256 characters; undefined stays absent. */
export function clientContext(field: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw new InvalidRequestError(field, "must be a string");
  if (value.length > MAX_CLIENT_CONTEXT_LENGTH) {
    throw new InvalidRequestError(
      field,
      `must be at most ${MAX_CLIENT_CONTEXT_LENGTH} characters, got ${value.length}`,
    );
  }
  return value;
}

/** A call id as it goes into a URL path: trimmed (payloads carry stray whitespace), bounded. */
export function callIdSegment(callId: unknown): string {
  if (typeof callId !== "string") throw new InvalidRequestError("callId", "must be a string");
  const id = callId.trim();
  if (id === "" || id.length > 256 || hasControlCharacter(id)) {
    throw new InvalidRequestError("callId", "must be 1..256 printable characters");
  }
  return encodeURIComponent(id);
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** answer(callbackUri, mediaConfig, acceptedModalities, participantCapacity, callOptions). */
export function answerBody(request: AnswerRequest): Json {
  if (!isObject(request)) throw new InvalidRequestError("answer", "body must be an object");
  const body: Json = {
    callbackUri: httpsUrl("callbackUri", request.callbackUri),
    mediaConfig: mediaConfig("mediaConfig", request.mediaConfig),
    acceptedModalities: modalities("acceptedModalities", request.acceptedModalities),
  };
  if (request.participantCapacity !== undefined) {
    body.participantCapacity = int32("participantCapacity", request.participantCapacity, 0, INT32_MAX);
  }
  if (request.callOptions !== undefined) body.callOptions = incomingCallOptions(request.callOptions);
  return body;
}

function incomingCallOptions(value: unknown): Json {
  if (!isObject(value) || value["@odata.type"] !== "#microsoft.graph.incomingCallOptions") {
    throw new InvalidRequestError(
      "callOptions",
      'must have "@odata.type": "#microsoft.graph.incomingCallOptions"',
    );
  }
  const options: Json = { "@odata.type": "#microsoft.graph.incomingCallOptions" };
  for (const [key, flag] of Object.entries(value)) {
    if (key === "@odata.type") continue;
    if (!CALL_OPTION_FLAGS.includes(key)) {
      throw new InvalidRequestError(`callOptions.${key}`, "is not a callOptions property");
    }
    if (typeof flag !== "boolean") throw new InvalidRequestError(`callOptions.${key}`, "must be a boolean");
    options[key] = flag;
  }
  return options;
}

/** reject(reason, callbackUri). */
export function rejectBody(reason: RejectReason, callbackUri: string | undefined): Json {
  if (typeof reason !== "string" || !REJECT_REASONS.has(reason)) {
    throw new InvalidRequestError("reason", `must be one of none, busy, forbidden, got "${String(reason)}"`);
  }
  const body: Json = { reason };
  if (callbackUri !== undefined) body.callbackUri = httpsUrl("callbackUri", callbackUri);
  return body;
}

/** redirect(targets, timeout, callbackUri). */
export function redirectBody(
  targets: InvitationParticipantInfo[],
  timeoutSeconds: number | undefined,
  callbackUri: string | undefined,
): Json {
  const body: Json = { targets: invitationTargets("targets", targets, 25) };
  if (timeoutSeconds !== undefined) body.timeout = int32("timeout", timeoutSeconds, 15, 90);
  if (callbackUri !== undefined) body.callbackUri = httpsUrl("callbackUri", callbackUri);
  return body;
}

/** updateRecordingStatus(status, clientContext). */
export function recordingStatusBody(status: RecordingStatus, context: string | undefined): Json {
  if (typeof status !== "string" || !RECORDING_STATUSES.has(status)) {
    throw new InvalidRequestError(
      "status",
      `must be one of notRecording, recording, failed, got "${String(status)}"`,
    );
  }
  const body: Json = { status };
  const checked = clientContext("clientContext", context);
  if (checked !== undefined) body.clientContext = checked;
  return body;
}

/**
 * POST /communications/calls: a graph.call (an open type, so extra properties pass through)
 * with callbackUri, requestedModalities, mediaConfig, and targets or meetingInfo.
 */
export function createCallBody(request: CreateCallRequest): Json {
  if (!isObject(request)) throw new InvalidRequestError("call", "body must be an object");
  if (request["@odata.type"] !== "#microsoft.graph.call") {
    throw new InvalidRequestError("@odata.type", 'must be "#microsoft.graph.call"');
  }
  const body: Json = {
    ...request,
    callbackUri: httpsUrl("callbackUri", request.callbackUri),
    requestedModalities: modalities("requestedModalities", request.requestedModalities),
    mediaConfig: mediaConfig("mediaConfig", request.mediaConfig),
  };
  if (request.targets === undefined && request.meetingInfo === undefined) {
    throw new InvalidRequestError("targets", "or meetingInfo is required");
  }
  if (request.targets !== undefined) invitationTargets("targets", request.targets, 25);
  if (request.meetingInfo !== undefined) meetingInfo(request.meetingInfo, request.chatInfo);
  if (request.chatInfo !== undefined) {
    if (!isObject(request.chatInfo)) throw new InvalidRequestError("chatInfo", "must be an object");
    for (const [key, value] of Object.entries(request.chatInfo)) {
      if (key.startsWith("@odata.")) continue;
      if (!CHAT_INFO_KEYS.has(key))
        throw new InvalidRequestError(`chatInfo.${key}`, "is not a chatInfo property");
      if (value !== undefined && typeof value !== "string") {
        throw new InvalidRequestError(`chatInfo.${key}`, "must be a string");
      }
    }
  }
  if (request.source !== undefined) {
    if (!isObject(request.source))
      throw new InvalidRequestError("source", "must be a participantInfo object");
    identitySet("source.identity", request.source.identity);
  }
  if (
    request.tenantId !== undefined &&
    (typeof request.tenantId !== "string" || request.tenantId.trim() === "")
  ) {
    throw new InvalidRequestError("tenantId", "must be a non-empty string");
  }
  return body;
}

/**
 * meetingInfo is abstract: one of its derived types, with that type's non-nullable property.
 * organizerMeetingInfo names the meeting only together with chatInfo (Graph's meetingInfo docs).
 */
function meetingInfo(value: unknown, chatInfo: unknown): void {
  const type = isObject(value) ? value["@odata.type"] : undefined;
  if (!isObject(value) || typeof type !== "string" || !MEETING_INFO_TYPES.has(type)) {
    throw new InvalidRequestError(
      "meetingInfo",
      `must have "@odata.type" one of ${[...MEETING_INFO_TYPES].join(", ")}`,
    );
  }
  if (type === "#microsoft.graph.organizerMeetingInfo") {
    identitySet("meetingInfo.organizer", value.organizer);
    if (!isObject(chatInfo))
      throw new InvalidRequestError("chatInfo", "is required with organizerMeetingInfo");
    if (typeof chatInfo.threadId !== "string" || chatInfo.threadId.trim() === "") {
      throw new InvalidRequestError("chatInfo.threadId", "is required with organizerMeetingInfo");
    }
  } else {
    const property = type === "#microsoft.graph.tokenMeetingInfo" ? "token" : "joinMeetingId";
    const member = value[property];
    if (typeof member !== "string" || member.trim() === "") {
      throw new InvalidRequestError(`meetingInfo.${property}`, "must be a non-empty string");
    }
  }
}

function withClientContext(body: Json, context: unknown): Json {
  const checked = clientContext("clientContext", context);
  if (checked !== undefined) body.clientContext = checked;
  return body;
}

/** playPrompt(prompts, clientContext): 1..MAX_MEDIA_ITEMS media prompts. */
export function playPromptBody(promptList: MediaPrompt[], context: string | undefined): Json {
  return withClientContext({ prompts: prompts("prompts", promptList, 1) }, context);
}

/**
 * recordResponse(prompts, bargeInAllowed, initialSilenceTimeoutInSeconds,
 * maxSilenceTimeoutInSeconds, maxRecordDurationInSeconds, playBeep, stopTones, clientContext).
 */
export function recordResponseBody(request: RecordResponseRequest): Json {
  if (!isObject(request)) throw new InvalidRequestError("recordResponse", "body must be an object");
  const body: Json = {};
  if (request.prompts !== undefined) body.prompts = prompts("prompts", request.prompts, 0);
  for (const flag of ["bargeInAllowed", "playBeep"] as const) {
    if (request[flag] !== undefined) body[flag] = boolean(flag, request[flag]);
  }
  for (const seconds of [
    "initialSilenceTimeoutInSeconds",
    "maxSilenceTimeoutInSeconds",
    "maxRecordDurationInSeconds",
  ] as const) {
    if (request[seconds] !== undefined) {
      body[seconds] = int32(seconds, request[seconds], RECORD_SECONDS.min, RECORD_SECONDS.max);
    }
  }
  if (request.stopTones !== undefined) {
    if (!Array.isArray(request.stopTones) || request.stopTones.length > STOP_TONES.size) {
      throw new InvalidRequestError("stopTones", `must be an array of at most ${STOP_TONES.size} keys`);
    }
    for (const tone of request.stopTones) {
      if (typeof tone !== "string" || !STOP_TONES.has(tone)) {
        throw new InvalidRequestError("stopTones", `holds ${JSON.stringify(tone)}, not one of 0-9 * # A-D`);
      }
    }
    body.stopTones = [...new Set(request.stopTones)];
  }
  return withClientContext(body, request.clientContext);
}

/** invitationParticipantInfo's declared properties besides identity (the type is open). */
const INVITATION_FLAGS = ["hidden", "removeFromDefaultAudioRoutingGroup"] as const;
const INVITATION_STRINGS = ["participantId", "replacesCallId"] as const;
/** participantInfo (a closed type) properties a client may send besides identity. */
const PARTICIPANT_INFO_STRINGS = ["countryCode", "endpointType", "languageId", "participantId", "region"];
/** Our bound on one invite's participants (Graph states none). */
export const MAX_INVITED_PARTICIPANTS = 10;

/** graph.invitationParticipantInfo: identity required, declared properties typed. */
function invitationParticipant(field: string, value: unknown): InvitationParticipantInfo {
  if (!isObject(value)) throw new InvalidRequestError(field, "must be an invitationParticipantInfo object");
  const target: Json = { ...value, identity: identitySet(`${field}.identity`, value.identity) };
  for (const flag of INVITATION_FLAGS)
    if (value[flag] !== undefined) target[flag] = boolean(`${field}.${flag}`, value[flag]);
  for (const name of INVITATION_STRINGS) {
    if (value[name] !== undefined && typeof value[name] !== "string")
      throw new InvalidRequestError(`${field}.${name}`, "must be a string");
  }
  return target as InvitationParticipantInfo;
}

/** transfer(transferTarget, transferee?): transferee is a participantInfo (consultative transfer). */
export function transferBody(request: TransferRequest): Json {
  if (!isObject(request)) throw new InvalidRequestError("transfer", "body must be an object");
  const body: Json = { transferTarget: invitationParticipant("transferTarget", request.transferTarget) };
  if (request.transferee !== undefined) {
    const transferee = request.transferee;
    if (!isObject(transferee))
      throw new InvalidRequestError("transferee", "must be a participantInfo object");
    for (const key of Object.keys(transferee)) {
      if (key === "@odata.type" || key === "identity") continue;
      if (!PARTICIPANT_INFO_STRINGS.includes(key))
        throw new InvalidRequestError(`transferee.${key}`, "is not a participantInfo property");
      if (typeof transferee[key] !== "string")
        throw new InvalidRequestError(`transferee.${key}`, "must be a string");
    }
    body.transferee = { ...transferee, identity: identitySet("transferee.identity", transferee.identity) };
  }
  return body;
}

/** invite(participants, clientContext), bound to a call's participants collection. */
export function inviteBody(participants: InvitationParticipantInfo[], context: string | undefined): Json {
  if (
    !Array.isArray(participants) ||
    participants.length === 0 ||
    participants.length > MAX_INVITED_PARTICIPANTS
  ) {
    throw new InvalidRequestError(
      "participants",
      `must be an array of 1..${MAX_INVITED_PARTICIPANTS} invitationParticipantInfo`,
    );
  }
  const list = participants.map((item, index) => invitationParticipant(`participants[${index}]`, item));
  return withClientContext({ participants: list }, context);
}

/** subscribeToTone(clientContext) and cancelMediaProcessing(clientContext). */
export function clientContextBody(context: string | undefined): Json {
  return withClientContext({}, context);
}
