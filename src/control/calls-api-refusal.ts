/**
 * Why a CallsApiBackend refused a request, as the calls API answers it: each reason has one HTTP
 * status (CALLS_API_REFUSAL_STATUS), so the bot's refusals map to statuses in one place.
 */

export const CALLS_API_REFUSAL_STATUS = {
  /** The call id is not one of this bot's calls. */
  unknown_call: 404,
  /** The target's tenant is not in the bot's allowed tenants. */
  tenant_not_allowed: 403,
  /** The request is valid but not for the call's current state (e.g. mute a call not established). */
  invalid_state: 409,
  /** The bot already has BOT_MAX_CALLS calls. */
  capacity: 409,
  /** The bot is stopping. */
  shutting_down: 503,
  /** The bot is still starting: its calls are not available yet. */
  starting: 503,
  /** No media host to give the call a media session. */
  media_unavailable: 503,
  /** The target is refused by the bot's own checks (a field the HTTP layer could not judge). */
  invalid_target: 400,
  /** Graph refused the request or did not answer (`graph` says how). */
  graph_error: 502,
  /** Placing the call failed on the bot's media side after it started (`stage` says where). */
  place_call_failed: 502,
} as const;

export type CallsApiRefusalReason = keyof typeof CALLS_API_REFUSAL_STATUS;

/** Graph's answer, when the refusal comes from Graph (status 0: no answer came). */
export interface GraphRefusalDetail {
  status: number;
  code?: string;
  requestId?: string;
}

export class CallsApiRefusal extends Error {
  constructor(
    readonly reason: CallsApiRefusalReason,
    message: string,
    /** Extra fields of the error body: `graph` (Graph's status and code), `stage`. */
    readonly detail: { graph?: GraphRefusalDetail; stage?: string } = {},
  ) {
    super(message);
    this.name = "CallsApiRefusal";
  }

  get status(): number {
    return CALLS_API_REFUSAL_STATUS[this.reason];
  }
}
