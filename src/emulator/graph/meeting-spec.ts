import { randomInt, randomUUID } from "node:crypto";
import { isGuid } from "../../config/env-readers.js";
import { type Body, booleanField, stringField, timeoutField } from "../media/control-fields.js";
import { type ParticipantAudio, parseParticipantAudio } from "./participant-audio.js";

/** Graph's default lobby inactivity timeout (15 min): then the bot's call ends 200/5855. */
export const DEFAULT_LOBBY_TIMEOUT_MS = 900_000;
/** Bound on one meeting's participants: a test fixture, not a way to exhaust memory. */
export const MAX_MEETING_PARTICIPANTS = 100;

export type ParticipantKind = "user" | "guest" | "phone";

/** An emulated (human) participant of a meeting, as the control API describes it. */
export interface ParticipantSpec {
  displayName: string;
  userId: string;
  kind: ParticipantKind;
  audio: ParticipantAudio | undefined;
  muted: boolean;
  /** Joins this long after the meeting is created (or the control request); at once when absent. */
  joinAfterMs?: number;
  /** Leaves this long after joining. */
  leaveAfterMs?: number;
}

export type LobbySpec = { admitAfterMs: number } | { admit: "never" };

/** POST /emulator/meetings, checked. */
export interface MeetingSpec {
  organizer: { userId: string; displayName: string };
  tenantId: string;
  participants: ParticipantSpec[];
  lobby: LobbySpec | undefined;
  lobbyTimeoutMs: number;
  endAfterMs?: number;
  joinMeetingId: string;
  passcode: string;
}

const KINDS: readonly ParticipantKind[] = ["user", "guest", "phone"];

/** A misspelt field would otherwise be ignored silently: refuse names the body does not know. */
export function refuseUnknownFields(body: Body, known: readonly string[], prefix: string): void {
  const unknown = Object.keys(body).find((name) => !known.includes(name));
  if (unknown !== undefined)
    throw new Error(`${prefix}${unknown} is not a known field (known: ${known.join(", ")})`);
}

function objectField(value: unknown, name: string): Body {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new Error(`${name} must be an object`);
  return value as Body;
}

function optionalTimeout(body: Body, name: string, prefix: string): number | undefined {
  if (body[name] === undefined) return undefined;
  try {
    return timeoutField(body, name, 0);
  } catch (error) {
    throw new Error(`${prefix}${(error as Error).message}`);
  }
}

function guidField(body: Body, name: string, prefix: string, fallback: string): string {
  const value = body[name] ?? fallback;
  if (typeof value !== "string" || !isGuid(value))
    throw new Error(`${prefix}${name} must be a GUID, got ${JSON.stringify(value)}`);
  return value;
}

/** One participant of a meeting body (or of POST .../participants); `prefix` names it in errors. */
export function parseParticipantSpec(value: unknown, prefix: string): ParticipantSpec {
  const body = objectField(value, prefix.replace(/\.$/, "") || "the body");
  const named = (fn: () => unknown) => {
    try {
      return fn();
    } catch (error) {
      throw new Error(`${prefix}${(error as Error).message}`);
    }
  };
  refuseUnknownFields(
    body,
    ["displayName", "userId", "kind", "audio", "muted", "joinAfterMs", "leaveAfterMs"],
    prefix,
  );
  const displayName = named(() => stringField(body, "displayName")) as string;
  const kind = (body.kind ?? "user") as ParticipantKind;
  if (!KINDS.includes(kind))
    throw new Error(`${prefix}kind must be "user", "guest" or "phone", got ${JSON.stringify(body.kind)}`);
  const fallbackId =
    kind === "phone" ? `+1425555${String(randomInt(10_000)).padStart(4, "0")}` : randomUUID();
  const userId =
    body.userId === undefined ? fallbackId : (named(() => stringField(body, "userId")) as string);
  const spec: ParticipantSpec = {
    displayName,
    userId,
    kind,
    audio: parseParticipantAudio(body.audio, `${prefix}audio`),
    muted: named(() => booleanField(body, "muted", false)) as boolean,
  };
  const joinAfterMs = optionalTimeout(body, "joinAfterMs", prefix);
  const leaveAfterMs = optionalTimeout(body, "leaveAfterMs", prefix);
  if (joinAfterMs !== undefined) spec.joinAfterMs = joinAfterMs;
  if (leaveAfterMs !== undefined) spec.leaveAfterMs = leaveAfterMs;
  return spec;
}

function parseLobby(value: unknown): LobbySpec | undefined {
  if (value === undefined || value === null) return undefined;
  const lobby = objectField(value, "lobby");
  if (lobby.admit !== undefined) {
    if (lobby.admit !== "never" || Object.keys(lobby).length !== 1)
      throw new Error('lobby must be {admitAfterMs: number} or {admit: "never"}');
    return { admit: "never" };
  }
  if (lobby.admitAfterMs === undefined)
    throw new Error('lobby must be {admitAfterMs: number} or {admit: "never"}');
  return { admitAfterMs: optionalTimeout(lobby, "admitAfterMs", "lobby.") as number };
}

/** Checks POST /emulator/meetings; throws an Error naming the wrong field (answered 400). */
export function parseMeetingSpec(value: unknown, defaultTenantId: () => string): MeetingSpec {
  const body = objectField(value ?? {}, "the body");
  refuseUnknownFields(
    body,
    [
      "organizer",
      "tenantId",
      "participants",
      "lobby",
      "lobbyTimeoutMs",
      "endAfterMs",
      "joinMeetingId",
      "passcode",
    ],
    "",
  );
  const organizerBody = body.organizer === undefined ? {} : objectField(body.organizer, "organizer");
  refuseUnknownFields(organizerBody, ["userId", "displayName"], "organizer.");
  const organizer = {
    userId: guidField(organizerBody, "userId", "organizer.", randomUUID()),
    displayName:
      organizerBody.displayName === undefined
        ? "Emulated Organizer"
        : stringField(organizerBody, "displayName"),
  };
  const tenantId = body.tenantId === undefined ? defaultTenantId() : guidField(body, "tenantId", "", "");
  const list = body.participants ?? [];
  if (!Array.isArray(list) || list.length > MAX_MEETING_PARTICIPANTS)
    throw new Error(`participants must be an array of at most ${MAX_MEETING_PARTICIPANTS}`);
  const participants = list.map((entry, i) => parseParticipantSpec(entry, `participants[${i}].`));
  const joinMeetingId =
    body.joinMeetingId === undefined
      ? String(randomInt(100_000, 1_000_000)) + String(randomInt(100_000, 1_000_000))
      : String(body.joinMeetingId).replace(/\s+/g, "");
  if (!/^\d{6,20}$/.test(joinMeetingId))
    throw new Error(`joinMeetingId must be 6 to 20 digits, got ${JSON.stringify(body.joinMeetingId)}`);
  const passcode = body.passcode === undefined ? randomUUID().slice(0, 6) : stringField(body, "passcode");
  const spec: MeetingSpec = {
    organizer,
    tenantId,
    participants,
    lobby: parseLobby(body.lobby),
    lobbyTimeoutMs: timeoutField(body, "lobbyTimeoutMs", DEFAULT_LOBBY_TIMEOUT_MS),
    joinMeetingId,
    passcode,
  };
  const endAfterMs = optionalTimeout(body, "endAfterMs", "");
  if (endAfterMs !== undefined) spec.endAfterMs = endAfterMs;
  return spec;
}
