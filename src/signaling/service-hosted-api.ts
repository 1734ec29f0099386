/**
 * What a bot author writes against to take calls with service-hosted media (Graph plays the
 * prompts, records and hears the DTMF; the bot has no media session and no media worker). The
 * handler module runs in the main thread, next to signaling: see docs/service-hosted-media.md.
 */

import type { MediaInfo, RecordResponseRequest, ResultInfo } from "../graph/types.js";
import type { Logger } from "../log/logger.js";

/** The incoming call as choose() and create() see it. */
export interface ServiceHostedCallInfo {
  callId: string;
  tenantId?: string;
  /** The caller (Graph's participantInfo `source`), as received. */
  source?: Record<string, unknown>;
  /** A meeting's invite rather than a peer-to-peer call. */
  isMeeting: boolean;
}

/** A prompt to play: a file by https uri, or one prefetched at answer by its resourceId. */
export type PromptSpec = { uri: string } | { resourceId: string };

/**
 * How an IVR operation ended, from Graph's operation notification:
 * - completed / failed: Graph's status;
 * - cancelled: cancelMediaProcessing ended it (resultInfo 400/8508);
 * - failed with `callEnded`: the call ended before Graph said anything.
 */
export interface OperationResult {
  status: "completed" | "failed" | "cancelled";
  resultInfo?: ResultInfo;
  /** The call ended while the operation was pending. */
  callEnded?: boolean;
  /** Why it failed before Graph took it (the request was refused or never answered). */
  error?: string;
}

/** recordResponse's result: where Graph keeps the recording (the token is a secret: never log it). */
export interface RecordResult extends OperationResult {
  recordingLocation?: string;
  recordingAccessToken?: string;
  completionReason?: string;
}

/** recordResponse's parameters as Graph names them, with prompts given as PromptSpecs. */
export interface RecordOptions extends Omit<RecordResponseRequest, "prompts"> {
  prompts?: PromptSpec[];
}

/** One call with service-hosted media, given to the handler's create(). */
export interface ServiceHostedCall extends ServiceHostedCallInfo {
  /** pino child logger carrying the call id. */
  log: Logger;
  /** The files prefetched at answer (what a `{resourceId}` prompt may name). */
  readonly preFetchMedia: readonly MediaInfo[];
  /**
   * Plays prompts in order; settles when Graph's operation notification says how it ended.
   * Rejects (before any request) for a uri that is not https, a resourceId not prefetched, no
   * or too many prompts, or a clientContext over 256 characters.
   */
  playPrompt(prompts: PromptSpec[], options?: { clientContext?: string }): Promise<OperationResult>;
  /** Records the caller's answer; settles with where Graph keeps the recording. */
  recordResponse(options?: RecordOptions): Promise<RecordResult>;
  /** Asks Graph for the caller's DTMF: they reach the handler's onTone. */
  subscribeToTone(options?: { clientContext?: string }): Promise<OperationResult>;
  /** Cancels the running and queued prompts and recordings (they settle `cancelled`). */
  cancelMediaProcessing(options?: { clientContext?: string }): Promise<OperationResult>;
  /** Hangs the call up through Graph. */
  hangUp(reason?: string): Promise<void>;
}

/** What create() returns: callbacks of one call (all optional, may be async; errors are logged). */
export interface ServiceHostedHandler {
  onEstablished?(): void | Promise<void>;
  /** A DTMF tone (Graph's tone name: `tone0`..`tone9`, `star`, `pound`, `a`..`d`). */
  onTone?(tone: string): void | Promise<void>;
  onEnd?(reason: string): void | Promise<void>;
}

/** What choose() may return: whether to take the call service-hosted, and what to prefetch. */
export type ServiceHostedChoice = boolean | { preFetchMedia?: MediaInfo[] };

export interface ServiceHostedHandlerDefinition<Options = unknown> {
  /** Checks the raw options (JSON from BOT_SERVICE_HOSTED_HANDLER_OPTIONS) once at start; throws naming the field. */
  options?: (raw: unknown) => Options;
  /**
   * Whether this call is taken with service-hosted media (else app-hosted as usual). Absent:
   * every call. Must answer within 1 s: a slow or throwing choose() means app-hosted.
   */
  choose?(call: ServiceHostedCallInfo, options: Options): ServiceHostedChoice | Promise<ServiceHostedChoice>;
  /** Files Graph fetches before the call is established, for every call (choose() can override). */
  preFetchMedia?: MediaInfo[];
  create(call: ServiceHostedCall, options: Options): ServiceHostedHandler | Promise<ServiceHostedHandler>;
}

/** A definition marked as one (what a handler module exports). */
export type DefinedServiceHostedHandler<Options = unknown> = ServiceHostedHandlerDefinition<Options> & {
  readonly kind: "serviceHostedHandler";
};

/**
 *   export default defineServiceHostedHandler({
 *     choose: (call) => call.tenantId === "…",
 *     preFetchMedia: [{ uri: "https://cdn.contoso.com/welcome.wav", resourceId: "…guid…" }],
 *     create(call) { return { async onEstablished() { await call.playPrompt([{ resourceId: "…" }]); } }; },
 *   });
 */
export function defineServiceHostedHandler<Options = unknown>(
  definition: ServiceHostedHandlerDefinition<Options>,
): DefinedServiceHostedHandler<Options> {
  return { ...definition, kind: "serviceHostedHandler" };
}
