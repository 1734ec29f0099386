/**
 * Orchestrates calls: turns parsed notifications into state transitions, applies the policy to
 * incoming calls (holding one that arrives while the media host reconnects), answers them with
 * a media session's blob, keeps live calls alive, forwards tones/rosters/establishment to the
 * media side, and hangs calls up. Every async path ends in
 * a logged outcome; nothing here throws into the HTTP layer or leaves a rejection unhandled.
 */
import { performance } from "node:perf_hooks";
import type { BotConfig } from "../config/config.js";
import type { GraphCallsApi } from "../graph/graph-calls-api.js";
import type { AnswerRequest, RejectReason } from "../graph/types.js";
import { userInvitation } from "../graph/user-invitation.js";
import { LogRateLimiter } from "../log/log-rate-limiter.js";
import type { Logger } from "../log/logger.js";
import type {
  MediaSession,
  MediaSessionEvent,
  MediaSessionProvider,
} from "../media/media-session-provider.js";
import type { SignalingMetrics } from "../metrics/signaling-metrics.js";
import type { Call, CallLifecycleState } from "./call.js";
import { CallControl } from "./call-control.js";
import { type CallDecision, decideIncomingCall } from "./call-policy.js";
import type { CallRegistry } from "./call-registry.js";
import { describeError, errorStatus, isOutcomeUnknown } from "./graph-failure.js";
import { HeldNotifications } from "./held-notifications.js";
import type {
  CallEndedEvent,
  CallStateEvent,
  IncomingCallEvent,
  NotifiedCallState,
  RosterEvent,
  SignalingEvent,
} from "./notification-parser.js";
import { parseNotificationBatch } from "./notification-parser.js";
import {
  OutgoingCalls,
  type PlaceCallOptions,
  type PlaceCallTarget,
  type PlacedCallTiming,
} from "./outgoing-calls.js";
import type { PlacedCall } from "./placed-call.js";
import { describeResultCode, isKnownResultCode } from "./result-codes.js";
import type { ServiceHostedCalls } from "./service-hosted-calls.js";
import { SkippedNotificationLog } from "./skipped-notification-log.js";

export type CallManagerConfig = Pick<
  BotConfig,
  | "appId"
  | "callbackUrl"
  | "maxCalls"
  | "allowedTenants"
  | "keepAliveIntervalMs"
  | "media"
  | "mediaHostWaitMs"
  | "joinTimeoutMs"
  | "lobbyTimeoutMs"
> &
  Partial<Pick<BotConfig, "redirectWhenBusy">>;

export interface CallManagerOptions {
  config: CallManagerConfig;
  graph: GraphCallsApi;
  media: MediaSessionProvider;
  registry: CallRegistry;
  metrics: SignalingMetrics;
  logger: Logger;
  /** Graph's answer deadline (15 s); past it the bot stops trying to answer. */
  answerDeadlineMs?: number;
  /** A call the bot hung up is ended locally if Graph does not confirm within this time. */
  endConfirmTimeoutMs?: number;
  /** Observer of each successful answer's timings (benchmarks, diagnostics). */
  onAnswered?: (timing: AnswerTiming) => void;
  /** Observer of each placed call's establishment timings (see PlacedCallTiming). */
  onPlacedEstablished?: (timing: PlacedCallTiming) => void;
  /** The service-hosted handler's calls, when one is configured (service-hosted-calls.ts). */
  serviceHosted?: ServiceHostedCalls;
}

/** performance.now() stamps of one answered call. */
export interface AnswerTiming {
  callId: string;
  /** The incoming-call notification arrived. */
  receivedAt: number;
  /**
   * The answer's bytes went to the socket (its first attempt): after the token, the body and
   * whatever queued ahead on the event loop. A client that does not report it: when the answer
   * was handed to the Graph client.
   */
  answerSentAt: number;
  /** Graph accepted the answer (202). */
  answerAcceptedAt: number;
  /** The stages in between, where known (see ArrivalStages); absent for a replayed notification. */
  tokenCheckedAt?: number;
  parsedAt?: number;
  respondedAt?: number;
  handledAt?: number;
  /** The policy admitted the call and its answer started. */
  admittedAt?: number;
  /** The media session was asked for (app-hosted media only) ... */
  sessionRequestedAt?: number;
  /** ... and its blob came back from the media host. */
  sessionCreatedAt?: number;
}

/** performance.now() stamps of a notification request on its way in (signaling-app.ts). */
export interface ArrivalStages {
  /** The bearer token was verified. */
  tokenCheckedAt: number;
  /** The body was read and parsed as JSON. */
  parsedAt: number;
  /** The 202 was handed to the socket. */
  respondedAt: number;
  /** The notifications' handling started (after the response, on a later turn of the loop). */
  handledAt?: number;
}

/** Context of one notification request. */
export interface BatchContext {
  /** performance.now() when the request arrived: answer latency is measured from here. */
  receivedAt: number;
  /** Tenant of the verified notification token. */
  tokenTenantId?: string;
  /** Where the request's time went before its handling (benchmarks' stage breakdown). */
  stages?: ArrivalStages;
}

/**
 * The answer must reach Graph this long before Graph's deadline (at most a tenth of the
 * window): the bot counts from the notification's arrival, Graph from its sending, and the
 * 202 still has to travel.
 */
const ANSWER_DEADLINE_MARGIN_MS = 1000;

/**
 * A call held for a disconnected media host stops waiting this long before Graph's deadline:
 * room to create its session (the worker's request to the host times out after 5 s) and answer.
 */
const MEDIA_HOST_WAIT_RESERVE_MS = 5000;

/**
 * How an answer ended (signaling_answer_outcomes_total{outcome}):
 * - accepted: Graph accepted it (202).
 * - answered_per_notifications: no 202 (the request failed, its retries were stopped, or a
 *   repeat was refused after an attempt of unknown outcome), but Graph's notifications say the
 *   call was answered.
 * - rejected: Graph did not take it before the deadline, or refused it: rejected through Graph.
 * - hung_up_unknown: its outcome stayed unknown past the deadline: hung up through Graph.
 * - ended_locally: nothing to tell Graph (it no longer knows the call, or its deadline passed).
 * - call_ended: the call ended (the caller, a shutdown) while it was being answered.
 */
type AnswerOutcome =
  | "accepted"
  | "answered_per_notifications"
  | "rejected"
  | "hung_up_unknown"
  | "ended_locally"
  | "call_ended";

/**
 * How long a redirect may ring before Graph gives up: its longest timeout (90 s). Graph documents
 * a default of 55 s for one target ("subject to change"), so the maximum is the safe bound.
 */
const MAX_REDIRECT_TIMEOUT_SECONDS = 90;

/** A keepAlive that failed transiently is tried again this soon (or half the interval, if shorter). */
const KEEPALIVE_RETRY_MS = 60_000;

/** States Graph reports only for a call that was answered. */
const ANSWERED_STATES: ReadonlySet<CallLifecycleState> = new Set([
  "establishing",
  "established",
  "hold",
  "transferring",
  "redirecting",
]);

/** Graph's calling states mapped onto the bot's lifecycle; undefined = not a lifecycle change. */
const LIFECYCLE_OF: Partial<Record<NotifiedCallState, CallLifecycleState>> = {
  incoming: "incoming",
  establishing: "establishing",
  ringing: "establishing",
  established: "established",
  hold: "hold",
  transferring: "transferring",
  transferAccepted: "transferring",
  redirecting: "redirecting",
  terminating: "terminating",
  terminated: "terminated",
};

export class CallManager {
  private readonly config: CallManagerConfig;
  private readonly graph: GraphCallsApi;
  private readonly media: MediaSessionProvider;
  private readonly registry: CallRegistry;
  private readonly metrics: SignalingMetrics;
  private readonly logger: Logger;
  private readonly answerDeadlineMs: number;
  private readonly endConfirmTimeoutMs: number;
  private readonly pending = new Set<Promise<void>>();
  private readonly onAnswered: ((timing: AnswerTiming) => void) | undefined;
  private readonly serviceHosted: ServiceHostedCalls | undefined;
  private readonly skippedLog: SkippedNotificationLog;
  private readonly unknownStateLog = new LogRateLimiter(10_000);
  /** A burst of calls during an outage is held at once: one info line per second says so. */
  private readonly heldCallLog = new LogRateLimiter(1000);
  private shuttingDown = false;
  /** Mute, unmute, transfer, invite by call id (call-control.ts). */
  readonly control: CallControl;
  /** Notifications for calls not named yet, held while a createCall is in flight. */
  private readonly held: HeldNotifications;
  private readonly outgoing: OutgoingCalls;
  /** Calls being placed (settled when placed or failed), waited for by shutdown. */
  private readonly placements = new Set<Promise<void>>();

  constructor(options: CallManagerOptions) {
    this.config = options.config;
    this.graph = options.graph;
    this.media = options.media;
    this.registry = options.registry;
    this.metrics = options.metrics;
    this.logger = options.logger;
    this.answerDeadlineMs = options.answerDeadlineMs ?? 15_000;
    this.endConfirmTimeoutMs = options.endConfirmTimeoutMs ?? 10_000;
    this.onAnswered = options.onAnswered;
    this.serviceHosted = options.serviceHosted;
    this.skippedLog = new SkippedNotificationLog(this.logger, this.metrics);
    this.control = new CallControl({
      graph: this.graph,
      metrics: this.metrics,
      logger: this.logger,
      liveCall: (callId) => this.liveCall(callId),
    });
    this.held = new HeldNotifications({ metrics: this.metrics, logger: this.logger });
    this.outgoing = new OutgoingCalls({
      config: this.config,
      graph: this.graph,
      media: this.media,
      registry: this.registry,
      metrics: this.metrics,
      logger: this.logger,
      held: this.held,
      isShuttingDown: () => this.shuttingDown,
      activeCalls: () => this.activeCalls(),
      hangUp: (callId, reason) => this.hangUp(callId, reason),
      startKeepAlive: (call) => this.startKeepAlive(call),
      replay: (events) => {
        for (const event of events) this.handleCounted(event, { receivedAt: performance.now() });
      },
      track: (work) => this.track(work),
      onPlacedEstablished: options.onPlacedEstablished,
    });
    this.media.onEvent((event) => this.onMediaEvent(event));
  }

  /**
   * Places a call (a meeting join or a call to a user); resolves once Graph accepted it. See
   * OutgoingCalls.place for its refusals and failures.
   */
  placeCall(target: PlaceCallTarget, options?: PlaceCallOptions): Promise<PlacedCall> {
    const placing = this.outgoing.place(target, options);
    // Shutdown waits for it first: a call Graph creates meanwhile is hung up with the others.
    const settled = placing.then(
      () => undefined,
      () => undefined,
    );
    this.placements.add(settled);
    void settled.finally(() => this.placements.delete(settled));
    return placing;
  }

  /** Calls holding a slot (live, not terminating, of both directions), and calls being placed. */
  private activeCalls(except?: Call): number {
    let count = 0;
    // A call being redirected is leaving: it does not hold a slot.
    for (const call of this.registry.liveCalls())
      if (call !== except && call.state !== "terminating" && call.state !== "redirecting") count++;
    return count;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Parses a verified notification body and handles each event; one bad item never stops the others. */
  handleBatch(body: unknown, context: BatchContext): void {
    let parsed: ReturnType<typeof parseNotificationBatch>;
    try {
      parsed = parseNotificationBatch(body);
    } catch (error) {
      this.metrics.notifications.inc({ kind: "batch", outcome: "invalid" });
      this.logger.warn({ err: (error as Error).message }, "notification batch refused");
      return;
    }
    this.skippedLog.report(parsed.skipped);
    for (const skipped of parsed.skipped)
      if (skipped.roster) this.metrics.rosterUpdates.inc({ outcome: "invalid" });
    for (const event of parsed.events) {
      // Graph may notify about a call it is creating before createCall's 201 names it. A held
      // one is counted once, when replayed or dropped (held-notifications.ts).
      if (event.kind !== "incomingCall" && !this.registry.get(event.callId) && this.held.hold(event))
        continue;
      this.handleCounted(event, context);
    }
  }

  private handleCounted(event: SignalingEvent, context: BatchContext): void {
    try {
      const outcome = this.handleEvent(event, context);
      this.metrics.notifications.inc({ kind: event.kind, outcome });
    } catch (error) {
      this.metrics.notifications.inc({ kind: event.kind, outcome: "error" });
      this.logger.error(
        { callId: event.callId, kind: event.kind, err: error },
        "notification handling failed",
      );
    }
  }

  /** Handles one event; returns the outcome label for metrics. */
  handleEvent(event: SignalingEvent, context: BatchContext): string {
    switch (event.kind) {
      case "incomingCall":
        return this.onIncomingCall(event, context);
      case "callState":
        return this.onCallState(event);
      case "callEnded":
        return this.onCallEnded(event);
      case "tone": {
        const call = this.liveCall(event.callId);
        if (!call) return "unknown_call";
        if (event.sequenceId !== undefined && call.lastToneSequenceId === event.sequenceId)
          return "duplicate";
        call.lastToneSequenceId = event.sequenceId;
        this.logger.debug({ callId: event.callId, tone: event.tone }, "tone received");
        if (this.serviceHosted?.has(event.callId)) this.serviceHosted.tone(event.callId, event.tone);
        else this.media.toneReceived(event.callId, event.tone);
        return "handled";
      }
      case "roster":
        return this.onRoster(event);
      case "operationCompleted": {
        const level = event.status === "failed" ? "warn" : "info";
        this.logger[level](
          {
            callId: event.callId,
            operationId: event.operationId,
            operationType: event.operationType,
            status: event.status,
            clientContext: event.clientContext,
            resultInfo: event.resultInfo,
          },
          "operation completed",
        );
        // A service-hosted call's IVR operation settles its pending promise.
        return this.serviceHosted?.operation(event.callId, event) ?? "handled";
      }
    }
  }

  /**
   * Hangs a call up through Graph. Resolves once Graph accepted (or the call was ended
   * locally); the call reaches `terminated` when Graph's deleted notification arrives.
   * Returns false for a call that is not live.
   */
  async hangUp(callId: string, reason = "requested"): Promise<boolean> {
    const call = this.liveCall(callId);
    if (!call) return false;
    if (call.state === "terminating") return true;
    call.answerRetries?.abort();
    call.mediaHostWait?.abort();
    this.registry.transition(call, "terminating", { reason });
    this.armEndConfirmation(call, "hang up not confirmed by Graph");
    try {
      await this.graph.hangUp(callId, { callId });
      this.metrics.graphRequests.inc({ action: "hangUp", outcome: "ok" });
    } catch (error) {
      this.metrics.graphRequests.inc({ action: "hangUp", outcome: "error" });
      const status = errorStatus(error);
      if (status === 404) {
        // Graph no longer knows the call: it ended already, which is what was asked.
        this.logger.info({ callId, err: describeError(error) }, "hang up: call already gone at Graph");
        await this.endLocally(call, "hang up: call already gone");
        return true;
      }
      // The call ends at Graph on its own once keepAlives stop; locally it is over either way.
      this.logger.warn(
        { callId, status, err: describeError(error) },
        "hang up request failed; ending call locally",
      );
      await this.endLocally(call, "hang up failed");
    }
    return true;
  }

  /**
   * Stops taking calls, hangs up every live call and waits for them to end (or the timeout),
   * then ends the rest locally and closes their media sessions.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    this.shuttingDown = true;
    const started = performance.now();
    // Calls being placed finish first (a call Graph created meanwhile is hung up by its placing,
    // which sees the shutdown), so that they end with the others.
    await withTimeout(Promise.allSettled([...this.placements]), timeoutMs / 2);
    // Calls held for the media host stop waiting and are rejected (shutting_down), not hung up.
    const live: Call[] = [];
    for (const call of this.registry.liveCalls()) {
      if (call.mediaHostWait) call.mediaHostWait.abort();
      else live.push(call);
    }
    this.logger.info({ liveCalls: live.length }, "signaling shutting down: hanging up live calls");
    await withTimeout(
      Promise.allSettled(live.map((call) => this.hangUp(call.callId, "shutdown"))),
      timeoutMs,
    );
    const remaining = Math.max(0, timeoutMs - (performance.now() - started));
    const allEnded = await this.registry.waitForNoLiveCalls(remaining);
    if (!allEnded) {
      const stragglers = this.registry.liveCalls();
      this.logger.warn(
        { calls: stragglers.map((call) => call.callId) },
        "calls not ended by Graph in time; ending locally",
      );
      await Promise.allSettled(stragglers.map((call) => this.endLocally(call, "shutdown timeout")));
    }
    await withTimeout(
      Promise.allSettled([...this.pending]),
      Math.max(100, timeoutMs - (performance.now() - started)),
    );
  }

  private onIncomingCall(event: IncomingCallEvent, context: BatchContext): string {
    if (this.registry.get(event.callId)) return "duplicate";
    const tenantId = event.tenantId ?? context.tokenTenantId;
    const call = this.registry.add(event.callId, "incoming", "incoming", tenantId);
    call.myParticipantId = event.myParticipantId;
    call.organizerId = event.organizerId;
    if (this.serviceHosted) {
      // Tenant, shutdown and capacity first; the media host matters only for app-hosted.
      const decision = this.decide(call, "none", true);
      if (decision.action === "reject") return this.carryOut(call, decision, event, context);
      this.track(this.chooseMedia(call, event, context));
      return "choosing_media";
    }
    return this.takeAppHosted(call, event, context);
  }

  /** Asks the service-hosted handler (bounded in time); app-hosted when it declines or fails. */
  private async chooseMedia(call: Call, event: IncomingCallEvent, context: BatchContext): Promise<void> {
    const chosen = await this.serviceHosted?.choose({
      callId: call.callId,
      tenantId: call.tenantId,
      source: event.source,
      isMeeting: event.isMeeting,
    });
    if (call.state !== "incoming") {
      this.serviceHosted?.ended(call.callId, "call ended before it was answered");
      return;
    }
    if (!chosen) {
      this.takeAppHosted(call, event, context);
      return;
    }
    this.logger.info({ callId: call.callId }, "answering with service-hosted media");
    this.carryOut(call, this.decide(call, "none", true), event, context);
  }

  /** The policy for an app-hosted call: it needs the media host (held while it reconnects). */
  private takeAppHosted(call: Call, event: IncomingCallEvent, context: BatchContext): string {
    const tenantId = call.tenantId;
    const deadline = context.receivedAt + this.answerDeadlineMs;
    // The hold ends at the setting's bound or with room left before Graph's deadline.
    const holdUntil = Math.min(
      performance.now() + this.config.mediaHostWaitMs,
      deadline - MEDIA_HOST_WAIT_RESERVE_MS,
    );
    const canWait = this.media.waitForConnection !== undefined && holdUntil - performance.now() >= 1;
    const decision = this.decide(call, canWait ? "possible" : "none");
    if (decision.action === "waitForMediaHost") {
      const fields = { callId: call.callId, tenantId, holdMs: Math.round(holdUntil - performance.now()) };
      // At info once a second (with the count held back since), at debug the rest of a burst.
      const notLoggedBefore = this.heldCallLog.take();
      this.logger[notLoggedBefore === undefined ? "debug" : "info"](
        { ...fields, notLoggedBefore },
        "media host disconnected; holding the incoming call until it is back",
      );
      this.track(this.answerWhenMediaHostBack(call, event, context, holdUntil));
      return "waiting_for_media_host";
    }
    return this.carryOut(call, decision, event, context);
  }

  /** The policy on the call's facts now. */
  private decide(
    call: Call,
    mediaHostWait: "possible" | "none" | "expired",
    serviceHosted = false,
  ): CallDecision {
    return decideIncomingCall({
      tenantId: call.tenantId,
      // Calls being placed hold a slot too.
      liveCalls: this.activeCalls(call) + this.outgoing.placingCount,
      maxCalls: this.config.maxCalls,
      allowedTenants: this.config.allowedTenants,
      mediaUnavailable: this.media.unavailableReason(),
      mediaHostWait,
      shuttingDown: this.shuttingDown,
      serviceHosted,
      canRedirect: this.config.redirectWhenBusy !== undefined,
    });
  }

  /**
   * Answers or rejects an incoming call as decided; returns the notification's outcome label.
   * `waited`: it was held for the media host, so a reject's retries must end by Graph's deadline.
   */
  private carryOut(
    call: Call,
    decision: CallDecision,
    event: IncomingCallEvent,
    context: BatchContext,
    waited = false,
  ): string {
    const receivedAt = context.receivedAt;
    if (decision.action === "reject") {
      this.metrics.incomingCalls.inc({ decision: `rejected_${decision.reason}` });
      this.metrics.callsRejected.inc({ reason: decision.why });
      this.logger.info(
        { callId: call.callId, tenantId: call.tenantId, reason: decision.reason, why: decision.why },
        decision.why === "media_host_unreachable"
          ? "media host not back in time; rejecting incoming call"
          : "rejecting incoming call",
      );
      this.track(this.reject(call, decision.reason, waited ? receivedAt + this.answerDeadlineMs : undefined));
      return "rejected";
    }
    if (decision.action === "waitForMediaHost") throw new Error("a call is held only on arrival");
    if (decision.action === "redirect") {
      this.track(this.redirectBusy(call, receivedAt + this.answerDeadlineMs - ANSWER_DEADLINE_MARGIN_MS));
      return "redirecting";
    }
    this.registry.transition(call, "answering");
    this.track(this.answer(call, event, context));
    return "answering";
  }

  /**
   * The call arrived while the media host was disconnected: it stays incoming (neither answered
   * nor rejected) until the host is back or `holdUntil`, then the policy decides again on the
   * facts then (capacity may have changed). Its caller hanging up, a hang up or the shutdown
   * stop the wait.
   */
  private async answerWhenMediaHostBack(
    call: Call,
    event: IncomingCallEvent,
    context: BatchContext,
    holdUntil: number,
  ): Promise<void> {
    const wait = new AbortController();
    call.mediaHostWait = wait;
    let decision: CallDecision;
    try {
      // A host that drops again just after it came back is waited for again, within the hold.
      do {
        await this.media.waitForConnection?.(Math.max(0, holdUntil - performance.now()), wait.signal);
        if (call.state !== "incoming") {
          this.logger.info(
            { callId: call.callId, state: call.state },
            "call ended while waiting for the media host",
          );
          return;
        }
        const holdLeft = !wait.signal.aborted && holdUntil - performance.now() >= 1;
        decision = this.decide(call, holdLeft ? "possible" : "expired");
      } while (decision.action === "waitForMediaHost");
    } finally {
      call.mediaHostWait = undefined;
    }
    this.carryOut(call, decision, event, context, true);
  }

  /**
   * At capacity with BOT_REDIRECT_WHEN_BUSY set: the call is redirected there (Graph then ends
   * it here); a redirect Graph did not take falls back to rejecting it busy. The redirect's
   * retries use half the time left before Graph's deadline, leaving the rest for that reject.
   */
  private async redirectBusy(call: Call, deadlineAt: number): Promise<void> {
    const target = this.config.redirectWhenBusy;
    if (!target) throw new Error("redirect decided without a redirect target");
    this.registry.transition(call, "redirecting", { reason: "capacity" });
    const redirectEndWaitMs =
      (target.timeoutSeconds ?? MAX_REDIRECT_TIMEOUT_SECONDS) * 1000 + this.endConfirmTimeoutMs;
    this.logger.info({ callId: call.callId, why: "capacity" }, "at capacity: redirecting the incoming call");
    try {
      await this.graph.redirect(call.callId, [userInvitation(target)], target.timeoutSeconds, undefined, {
        callId: call.callId,
        deadlineAt: performance.now() + (deadlineAt - performance.now()) / 2,
      });
      this.metrics.graphRequests.inc({ action: "redirect", outcome: "ok" });
      this.metrics.incomingCalls.inc({ decision: "redirected_capacity" });
      // Graph ends the call once the target took it or its ring timeout passed; if it never
      // says so, the call is not kept forever.
      this.armEndConfirmation(call, "redirect not followed by the call's end", redirectEndWaitMs);
    } catch (error) {
      this.metrics.graphRequests.inc({ action: "redirect", outcome: "error" });
      if (!call.isLive || call.state !== "redirecting") return;
      if (isOutcomeUnknown(error)) {
        // Graph may have redirected it (a lost 202): a reject now would be refused; Graph's
        // notifications tell, and the call ends locally if none come.
        this.logger.warn(
          { callId: call.callId, err: describeError(error) },
          "redirect outcome unknown; waiting for Graph",
        );
        this.armEndConfirmation(call, "redirect outcome unknown and no end seen", redirectEndWaitMs);
        return;
      }
      this.metrics.incomingCalls.inc({ decision: "rejected_busy" });
      this.metrics.callsRejected.inc({ reason: "redirect_failed" });
      this.logger.warn(
        { callId: call.callId, err: describeError(error) },
        "redirect failed; rejecting the call busy",
      );
      await this.reject(call, "busy", deadlineAt);
    }
  }

  /** `deadlineAt`: Graph's answer deadline, past which a reject is pointless (Graph ended the call). */
  private async reject(call: Call, reason: RejectReason, deadlineAt?: number): Promise<void> {
    this.registry.transition(call, "terminating", { reason: `reject ${reason}` });
    this.armEndConfirmation(call, "reject not confirmed by Graph");
    try {
      await this.graph.reject(call.callId, reason, undefined, { callId: call.callId, deadlineAt });
      this.metrics.graphRequests.inc({ action: "reject", outcome: "ok" });
    } catch (error) {
      this.metrics.graphRequests.inc({ action: "reject", outcome: "error" });
      this.logger.warn({ callId: call.callId, err: describeError(error) }, "reject request failed");
      await this.endLocally(call, "reject failed");
    }
  }

  private async answer(call: Call, event: IncomingCallEvent, context: BatchContext): Promise<void> {
    const admittedAt = performance.now();
    const receivedAt = context.receivedAt;
    const callId = call.callId;
    let sessionRequestedAt: number | undefined;
    let sessionCreatedAt: number | undefined;
    const deadline = receivedAt + this.answerDeadlineMs;
    const answerBy = deadline - Math.min(ANSWER_DEADLINE_MARGIN_MS, this.answerDeadlineMs / 10);
    const preFetchMedia = this.serviceHosted?.preFetchMediaOf(callId);
    let mediaConfig: AnswerRequest["mediaConfig"];
    if (preFetchMedia) {
      // Graph hosts the media: no media session, the handler's files to prefetch instead.
      mediaConfig = {
        "@odata.type": "#microsoft.graph.serviceHostedMediaConfig",
        ...(preFetchMedia.length > 0 ? { preFetchMedia } : {}),
      };
    } else {
      let session: MediaSession;
      try {
        sessionRequestedAt = performance.now();
        session = await this.media.createSession({
          callId,
          tenantId: call.tenantId,
          direction: "sendRecv",
          unmixedAudio: this.config.media.unmixedAudio && event.isMeeting,
        });
      } catch (error) {
        await this.onMediaSessionFailed(call, error, deadline);
        return;
      }
      sessionCreatedAt = performance.now();
      call.hasMediaSession = true;
      mediaConfig = { "@odata.type": "#microsoft.graph.appHostedMediaConfig", blob: session.blob };
    }
    try {
      if (call.state !== "answering") {
        // Ended (caller hung up, shutdown) while the media session was being created.
        this.logger.info(
          { callId, state: call.state },
          "call left answering before the answer; not answering",
        );
        if (!call.isLive) await this.closeMedia(call, "call ended before answer");
        return;
      }
      if (answerBy - performance.now() < 1) throw new AnswerDeadlineError(this.answerDeadlineMs);
      const body: AnswerRequest = {
        callbackUri: this.config.callbackUrl,
        acceptedModalities: ["audio"],
        mediaConfig,
      };
      let answerSentAt = performance.now();
      let written = false;
      const retries = new AbortController();
      call.answerRetries = retries;
      // Retried while an attempt still fits before Graph's deadline (request-budget.ts), on
      // 429/500/502/503/504, timeouts and resets: Graph refuses a second answer, so a repeat
      // cannot answer twice. Retries stop once Graph's notifications say the call was answered.
      try {
        await this.graph.answer(callId, body, {
          callId,
          deadlineAt: answerBy,
          stopRetries: retries.signal,
          onWritten: (atMs) => {
            if (written) return;
            written = true;
            answerSentAt = atMs;
          },
        });
      } finally {
        call.answerRetries = undefined;
      }
      const answerAcceptedAt = performance.now();
      const latencySeconds = (answerAcceptedAt - receivedAt) / 1000;
      this.onAnswered?.({
        callId,
        receivedAt,
        ...context.stages,
        admittedAt,
        ...(sessionRequestedAt !== undefined ? { sessionRequestedAt, sessionCreatedAt } : {}),
        answerSentAt,
        answerAcceptedAt,
      });
      this.metrics.answerLatency.observe(latencySeconds);
      this.metrics.graphRequests.inc({ action: "answer", outcome: "ok" });
      this.metrics.incomingCalls.inc({ decision: "answered" });
      this.answerOutcome("accepted");
      call.answeredAt = Date.now();
      this.logger.info({ callId, latencyMs: Math.round(latencySeconds * 1e6) / 1e3 }, "call answered");
      // The state may have moved while the answer was in flight.
      if (call.isLive && (call.state as CallLifecycleState) !== "terminating") this.startKeepAlive(call);
    } catch (error) {
      await this.onAnswerFailed(call, error, deadline);
    }
  }

  /**
   * The answer did not get Graph's 202. The call goes on if Graph's notifications say it was
   * answered; waits for them if the answer may have gone through (the attempt's outcome is
   * unknown, or a repeat was refused as the call was no longer incoming); otherwise it is
   * rejected through Graph, never left ringing until Graph's deadline.
   */
  private async onAnswerFailed(call: Call, error: unknown, deadline: number): Promise<void> {
    const callId = call.callId;
    if (!(error instanceof AnswerDeadlineError))
      this.metrics.graphRequests.inc({ action: "answer", outcome: "error" });
    if (ANSWERED_STATES.has(call.state)) {
      // Graph's notifications already say the call was answered (its 202 was lost on the way,
      // the request failed after Graph acted on it, or its retries were stopped): it goes on.
      this.countAnswered(
        call,
        "answer request failed, but Graph reports the call answered; carrying on",
        error,
      );
      return;
    }
    if (call.state !== "answering") {
      // Ended (caller hung up, shutdown) while being answered: that path ends it.
      this.answerOutcome("call_ended");
      this.logger.info(
        { callId, state: call.state, err: describeError(error) },
        "call ended while answering",
      );
      return;
    }
    const status = errorStatus(error);
    if (status === 404) {
      this.metrics.incomingCalls.inc({ decision: "answer_failed" });
      this.answerOutcome("ended_locally");
      this.logger.warn({ callId, err: describeError(error) }, "Graph no longer knows the call; ending it");
      await this.endLocally(call, "answer: call gone");
      return;
    }
    if (isOutcomeUnknown(error)) {
      // Graph may have answered: give its notifications the rest of the deadline, then hang up
      // through Graph (a call it did answer must not stay connected without media).
      call.answerOutcomeUnknown = true;
      this.logger.warn(
        { callId, err: describeError(error) },
        status === 409 || status === 400
          ? "a repeated answer was refused: an earlier attempt went through; waiting for Graph"
          : "answer outcome unknown; waiting for Graph",
      );
      this.armCallTimer(call, Math.max(1000, deadline - performance.now()), async () => {
        // Not answering any more: its end (or establishment) settles the outcome.
        if (call.state !== "answering" || !call.answerOutcomeUnknown) return;
        call.answerOutcomeUnknown = false;
        this.metrics.incomingCalls.inc({ decision: "answer_failed" });
        this.answerOutcome("hung_up_unknown");
        await this.hangUp(callId, "answer outcome unknown and no establishment seen");
      });
      return;
    }
    this.metrics.incomingCalls.inc({ decision: "answer_failed" });
    if (performance.now() >= deadline) {
      // Graph has given up on the call already: nothing to reject.
      this.answerOutcome("ended_locally");
      this.logger.error(
        { callId, err: describeError(error) },
        "answer not taken before the deadline; ending the call",
      );
      await this.endLocally(call, "answer failed");
      return;
    }
    // Graph never took the answer: the caller must not hear ringing until Graph gives up.
    this.answerOutcome("rejected");
    this.metrics.callsRejected.inc({ reason: "answer_failed" });
    this.logger.error(
      { callId, reason: "busy", err: describeError(error) },
      "answering the call failed; rejecting it",
    );
    await this.reject(call, "busy", deadline);
  }

  /** The call turned out answered although its answer request did not get Graph's 202. */
  private countAnswered(call: Call, message: string, error?: unknown): void {
    this.metrics.incomingCalls.inc({ decision: "answered" });
    this.answerOutcome("answered_per_notifications");
    call.answeredAt = Date.now();
    this.logger.warn(
      {
        callId: call.callId,
        state: call.state,
        ...(error === undefined ? {} : { err: describeError(error) }),
      },
      message,
    );
    if (!call.keepAliveTimer) this.startKeepAlive(call);
  }

  /**
   * No media session for the call (the host refused or lost the creation, or its blob was
   * unusable): the call cannot be answered, so it is rejected through Graph at once rather than
   * left ringing until Graph's deadline. `busy`: the bot cannot take the call now.
   */
  private async onMediaSessionFailed(call: Call, error: unknown, deadline: number): Promise<void> {
    const callId = call.callId;
    if (call.state !== "answering") {
      // Ended (caller hung up, shutdown) while the media session was being created.
      this.logger.info(
        { callId, state: call.state, err: describeError(error) },
        "media session not created for a call that left answering",
      );
      return;
    }
    if (performance.now() >= deadline) {
      // Graph has given up on the call already: nothing to reject.
      this.metrics.incomingCalls.inc({ decision: "answer_failed" });
      this.logger.error(
        { callId, err: describeError(error) },
        "media session not created before the answer deadline; ending the call",
      );
      await this.endLocally(call, "media session failed after the answer deadline");
      return;
    }
    this.metrics.incomingCalls.inc({ decision: "rejected_busy" });
    this.metrics.callsRejected.inc({ reason: "media_session_failed" });
    this.logger.warn(
      { callId, reason: "busy", err: describeError(error) },
      "media session could not be created; rejecting the call",
    );
    await this.reject(call, "busy");
  }

  private onCallState(event: CallStateEvent): string {
    const call = this.registry.get(event.callId);
    if (!call) return "unknown_call";
    const to = LIFECYCLE_OF[event.state];
    if (!to) {
      // Counted per event (unknown_state); logged rate-limited: a batch can hold thousands.
      const notLoggedBefore = this.unknownStateLog.take();
      if (notLoggedBefore !== undefined)
        this.logger.warn(
          { callId: event.callId, state: event.rawState.slice(0, 64), notLoggedBefore },
          "unknown call state ignored",
        );
      return "unknown_state";
    }
    if (to === "incoming") return call.state === "incoming" ? "duplicate" : "stale";
    if (to === "terminated") return this.onCallEnded({ kind: "callEnded", callId: event.callId });
    const outcome = this.registry.transition(call, to);
    if (outcome === "applied" && to === "terminating" && !call.hangUpTimer) {
      // Graph is ending the call: its end notification should follow; if it never comes, the
      // call must not hold a slot and a media session forever.
      this.armEndConfirmation(call, "Graph's terminating not followed by the call's end");
    }
    if (outcome === "applied" && (to === "establishing" || to === "established")) {
      // The call was answered: a pending retry of the answer would only be refused.
      call.answerRetries?.abort();
      if (call.answerOutcomeUnknown) {
        call.answerOutcomeUnknown = false;
        // An answer whose outcome was unknown did go through.
        if (call.hangUpTimer) clearTimeout(call.hangUpTimer);
        call.hangUpTimer = undefined;
        this.countAnswered(call, "answer outcome was unknown; Graph reports the call answered");
      }
      if (!call.keepAliveTimer) this.startKeepAlive(call);
    }
    if (to === "established" && outcome === "applied" && !call.mediaToldEstablished) {
      call.mediaToldEstablished = true;
      if (this.serviceHosted?.has(call.callId)) this.serviceHosted.established(call.callId);
      else this.media.callEstablished(call.callId);
    }
    if (to === "established" && outcome === "applied" && call.direction === "outgoing")
      this.outgoing.onEstablished(call);
    return outcome;
  }

  /** Applies a roster notification in order; the media side gets the resulting full roster. */
  private onRoster(event: RosterEvent): string {
    const call = this.liveCall(event.callId);
    if (!call) return "unknown_call";
    const outcome = call.roster.apply(event);
    this.metrics.rosterUpdates.inc({ outcome });
    if (outcome === "stale") {
      this.logger.debug(
        {
          callId: call.callId,
          sequenceNumber: String(event.sequenceNumber),
          applied: String(call.roster.sequenceNumber),
        },
        "stale roster notification skipped",
      );
      return "stale";
    }
    // A service-hosted call has no media session to tell.
    if (this.serviceHosted?.has(call.callId)) return "handled";
    // The bot's own participant in a placed call's roster says whether it waits in the lobby.
    if (call.direction === "outgoing") this.outgoing.onRoster(call, call.roster.participants);
    this.media.updateRoster(call.callId, call.roster.participants, {
      myParticipantId: call.myParticipantId,
      organizerId: call.organizerId,
      appId: this.config.appId,
    });
    return "handled";
  }

  private onCallEnded(event: CallEndedEvent): string {
    const call = this.registry.get(event.callId);
    if (!call) return "unknown_call";
    if (!call.isLive) return "duplicate";
    this.stopAnswering(call);
    const result = event.resultInfo;
    const meaning = result ? describeResultCode(result.code, result.subcode) : undefined;
    this.metrics.callsEnded.inc({
      result: result
        ? isKnownResultCode(result.code, result.subcode)
          ? `${result.code}/${result.subcode}`
          : "other"
        : "none",
    });
    this.registry.transition(call, "terminated", {
      end: { resultInfo: result, meaning, localReason: event.terminationReason },
    });
    // A placed call's handlers get the end reason word (and the ended event before onEnd).
    const placedReason = call.direction === "outgoing" ? this.outgoing.onTerminated(call, result) : undefined;
    this.track(this.closeMedia(call, placedReason ?? meaning?.meaning ?? "call ended"));
    return "applied";
  }

  private startKeepAlive(call: Call): void {
    if (call.keepAliveTimer) return;
    call.keepAliveTimer = setInterval(
      () => this.track(this.keepAlive(call)),
      this.config.keepAliveIntervalMs,
    );
    call.keepAliveTimer.unref();
  }

  private async keepAlive(call: Call): Promise<void> {
    if (!call.isLive) {
      call.clearTimers();
      return;
    }
    try {
      await this.graph.keepAlive(call.callId, { callId: call.callId });
      this.metrics.graphRequests.inc({ action: "keepAlive", outcome: "ok" });
      this.logger.debug({ callId: call.callId }, "keepAlive sent");
    } catch (error) {
      this.metrics.graphRequests.inc({ action: "keepAlive", outcome: "error" });
      if (errorStatus(error) === 404) {
        this.logger.warn(
          { callId: call.callId },
          "keepAlive: Graph no longer knows the call; ending it locally",
        );
        await this.endLocally(call, "keepAlive 404: call gone");
        return;
      }
      // Transient: retried soon rather than a whole interval later, so that a failure or two
      // cannot add up to Graph's 45 minutes without a keepAlive.
      const retryMs = Math.min(KEEPALIVE_RETRY_MS, this.config.keepAliveIntervalMs / 2);
      this.logger.warn({ callId: call.callId, err: describeError(error), retryMs }, "keepAlive failed");
      if (call.isLive && !call.keepAliveRetryTimer) {
        call.keepAliveRetryTimer = setTimeout(() => {
          call.keepAliveRetryTimer = undefined;
          this.track(this.keepAlive(call));
        }, retryMs);
        call.keepAliveRetryTimer.unref();
      }
    }
  }

  private onMediaEvent(event: MediaSessionEvent): void {
    switch (event.kind) {
      case "sessionLost":
        this.logger.warn({ callId: event.callId, reason: event.reason }, "media session lost; hanging up");
        // A placed call ended by the bot because its media failed: "failed", not "hungUp".
        this.outgoing.noteBotEnd(event.callId, "failed");
        this.track(this.hangUp(event.callId, `media lost: ${event.reason}`).then(() => undefined));
        return;
      case "mediaConnected":
        this.logger.info({ callId: event.callId }, "media connected");
        return;
      case "recordingStatusRequested":
        this.track(this.updateRecordingStatus(event.callId, event.status));
        return;
      case "callControlRequested":
        this.track(
          this.control.forMedia(event.callId, event.request).then((result) => {
            this.media.callControlCompleted?.(event.callId, event.requestId, result);
          }),
        );
        return;
      case "hangUpRequested":
        // hangUp is idempotent: a call already ending is not hung up twice, an ended or
        // unknown one not at all.
        this.logger.info({ callId: event.callId, reason: event.reason }, "media handler asks to hang up");
        this.track(
          this.hangUp(event.callId, `media handler: ${event.reason}`).then((live) => {
            if (!live) this.logger.info({ callId: event.callId }, "hang up request ignored: call not live");
          }),
        );
        return;
    }
  }

  private async updateRecordingStatus(
    callId: string,
    status: "recording" | "notRecording" | "failed",
  ): Promise<void> {
    let ok = false;
    if (this.liveCall(callId)) {
      try {
        const operation = await this.graph.updateRecordingStatus(callId, status, undefined, { callId });
        // A 200 can carry a failed operation: then the status did not change, and nothing may be stored.
        ok = operation.status?.toLowerCase() !== "failed";
        this.metrics.graphRequests.inc({ action: "updateRecordingStatus", outcome: ok ? "ok" : "error" });
        if (ok) this.logger.info({ callId, status }, "recording status updated");
        else
          this.logger.warn(
            { callId, status, resultInfo: operation.resultInfo },
            "Graph answered the recording status update with a failed operation",
          );
      } catch (error) {
        this.metrics.graphRequests.inc({ action: "updateRecordingStatus", outcome: "error" });
        this.logger.warn({ callId, status, err: describeError(error) }, "updating recording status failed");
      }
    }
    this.media.recordingStatusUpdated(callId, status, ok);
  }

  /** Ends a call without waiting for Graph (Graph said it is gone, or it could not be reached). */
  private async endLocally(call: Call, reason: string): Promise<void> {
    this.stopAnswering(call);
    let placedReason: string | undefined;
    if (call.isLive) {
      this.metrics.callsEnded.inc({ result: "local" });
      this.registry.transition(call, "terminated", { end: { localReason: reason } });
      if (call.direction === "outgoing") placedReason = this.outgoing.onTerminated(call, undefined);
    }
    await this.closeMedia(call, placedReason ?? reason);
  }

  private answerOutcome(outcome: AnswerOutcome): void {
    this.metrics.answerOutcomes.inc({ outcome });
  }

  /**
   * The call ended: no more answer retries or wait for the media host, and an unknown answer
   * outcome no longer matters.
   */
  private stopAnswering(call: Call): void {
    call.answerRetries?.abort();
    call.mediaHostWait?.abort();
    if (call.answerOutcomeUnknown) {
      call.answerOutcomeUnknown = false;
      this.answerOutcome("call_ended");
    }
  }

  private armEndConfirmation(call: Call, reason: string, timeoutMs = this.endConfirmTimeoutMs): void {
    this.armCallTimer(call, timeoutMs, () => this.endLocally(call, reason));
  }

  /**
   * The call's one fallback timer (call.hangUpTimer, replacing any earlier one): `expire` runs
   * once after timeoutMs if the call is still live; establishment or the end clears it.
   */
  private armCallTimer(call: Call, timeoutMs: number, expire: () => Promise<void>): void {
    if (call.hangUpTimer) clearTimeout(call.hangUpTimer);
    call.hangUpTimer = setTimeout(() => {
      call.hangUpTimer = undefined;
      if (call.isLive) this.track(expire());
    }, timeoutMs);
    call.hangUpTimer.unref();
  }

  private async closeMedia(call: Call, reason: string): Promise<void> {
    // A service-hosted call has no media session: its pending operations settle, onEnd runs.
    this.serviceHosted?.ended(call.callId, reason);
    if (!call.hasMediaSession) return;
    call.hasMediaSession = false;
    try {
      await this.media.closeSession(call.callId, reason);
    } catch (error) {
      this.logger.error({ callId: call.callId, err: describeError(error) }, "closing media session failed");
    }
  }

  private liveCall(callId: string): Call | undefined {
    const call = this.registry.get(callId);
    return call?.isLive ? call : undefined;
  }

  /** Keeps a promise for shutdown to wait on; a rejection is logged, never left unhandled. */
  private track(work: Promise<void>): void {
    const tracked = work
      .catch((error: unknown) => this.logger.error({ err: describeError(error) }, "signaling task failed"))
      .finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }
}

class AnswerDeadlineError extends Error {
  constructor(deadlineMs: number) {
    super(`answer deadline of ${deadlineMs} ms passed before the answer could be sent`);
    this.name = "AnswerDeadlineError";
  }
}

async function withTimeout(work: Promise<unknown>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}
