/**
 * What the calls API (control-app.ts) and the command-line tool need from the bot: place calls,
 * list them, and control one by its id. Plain data in and out, so the HTTP layer does not
 * depend on how the bot places calls; BotApp provides the implementation.
 *
 * Refusals are thrown as CallsApiRefusal (calls-api-refusal.ts); a Graph failure as the
 * GraphError Graph's client throws; a bad join link as MeetingJoinUrlError.
 */

import type { MeetingChatInfo, MeetingIdJoin } from "../graph/outgoing-call-requests.js";

/**
 * A meeting to join: by its join link, by meeting id and passcode, or by chat and organizer.
 * The fields are the ones the signaling layer's own MeetingTarget takes, tagged by `kind`.
 */
export type CallsApiMeetingTarget =
  | { kind: "joinUrl"; joinUrl: string }
  | ({ kind: "meetingId" } & MeetingIdJoin)
  | ({ kind: "chatInfo" } & MeetingChatInfo);

export interface JoinOptions {
  /** How long the bot may wait in the meeting's lobby before the join is given up. */
  lobbyTimeoutMs?: number;
  /** Ask for unmixed per-speaker audio (else the bot's configured default). */
  unmixedAudio?: boolean;
  /** The name the bot shows in the meeting. */
  displayName?: string;
}

/** A Teams user: Entra user id and tenant (both GUIDs). */
export interface UserTarget {
  userId: string;
  tenantId: string;
  displayName?: string;
}

/** A call the bot has placed (createCall accepted): it may still be establishing. */
export interface PlacedCallInfo {
  callId: string;
  mediaSessionId: string;
  /** What was called, e.g. "meeting" or "user". */
  kind: string;
}

/** How a call ended, in the CallEvent vocabulary (docs/meetings.md). */
export interface CallEnding {
  reason: string;
  resultInfo?: { code: number; subcode: number; message?: string };
}

/** One call as the API lists it. */
export interface CallSummary {
  id: string;
  direction: "incoming" | "outgoing";
  /** The call's state: establishing, established, terminating, terminated... */
  state: string;
  tenantId?: string;
  /** "incoming", "meeting", "user"... */
  kind: string;
  /** ISO 8601: when the bot learned of the call. */
  since: string;
  /** True while the bot waits in a meeting's lobby. */
  inLobby?: boolean;
  /** Present once the call has ended. */
  ended?: CallEnding;
}

export interface CallsApiBackend {
  joinMeeting(target: CallsApiMeetingTarget, options: JoinOptions): Promise<PlacedCallInfo>;
  /** `target.displayName`: the callee's name; `options.displayName`: the bot's own (its call source). */
  callUser(target: UserTarget, options: { displayName?: string }): Promise<PlacedCallInfo>;
  /** Live calls (not the ended ones kept for late notifications). */
  listCalls(): CallSummary[];
  /** A call of this bot, live or recently ended; undefined when unknown. */
  getCall(callId: string): CallSummary | undefined;
  /** Asks Graph to hang up; resolves once Graph took the request. */
  hangUp(callId: string): Promise<void>;
  mute(callId: string): Promise<void>;
  unmute(callId: string): Promise<void>;
  transfer(callId: string, target: UserTarget): Promise<void>;
  invite(callId: string, targets: UserTarget[]): Promise<void>;
}
