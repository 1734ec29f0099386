/**
 * Builds the JSON bodies of the Graph calls actions, validated against the v1.0 metadata
 * (shared/graph/calls-v1.0.csdl.xml) before anything is sent: parameter names and types as the
 * CSDL declares them, enum members it lists, and the documented limits (clientContext <= 256
 * characters, 1..25 redirect targets, redirect timeout 15..90 s). Only declared parameters are
 * emitted; a wrong value throws InvalidRequestError naming the field.
 */
import type {
  AnswerRequest,
  CreateCallRequest,
  InvitationParticipantInfo,
  RecordingStatus,
  RejectReason,
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
  if (!isObject(value) || value["@odata.type"] !== "#microsoft.graph.appHostedMediaConfig") {
    throw new InvalidRequestError(
      field,
      'must be {"@odata.type": "#microsoft.graph.appHostedMediaConfig", blob}',
    );
  }
  if (typeof value.blob !== "string" || value.blob === "") {
    throw new InvalidRequestError(`${field}.blob`, "must be a non-empty string");
  }
  return { "@odata.type": "#microsoft.graph.appHostedMediaConfig", blob: value.blob };
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
