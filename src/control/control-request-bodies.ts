/**
 * Strict reading of the calls API's request bodies: every field checked, unknown fields refused,
 * Entra ids (tenants, users, organizers) required to be GUIDs. A problem throws
 * ControlRequestError naming the field, which the API answers 400 with.
 */
import { isGuid } from "../config/env-readers.js";
import { MAX_JOIN_URL_LENGTH, MeetingJoinUrlError, parseMeetingJoinUrl } from "../graph/meeting-join-url.js";
// One bound on an invite, whether it comes through the calls API or the bot's own code.
import { MAX_INVITED_PARTICIPANTS } from "../graph/request-bodies.js";
import type { CallsApiMeetingTarget, JoinOptions, UserTarget } from "./calls-api-backend.js";

export class ControlRequestError extends Error {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(field === "" ? problem : `${field} ${problem}`);
    this.name = "ControlRequestError";
  }
}

/** A lobby wait of up to an hour: a meeting nobody admits to is given up before that. */
export const LOBBY_TIMEOUT_RANGE_MS = { min: 1000, max: 3_600_000 } as const;
const MAX_DISPLAY_NAME_LENGTH = 256;
const MAX_PASSCODE_LENGTH = 64;
/** As meeting-join-url.ts reads them from a link. */
const THREAD_ID = /^19:[^\s/?#@]+@thread\.[a-z0-9]+$/i;
const MESSAGE_ID = /^\d{1,20}$/;
/** "123 456 789 012": digits, spaces allowed between them. */
const MEETING_ID = /^\d(?: ?\d){0,31}$/;
/** Graph call ids are GUIDs; the bound keeps anything else out of logs and lookups. */
const CALL_ID = /^[A-Za-z0-9-]{1,64}$/;

type Fields = Record<string, unknown>;

function shown(value: unknown): string {
  const text = typeof value === "string" ? JSON.stringify(value) : String(JSON.stringify(value));
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function object(value: unknown, field: string): Fields {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new ControlRequestError(field, field === "" ? "body must be a JSON object" : "must be an object");
  return value as Fields;
}

function onlyFields(body: Fields, allowed: readonly string[], where: string, prefix = ""): void {
  for (const key of Object.keys(body))
    if (!allowed.includes(key))
      throw new ControlRequestError(
        `${prefix}${key}`,
        `is not a field of ${where} (allowed: ${allowed.join(", ")})`,
      );
}

function requiredString(body: Fields, key: string, prefix = ""): string {
  const value = body[key];
  if (value === undefined) throw new ControlRequestError(`${prefix}${key}`, "is required");
  if (typeof value !== "string" || value.trim() === "")
    throw new ControlRequestError(`${prefix}${key}`, `must be a non-empty string, got ${shown(value)}`);
  return value.trim();
}

function guid(body: Fields, key: string, prefix = ""): string {
  const value = requiredString(body, key, prefix);
  if (!isGuid(value)) throw new ControlRequestError(`${prefix}${key}`, `must be a GUID, got ${shown(value)}`);
  return value;
}

function matching(body: Fields, key: string, pattern: RegExp, what: string): string {
  const value = requiredString(body, key);
  if (!pattern.test(value)) throw new ControlRequestError(key, `must be ${what}, got ${shown(value)}`);
  return value;
}

function optionalDisplayName(body: Fields, prefix = ""): string | undefined {
  if (body.displayName === undefined) return undefined;
  const name = requiredString(body, "displayName", prefix);
  if (name.length > MAX_DISPLAY_NAME_LENGTH)
    throw new ControlRequestError(
      `${prefix}displayName`,
      `must be at most ${MAX_DISPLAY_NAME_LENGTH} characters`,
    );
  return name;
}

const JOIN_OPTION_FIELDS = ["lobbyTimeoutMs", "unmixedAudio", "displayName"] as const;
const JOIN_FORMS = {
  joinUrl: ["joinUrl"],
  joinMeetingId: ["joinMeetingId", "passcode", "tenantId"],
  threadId: ["threadId", "messageId", "replyChainMessageId", "organizerId", "tenantId"],
} as const;

/** POST /calls/join: exactly one of joinUrl, joinMeetingId or threadId picks the form. */
export function readJoinRequest(value: unknown): { target: CallsApiMeetingTarget; options: JoinOptions } {
  const body = object(value, "");
  const forms = (Object.keys(JOIN_FORMS) as (keyof typeof JOIN_FORMS)[]).filter((k) => body[k] !== undefined);
  if (forms.length === 0)
    throw new ControlRequestError(
      "",
      "body must have joinUrl, joinMeetingId (with tenantId) or threadId (with messageId, organizerId, tenantId)",
    );
  if (forms.length > 1)
    throw new ControlRequestError(forms[1] as string, `cannot be combined with ${forms[0]}`);
  const form = forms[0] as keyof typeof JOIN_FORMS;
  onlyFields(body, [...JOIN_FORMS[form], ...JOIN_OPTION_FIELDS], `a join by ${form}`);
  return { target: meetingTarget(body, form), options: joinOptions(body) };
}

function meetingTarget(body: Fields, form: keyof typeof JOIN_FORMS): CallsApiMeetingTarget {
  switch (form) {
    case "joinUrl": {
      const joinUrl = requiredString(body, "joinUrl");
      if (joinUrl.length > MAX_JOIN_URL_LENGTH)
        throw new ControlRequestError("joinUrl", `must be at most ${MAX_JOIN_URL_LENGTH} characters`);
      try {
        parseMeetingJoinUrl(joinUrl);
      } catch (error) {
        if (error instanceof MeetingJoinUrlError)
          throw new ControlRequestError("joinUrl", `is ${error.message}`);
        throw error;
      }
      return { kind: "joinUrl", joinUrl };
    }
    case "joinMeetingId": {
      const joinMeetingId = matching(
        body,
        "joinMeetingId",
        MEETING_ID,
        "the meeting id's digits (spaces allowed)",
      );
      let passcode: string | undefined;
      if (body.passcode !== undefined) {
        passcode = requiredString(body, "passcode");
        if (passcode.length > MAX_PASSCODE_LENGTH)
          throw new ControlRequestError("passcode", `must be at most ${MAX_PASSCODE_LENGTH} characters`);
      }
      return {
        kind: "meetingId",
        joinMeetingId,
        ...(passcode !== undefined ? { passcode } : {}),
        tenantId: guid(body, "tenantId"),
      };
    }
    case "threadId": {
      const replyChainMessageId =
        body.replyChainMessageId === undefined
          ? undefined
          : matching(body, "replyChainMessageId", MESSAGE_ID, "a message id (digits)");
      return {
        kind: "chatInfo",
        threadId: matching(body, "threadId", THREAD_ID, "a Teams thread id (19:…@thread.…)"),
        messageId: matching(
          body,
          "messageId",
          MESSAGE_ID,
          "a message id (digits, 0 for a scheduled meeting)",
        ),
        ...(replyChainMessageId !== undefined ? { replyChainMessageId } : {}),
        organizerId: guid(body, "organizerId"),
        tenantId: guid(body, "tenantId"),
      };
    }
  }
}

function joinOptions(body: Fields): JoinOptions {
  const options: JoinOptions = {};
  const timeout = body.lobbyTimeoutMs;
  if (timeout !== undefined) {
    const { min, max } = LOBBY_TIMEOUT_RANGE_MS;
    if (typeof timeout !== "number" || !Number.isInteger(timeout) || timeout < min || timeout > max)
      throw new ControlRequestError(
        "lobbyTimeoutMs",
        `must be an integer from ${min} to ${max}, got ${shown(timeout)}`,
      );
    options.lobbyTimeoutMs = timeout;
  }
  if (body.unmixedAudio !== undefined) {
    if (typeof body.unmixedAudio !== "boolean")
      throw new ControlRequestError("unmixedAudio", `must be true or false, got ${shown(body.unmixedAudio)}`);
    options.unmixedAudio = body.unmixedAudio;
  }
  const displayName = optionalDisplayName(body);
  if (displayName !== undefined) options.displayName = displayName;
  return options;
}

function userTarget(value: unknown, prefix: string, where: string): UserTarget {
  const body = object(value, prefix === "" ? "" : prefix.slice(0, -1));
  onlyFields(body, ["userId", "tenantId", "displayName"], where, prefix);
  const displayName = optionalDisplayName(body, prefix);
  return {
    userId: guid(body, "userId", prefix),
    tenantId: guid(body, "tenantId", prefix),
    ...(displayName !== undefined ? { displayName } : {}),
  };
}

/** POST /calls/user and POST /calls/:id/transfer: {userId, tenantId, displayName?}. */
export function readUserTarget(value: unknown, where: string): UserTarget {
  return userTarget(value, "", where);
}

/** POST /calls/:id/invite: {participants: [{userId, tenantId, displayName?}, ...]}. */
export function readInviteRequest(value: unknown): UserTarget[] {
  const body = object(value, "");
  onlyFields(body, ["participants"], "an invitation");
  const participants = body.participants;
  if (participants === undefined) throw new ControlRequestError("participants", "is required");
  if (
    !Array.isArray(participants) ||
    participants.length === 0 ||
    participants.length > MAX_INVITED_PARTICIPANTS
  )
    throw new ControlRequestError(
      "participants",
      `must be an array of 1 to ${MAX_INVITED_PARTICIPANTS} users ({userId, tenantId, displayName?})`,
    );
  return participants.map((each, i) => userTarget(each, `participants[${i}].`, "a participant"));
}

/** POST /calls/:id/mute and /unmute take no parameters: no body, or an empty object. */
export function readEmptyRequest(value: unknown): void {
  if (value === undefined) return;
  const body = object(value, "");
  const first = Object.keys(body)[0];
  if (first !== undefined) throw new ControlRequestError(first, "is not a field: this request takes no body");
}

/** The :id of /calls/:id. */
export function readCallId(value: string): string {
  if (!CALL_ID.test(value))
    throw new ControlRequestError(
      "call id",
      `must be 1 to 64 letters, digits or dashes, got ${shown(value)}`,
    );
  return value;
}
