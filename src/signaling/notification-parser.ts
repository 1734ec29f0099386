/**
 * Tolerant parsing of Graph commsNotifications batches into typed events.
 * Payloads in the wild differ from the docs (PascalCase enums, numeric strings, stray
 * whitespace, legacy resource paths, object-or-array resourceData), so every field is read
 * defensively and one bad item never loses the rest of the batch.
 */
import type { CallState, Participant, ResultInfo } from "../graph/types.js";
import type { RosterChangeType } from "./call-roster.js";

/** Graph call states as the parser reports them; anything else becomes "unknown". */
export type NotifiedCallState = CallState | "unknown";

const CALL_STATES: readonly CallState[] = [
  "incoming",
  "establishing",
  "ringing",
  "established",
  "hold",
  "transferring",
  "transferAccepted",
  "redirecting",
  "terminating",
  "terminated",
];

export interface IncomingCallEvent {
  kind: "incomingCall";
  callId: string;
  tenantId?: string;
  callChainId?: string;
  myParticipantId?: string;
  /** AAD user id of the meeting's organizer (meetingInfo.organizer.user.id), for meetings. */
  organizerId?: string;
  requestedModalities: string[];
  /** Who is calling (participantInfo), as received. */
  source?: Record<string, unknown>;
  targets?: Record<string, unknown>[];
  isMeeting: boolean;
  /** The whole resourceData, kept for handlers that need more. */
  resource: Record<string, unknown>;
}

export interface CallStateEvent {
  kind: "callState";
  callId: string;
  state: NotifiedCallState;
  /** The state exactly as received (for logs when it is "unknown"). */
  rawState: string;
}

export interface CallEndedEvent {
  kind: "callEnded";
  callId: string;
  resultInfo?: ResultInfo;
  terminationReason?: string;
}

export interface ToneEvent {
  kind: "tone";
  callId: string;
  tone: string;
  sequenceId?: number;
}

export interface RosterEvent {
  kind: "roster";
  callId: string;
  /** updated: the full roster; created: these joined (or changed); deleted: these left. */
  changeType: RosterChangeType;
  /** The highest rosterSequenceNumber (Int64) among the participants, when Graph sent one. */
  sequenceNumber?: bigint;
  participants: Participant[];
}

export interface OperationCompletedEvent {
  kind: "operationCompleted";
  callId: string;
  operationId: string;
  /** notStarted, running, completed, failed, or unknown. */
  status: string;
  operationType?: string;
  clientContext?: string;
  resultInfo?: ResultInfo;
  /** recordOperation's: where Graph keeps the recording and the token to fetch it (a secret). */
  recordingLocation?: string;
  recordingAccessToken?: string;
  completionReason?: string;
}

export type SignalingEvent =
  | IncomingCallEvent
  | CallStateEvent
  | CallEndedEvent
  | ToneEvent
  | RosterEvent
  | OperationCompletedEvent;

/** One notification that produced no event, and why. */
export interface SkippedNotification {
  index: number;
  /** "unknown": well-formed but of a kind the bot does not handle; "invalid": unusable. */
  outcome: "unknown" | "invalid";
  reason: string;
  callId?: string;
  /** Set for a participants (roster) notification. */
  roster?: true;
}

export interface ParsedBatch {
  events: SignalingEvent[];
  skipped: SkippedNotification[];
}

export class NotificationEnvelopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotificationEnvelopeError";
  }
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * The notifications of a request body: `{value: [...]}` (the documented shape) or a single
 * notification object. Throws NotificationEnvelopeError when the body is neither; cheap enough
 * to run before acknowledging the request.
 */
export function notificationItems(body: unknown): unknown[] {
  if (!isObject(body)) throw new NotificationEnvelopeError("body must be a JSON object");
  const value = body.value ?? body.Value;
  if (Array.isArray(value)) return value;
  if (value !== undefined) throw new NotificationEnvelopeError("value must be an array of notifications");
  if ("changeType" in body || "resourceUrl" in body || "resource" in body) return [body];
  throw new NotificationEnvelopeError("body holds no notifications (expected a value array)");
}

/** Parses a whole batch; never throws for item content (only for a bad envelope). */
export function parseNotificationBatch(body: unknown): ParsedBatch {
  const items = notificationItems(body);
  const batch: ParsedBatch = { events: [], skipped: [] };
  items.forEach((item, index) => {
    try {
      const result = parseNotification(item);
      if ("events" in result) batch.events.push(...result.events);
      else batch.skipped.push({ index, ...result });
    } catch (error) {
      // A parser bug on a weird item must not lose the other items.
      batch.skipped.push({ index, outcome: "invalid", reason: `parser error: ${(error as Error).message}` });
    }
  });
  return batch;
}

type ItemResult = { events: SignalingEvent[] } | Omit<SkippedNotification, "index">;

/** Parses one commsNotification. */
export function parseNotification(item: unknown): ItemResult {
  if (!isObject(item)) return { outcome: "invalid", reason: "notification is not an object" };
  const changeType = enumValue(item.changeType);
  const path = resourcePath(item);
  if (!path) return { outcome: "invalid", reason: "no resourceUrl/resource naming a call" };
  const { callId } = path;
  const data = item.resourceData;

  if (path.sub === "participants") {
    const list = Array.isArray(data) ? data : isObject(data) ? [data] : [];
    const participants = list
      .filter(isObject)
      .map(participant)
      .filter((p): p is Participant => p !== null);
    if (list.length > 0 && participants.length === 0)
      return { outcome: "invalid", reason: "roster holds no participant with an id", callId, roster: true };
    // A roster notification without a changeType is taken as the full roster (the old reading).
    const rosterChange = changeType ?? "updated";
    if (rosterChange !== "updated" && rosterChange !== "created" && rosterChange !== "deleted")
      return {
        outcome: "invalid",
        reason: `roster changeType ${rosterChange.slice(0, 32)} unknown`,
        callId,
        roster: true,
      };
    const sequenceNumber = highestSequenceNumber(participants);
    return {
      events: [
        {
          kind: "roster",
          callId,
          changeType: rosterChange,
          ...(sequenceNumber === undefined ? {} : { sequenceNumber }),
          participants,
        },
      ],
    };
  }

  const resource = firstObject(data);

  if (path.sub === "operations") {
    const operationId = path.subId ?? trimmed(resource?.id);
    if (!operationId) return { outcome: "invalid", reason: "operation without id", callId };
    const status = enumValue(resource?.status) ?? (changeType === "deleted" ? "completed" : "unknown");
    return {
      events: [
        {
          kind: "operationCompleted",
          callId,
          operationId,
          status,
          operationType: odataType(resource?.["@odata.type"]),
          clientContext: typeof resource?.clientContext === "string" ? resource.clientContext : undefined,
          resultInfo: resultInfo(resource?.resultInfo),
          ...optionalStrings(resource, ["recordingLocation", "recordingAccessToken", "completionReason"]),
        },
      ],
    };
  }
  if (path.sub !== undefined)
    return { outcome: "unknown", reason: `resource /${path.sub} not handled`, callId };

  const rawState = typeof resource?.state === "string" ? resource.state.trim() : undefined;
  const state = rawState === undefined ? undefined : callState(rawState);

  if (changeType === "deleted" || state === "terminated") {
    return {
      events: [
        {
          kind: "callEnded",
          callId,
          resultInfo: resultInfo(resource?.resultInfo),
          terminationReason:
            typeof resource?.terminationReason === "string" ? resource.terminationReason : undefined,
        },
      ],
    };
  }
  if (!resource) return { outcome: "invalid", reason: "call notification without resourceData", callId };

  const direction = enumValue(resource.direction);
  if (
    changeType === "created" &&
    (state === "incoming" || (state === undefined && direction === "incoming"))
  ) {
    return { events: [incomingCall(callId, resource)] };
  }

  const events: SignalingEvent[] = [];
  const tone = toneInfo(resource.toneInfo);
  if (tone) events.push({ kind: "tone", callId, ...tone });
  if (rawState !== undefined && state !== undefined)
    events.push({ kind: "callState", callId, state, rawState });
  if (events.length > 0) return { events };
  return { outcome: "unknown", reason: `call ${changeType ?? "notification"} without state or tone`, callId };
}

/** The named string fields of `resource` that are present. */
function optionalStrings<K extends string>(
  resource: Json | undefined,
  keys: readonly K[],
): Partial<Record<K, string>> {
  const found: Partial<Record<K, string>> = {};
  for (const key of keys) {
    const value = resource?.[key];
    if (typeof value === "string" && value !== "") found[key] = value;
  }
  return found;
}

function incomingCall(callId: string, resource: Json): IncomingCallEvent {
  const modalities = Array.isArray(resource.requestedModalities)
    ? resource.requestedModalities.map(enumValue).filter((m): m is string => m !== undefined)
    : [];
  return {
    kind: "incomingCall",
    callId,
    tenantId: trimmed(resource.tenantId),
    callChainId: trimmed(resource.callChainId),
    myParticipantId: trimmed(resource.myParticipantId),
    organizerId: meetingOrganizerId(resource.meetingInfo),
    requestedModalities: modalities,
    source: isObject(resource.source) ? resource.source : undefined,
    targets: Array.isArray(resource.targets) ? resource.targets.filter(isObject) : undefined,
    isMeeting: isObject(resource.meetingInfo) || isObject(resource.chatInfo),
    resource,
  };
}

interface ResourcePath {
  callId: string;
  sub?: string;
  subId?: string;
}

/** `.../calls/{id}[/participants|/operations/{opId}]`, any prefix (`/communications`, `/app`, `/v1.0/...`). */
const CALL_PATH = /\/calls\/([^/?#]+)(?:\/([^/?#]+)(?:\/([^/?#]+))?)?\/?(?:[?#].*)?$/i;

const SAFE_ID = /^[A-Za-z0-9._:@=+-]{1,256}$/;

function resourcePath(item: Json): ResourcePath | undefined {
  for (const candidate of [item.resourceUrl, item.resource, firstObject(item.resourceData)?.["@odata.id"]]) {
    if (typeof candidate !== "string") continue;
    const match = CALL_PATH.exec(candidate.trim());
    const callId = match?.[1] ? decodeSegment(match[1]) : "";
    // The id goes into Graph URLs and logs: nothing that could change a path or a log line.
    if (!match || !SAFE_ID.test(callId)) continue;
    const sub = match[2]?.toLowerCase();
    return { callId, sub, subId: match[3] ? decodeSegment(match[3]) : undefined };
  }
  return undefined;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment).trim();
  } catch {
    return segment.trim();
  }
}

function firstObject(value: unknown): Json | undefined {
  if (isObject(value)) return value;
  if (Array.isArray(value)) return value.find(isObject);
  return undefined;
}

function trimmed(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const result = value.trim();
  return result === "" ? undefined : result;
}

/** Enum values arrive in camelCase or PascalCase; compare and report them lower-camel. */
function enumValue(value: unknown): string | undefined {
  const text = trimmed(value);
  return text === undefined ? undefined : text.charAt(0).toLowerCase() + text.slice(1);
}

function callState(raw: string): NotifiedCallState {
  const lower = raw.toLowerCase();
  return CALL_STATES.find((state) => state.toLowerCase() === lower) ?? "unknown";
}

/** `#microsoft.graph.call` or `microsoft.graph.call` → `call`. */
export function odataType(value: unknown): string | undefined {
  const text = trimmed(value);
  if (text === undefined) return undefined;
  return text.replace(/^#/, "").replace(/^microsoft\.graph\./i, "");
}

function integer(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "string" && /^\s*-?\d+\s*$/.test(value)) return Number.parseInt(value, 10);
  return undefined;
}

function resultInfo(value: unknown): ResultInfo | undefined {
  if (!isObject(value)) return undefined;
  const code = integer(value.code);
  const subcode = integer(value.subcode ?? value.subCode ?? value.SubCode);
  if (code === undefined && subcode === undefined) return undefined;
  return {
    code: code ?? 0,
    subcode: subcode ?? 0,
    ...(typeof value.message === "string" ? { message: value.message } : {}),
  };
}

function toneInfo(value: unknown): { tone: string; sequenceId?: number } | undefined {
  if (!isObject(value)) return undefined;
  const tone = enumValue(value.tone);
  if (!tone) return undefined;
  const sequenceId = integer(value.sequenceId);
  return sequenceId === undefined ? { tone } : { tone, sequenceId };
}

function participant(value: Json): Participant | null {
  const id = trimmed(value.id);
  if (!id) return null;
  const streams = Array.isArray(value.mediaStreams)
    ? value.mediaStreams.filter(isObject).map((stream) => ({
        ...stream,
        mediaType: enumValue(stream.mediaType),
        direction: enumValue(stream.direction),
        sourceId:
          stream.sourceId === undefined || stream.sourceId === null
            ? undefined
            : String(stream.sourceId).trim(),
      }))
    : undefined;
  return { ...value, id, ...(streams ? { mediaStreams: streams } : {}) } as Participant;
}

/** meetingInfo.organizer (an identitySet) -> its user's id. */
function meetingOrganizerId(meetingInfo: unknown): string | undefined {
  if (!isObject(meetingInfo) || !isObject(meetingInfo.organizer)) return undefined;
  const user = meetingInfo.organizer.user;
  return isObject(user) ? trimmed(user.id) : undefined;
}

/** Int64 as a JSON number or a string of digits; anything else is ignored. */
function int64(value: unknown): bigint | undefined {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === "string" && /^\s*\d{1,19}\s*$/.test(value)) return BigInt(value.trim());
  return undefined;
}

function highestSequenceNumber(participants: readonly Participant[]): bigint | undefined {
  let highest: bigint | undefined;
  for (const participant of participants) {
    const sequence = int64(participant.rosterSequenceNumber);
    if (sequence !== undefined && (highest === undefined || sequence > highest)) highest = sequence;
  }
  return highest;
}
