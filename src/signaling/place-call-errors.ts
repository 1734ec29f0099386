/**
 * Why the bot did not place a call (joinMeeting, callUser). A malformed target is refused with
 * the builder's own error instead (MeetingJoinUrlError, InvalidRequestError), before anything.
 */
import type { CallEndReason } from "../media/bot-api.js";

/** Refused before anything was created (nothing to clean up). */
export type PlaceCallRefusalReason =
  | "shutting_down"
  | "capacity"
  | "media_unavailable"
  | "tenant_not_allowed";

export class PlaceCallRefusedError extends Error {
  constructor(
    readonly reason: PlaceCallRefusalReason,
    detail: string,
  ) {
    super(`call not placed (${reason}): ${detail}`);
    this.name = "PlaceCallRefusedError";
  }
}

/**
 * Where placing a call failed after it started; whatever was created was undone (the media
 * session closed). `create_unknown`: createCall's outcome is unknown (timeout, reset after the
 * body was written): Graph may have created a call the bot cannot name; it ends at Graph
 * without keepAlives, or when its media never connects.
 */
export type PlaceCallFailureStage = "media_session" | "create_refused" | "create_unknown" | "bind_failed";

export class PlaceCallFailedError extends Error {
  constructor(
    readonly stage: PlaceCallFailureStage,
    detail: string,
    /** Graph's HTTP status when Graph refused createCall. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(`placing the call failed (${stage}): ${detail}`, options);
    this.name = "PlaceCallFailedError";
  }
}

/** A placed call ended before it was established (PlacedCall.established rejects with it). */
export class CallNotEstablishedError extends Error {
  constructor(
    readonly callId: string,
    readonly reason: CallEndReason,
    readonly resultInfo?: { code: number; subcode: number; message?: string },
  ) {
    super(
      `call ${callId} ended before it was established: ${reason}${
        resultInfo ? ` (${resultInfo.code}/${resultInfo.subcode})` : ""
      }`,
    );
    this.name = "CallNotEstablishedError";
  }
}
