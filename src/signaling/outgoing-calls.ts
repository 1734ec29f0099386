/**
 * Calls the bot places: meeting joins (by join URL, by meeting id + passcode, by chat and
 * organizer) and peer-to-peer calls to users, with app-hosted media. Each is refused at once
 * when it cannot be taken (typed error, counted); otherwise its media session is created under
 * a provisional id, createCall is sent, and once Graph named the call the session is bound to
 * that id and the call registered (outgoing, establishing) with keepAlive like an answered one.
 * Nothing is left half-created: a refused createCall closes the session; a call Graph created
 * but the bot cannot use (the media side cannot take its id, it is not established within the
 * join timeout, or it waits in the lobby past the lobby limit) is hung up through Graph.
 */
import { randomUUID } from "node:crypto";
import type { BotConfig } from "../config/config.js";
import type { GraphCallsApi } from "../graph/graph-calls-api.js";
import { parseMeetingJoinUrl } from "../graph/meeting-join-url.js";
import {
  callUserRequest,
  joinMeetingByChatInfoRequest,
  joinMeetingByIdRequest,
  joinMeetingByUrlRequest,
  type MeetingChatInfo,
  type MeetingIdJoin,
  type OutgoingCallOptions,
  type UserCallTarget,
} from "../graph/outgoing-call-requests.js";
import { InvalidRequestError } from "../graph/request-bodies.js";
import type { CreateCallRequest, Participant, ParticipantInfo, ResultInfo } from "../graph/types.js";
import type { Logger } from "../log/logger.js";
import type { CallEndReason, CallEvent } from "../media/bot-api.js";
import type { MediaSession, MediaSessionProvider } from "../media/media-session-provider.js";
import type { SignalingMetrics } from "../metrics/signaling-metrics.js";
import type { Call } from "./call.js";
import { callEndReasonOf } from "./call-end-reason.js";
import { isTenantAllowed } from "./call-policy.js";
import type { CallRegistry } from "./call-registry.js";
import { describeError, errorStatus, isOutcomeUnknown, messageOf } from "./graph-failure.js";
import type { HeldNotifications } from "./held-notifications.js";
import type { SignalingEvent } from "./notification-parser.js";
import { PlaceCallFailedError, PlaceCallRefusedError } from "./place-call-errors.js";
import { type PlacedCall, type PlacedCallKind, PlacedCallRecord } from "./placed-call.js";

/** A meeting to join: its join URL, its meeting id (+ passcode), or its chat and organizer. */
export type MeetingTarget = string | MeetingIdJoin | MeetingChatInfo;

export interface PlaceCallOptions {
  /** Longest wait in the meeting's lobby, ms (default BOT_LOBBY_TIMEOUT_MS); then the bot hangs up. */
  lobbyTimeoutMs?: number;
  /** Per-speaker unmixed audio (default: BOT_MEDIA_UNMIXED_AUDIO for meetings, false for a user). */
  unmixedAudio?: boolean;
  /** Display name of the bot as the call's source (default: Graph's, the app's name). */
  displayName?: string;
}

export type PlaceCallTarget = { meeting: MeetingTarget } | { user: UserCallTarget };

export type OutgoingCallsConfig = Pick<
  BotConfig,
  "appId" | "callbackUrl" | "maxCalls" | "allowedTenants" | "media" | "joinTimeoutMs" | "lobbyTimeoutMs"
>;

/** What the call manager lends the outgoing path. */
export interface OutgoingCallsHost {
  config: OutgoingCallsConfig;
  graph: GraphCallsApi;
  media: MediaSessionProvider;
  registry: CallRegistry;
  metrics: SignalingMetrics;
  logger: Logger;
  held: HeldNotifications;
  isShuttingDown(): boolean;
  /** Calls that hold a slot now (live and not terminating), of both directions. */
  activeCalls(): number;
  hangUp(callId: string, reason: string): Promise<boolean>;
  startKeepAlive(call: Call): void;
  /** Handles notifications that were held for the call, in order. */
  replay(events: SignalingEvent[]): void;
  track(work: Promise<void>): void;
  /** Observer of each placed call's establishment timings (benchmarks, diagnostics). */
  onPlacedEstablished?: (timing: PlacedCallTiming) => void;
}

/** performance.now() stamps of one placed call, reported once it is established. */
export interface PlacedCallTiming {
  callId: string;
  kind: PlacedCallKind;
  /**
   * createCall's bytes went to the socket (its first attempt); a client that does not report
   * it: when createCall was handed to the Graph client.
   */
  createSentAt: number;
  /** Graph's 201 to createCall was read. */
  createAcceptedAt: number;
  /** The bot handled Graph's `established` for the call (its `established` event was emitted). */
  establishedAt: number;
}

/** Validates a body before the media session exists; the real blob replaces it. */
const PLACEHOLDER_BLOB = "{}";
const MAX_DISPLAY_NAME = 256;

interface PlacedState {
  record: PlacedCallRecord;
  meeting: boolean;
  kind: PlacedCallKind;
  myParticipantId: string | undefined;
  lobbyTimeoutMs: number;
  inLobby: boolean;
  wasInLobby: boolean;
  established: boolean;
  /** Time left of the join timeout (it does not run while in the lobby). */
  joinLeftMs: number;
  joinStartedAt: number;
  joinTimer?: NodeJS.Timeout;
  lobbyTimer?: NodeJS.Timeout;
  /** The bot ended the call for this reason (a timeout): it wins over Graph's "ended by bot". */
  endReason?: CallEndReason;
  /** Ended by the join or lobby timeout: its outcome is counted already. */
  timedOut: boolean;
  hungUpByApp: boolean;
  createSentAt: number;
  createAcceptedAt: number;
}

export class OutgoingCalls {
  private readonly calls = new Map<string, PlacedState>();
  private placing = 0;

  constructor(private readonly host: OutgoingCallsHost) {}

  /** Calls being placed (createCall not yet registered): they count against maxCalls. */
  get placingCount(): number {
    return this.placing;
  }

  /**
   * Places a call; resolves once Graph accepted createCall. Rejects with the target's own error
   * (MeetingJoinUrlError, InvalidRequestError), PlaceCallRefusedError or PlaceCallFailedError.
   */
  async place(target: PlaceCallTarget, options: PlaceCallOptions = {}): Promise<PlacedCall> {
    const { kind, build, tenantId, meeting, organizerId } = this.prepare(target, options);
    const log = this.host.logger;
    const refusal = this.refusal(tenantId);
    if (refusal !== undefined) {
      this.count(kind, `refused_${refusal.reason}`);
      log.info({ kind, tenantId, reason: refusal.reason }, "call not placed: refused");
      throw refusal;
    }
    // Graph names the call only in createCall's answer: until then the session goes by an id
    // of the bot's own, which is also its media session id.
    const provisionalId = randomUUID();
    this.placing++;
    let placingCounted = true;
    const donePlacing = () => {
      if (placingCounted) this.placing--;
      placingCounted = false;
    };
    let session: MediaSession;
    try {
      session = await this.host.media.createSession({
        callId: provisionalId,
        direction: "sendRecv",
        unmixedAudio: options.unmixedAudio ?? (meeting ? this.host.config.media.unmixedAudio : false),
        placed: true,
      });
    } catch (error) {
      donePlacing();
      this.count(kind, "media_session_failed");
      log.warn({ kind, provisionalId, err: describeError(error) }, "call not placed: no media session");
      throw new PlaceCallFailedError("media_session", messageOf(error), undefined, { cause: error });
    }
    const closeSession = (id: string, reason: string) =>
      this.host.media
        .closeSession(id, reason)
        .catch((error: unknown) =>
          log.warn({ callId: id, err: describeError(error) }, "closing a placed call's media session failed"),
        );
    this.host.held.begin();
    let callId: string;
    let myParticipantId: string | undefined;
    let createSentAt = performance.now();
    let createAcceptedAt = createSentAt;
    let written = false;
    try {
      const resource = await this.host.graph.createCall(build(session.blob), {
        onWritten: (atMs) => {
          if (written) return;
          written = true;
          createSentAt = atMs;
        },
      });
      createAcceptedAt = performance.now();
      this.host.metrics.graphRequests.inc({ action: "createCall", outcome: "ok" });
      if (typeof resource.id !== "string" || resource.id === "")
        throw new Error("Graph's createCall answer has no call id");
      callId = resource.id;
      myParticipantId = typeof resource.myParticipantId === "string" ? resource.myParticipantId : undefined;
    } catch (error) {
      this.host.held.end();
      donePlacing();
      this.host.metrics.graphRequests.inc({ action: "createCall", outcome: "error" });
      await closeSession(provisionalId, "createCall failed");
      const status = errorStatus(error);
      if (isOutcomeUnknown(error)) {
        this.count(kind, "create_unknown");
        log.warn(
          { kind, mediaSessionId: provisionalId, err: describeError(error) },
          "createCall's outcome is unknown: Graph may have created a call the bot cannot name (it ends without keepAlives or media); media session closed",
        );
        throw new PlaceCallFailedError("create_unknown", messageOf(error), status, { cause: error });
      }
      this.count(kind, "create_refused");
      log.warn({ kind, status, err: describeError(error) }, "createCall refused; media session closed");
      throw new PlaceCallFailedError("create_refused", messageOf(error), status, { cause: error });
    }
    try {
      await this.host.media.bindCallId(provisionalId, callId);
    } catch (error) {
      this.host.held.discard(callId);
      this.host.held.end();
      donePlacing();
      this.count(kind, "bind_failed");
      log.warn(
        { callId, mediaSessionId: provisionalId, err: describeError(error) },
        "the media side cannot take the placed call's id; hanging it up",
      );
      await this.hangUpUnregistered(callId);
      await closeSession(provisionalId, "media side cannot take the call id");
      await closeSession(callId, "media side cannot take the call id");
      throw new PlaceCallFailedError("bind_failed", messageOf(error), undefined, { cause: error });
    }
    const call = this.host.registry.add(callId, "establishing", "outgoing", tenantId);
    call.hasMediaSession = true;
    call.myParticipantId = myParticipantId;
    call.organizerId = organizerId;
    donePlacing();
    const state: PlacedState = {
      record: new PlacedCallRecord(
        callId,
        session.mediaSessionId,
        kind,
        async () => {
          state.hungUpByApp = true;
          await this.host.hangUp(callId, "requested by the app");
        },
        (error) => log.warn({ callId, err: describeError(error) }, "placed call event listener threw"),
      ),
      meeting,
      kind,
      myParticipantId,
      lobbyTimeoutMs: options.lobbyTimeoutMs ?? this.host.config.lobbyTimeoutMs,
      inLobby: false,
      wasInLobby: false,
      established: false,
      joinLeftMs: this.host.config.joinTimeoutMs,
      joinStartedAt: 0,
      timedOut: false,
      hungUpByApp: false,
      createSentAt,
      createAcceptedAt,
    };
    this.calls.set(callId, state);
    this.host.startKeepAlive(call);
    this.runJoinTimer(state);
    log.info(
      { callId, kind, tenantId, mediaSessionId: session.mediaSessionId, myParticipantId },
      "call placed; establishing",
    );
    const held = this.host.held.take(callId);
    this.host.held.end();
    this.host.replay(held);
    // The bot began stopping while the call was being placed: it is hung up before this returns
    // (shutdown waits for placements in flight).
    if (this.host.isShuttingDown()) await this.host.hangUp(callId, "shutdown");
    return state.record;
  }

  /** A roster of a placed call: the bot's own participant tells whether it waits in the lobby. */
  onRoster(call: Call, participants: Participant[]): void {
    const state = this.calls.get(call.callId);
    if (state === undefined || state.established || call.state !== "establishing") return;
    const own =
      state.myParticipantId !== undefined
        ? participants.find((p) => p.id === state.myParticipantId)
        : participants.find((p) => p.info?.identity?.application?.id === this.host.config.appId);
    if (own?.isInLobby === true && !state.inLobby) {
      state.inLobby = true;
      state.wasInLobby = true;
      this.pauseJoinTimer(state);
      state.lobbyTimer = setTimeout(() => this.expire(state, "lobbyTimeout"), state.lobbyTimeoutMs);
      state.lobbyTimer.unref();
      this.emit(state, { type: "lobby" });
    } else if (own?.isInLobby === false && state.inLobby) {
      // Admitted; `admitted` is told with the establishment. The join timeout runs again.
      state.inLobby = false;
      clearTimeout(state.lobbyTimer);
      state.lobbyTimer = undefined;
      this.runJoinTimer(state);
    }
  }

  /** The bot is ending a placed call for this reason (its media failed): its ended event says so. */
  noteBotEnd(callId: string, reason: CallEndReason): void {
    const state = this.calls.get(callId);
    if (state !== undefined && state.endReason === undefined) state.endReason = reason;
  }

  /** Graph established a placed call. */
  onEstablished(call: Call): void {
    const state = this.calls.get(call.callId);
    if (state === undefined || state.established) return;
    state.established = true;
    state.inLobby = false;
    this.clearTimers(state);
    this.count(state.kind, "established");
    if (state.wasInLobby) this.emit(state, { type: "admitted" });
    this.emit(state, { type: "established" });
    this.host.onPlacedEstablished?.({
      callId: call.callId,
      kind: state.kind,
      createSentAt: state.createSentAt,
      createAcceptedAt: state.createAcceptedAt,
      establishedAt: performance.now(),
    });
  }

  /**
   * A placed call ended (Graph's end notification, with its resultInfo, or a local end):
   * returns the end reason word (for the media session's close), undefined for other calls.
   */
  onTerminated(call: Call, resultInfo: ResultInfo | undefined): CallEndReason | undefined {
    const state = this.calls.get(call.callId);
    if (state === undefined) return undefined;
    this.calls.delete(call.callId);
    this.clearTimers(state);
    const reason =
      state.endReason ?? (state.hungUpByApp ? "hungUp" : callEndReasonOf(resultInfo, state.meeting));
    if (!state.established && !state.timedOut) this.count(state.kind, "ended_before_established");
    const info = resultInfo
      ? {
          code: resultInfo.code,
          subcode: resultInfo.subcode,
          ...(resultInfo.message !== undefined ? { message: resultInfo.message } : {}),
        }
      : undefined;
    this.emit(state, { type: "ended", reason, ...(info ? { resultInfo: info } : {}) });
    return reason;
  }

  /** Builds the request once with a placeholder blob: a malformed target fails here, before anything. */
  private prepare(
    target: PlaceCallTarget,
    options: PlaceCallOptions,
  ): {
    kind: PlacedCallKind;
    build: (blob: string) => CreateCallRequest;
    tenantId: string;
    meeting: boolean;
    /** The meeting organizer's user id, when the target names it (roster roles). */
    organizerId?: string;
  } {
    let kind: PlacedCallKind = "user";
    try {
      if ("user" in target) {
        kind = "user";
      } else if (typeof target.meeting === "string") kind = "join_url";
      else if ("joinMeetingId" in target.meeting) kind = "join_id";
      else kind = "join_chat";
      checkOptions(options);
      const base = (blob: string): OutgoingCallOptions => ({
        callbackUri: this.host.config.callbackUrl,
        mediaBlob: blob,
        ...(options.displayName !== undefined ? { source: this.source(options.displayName) } : {}),
      });
      let build: (blob: string) => CreateCallRequest;
      let tenantId: string;
      let organizerId: string | undefined;
      if ("user" in target) {
        const user = target.user;
        build = (blob) => callUserRequest(user, base(blob));
        tenantId = String(user?.tenantId ?? "");
      } else if (typeof target.meeting === "string") {
        const info = parseMeetingJoinUrl(target.meeting);
        build = (blob) => joinMeetingByUrlRequest(info, base(blob));
        tenantId = info.tenantId;
        organizerId = info.organizerId;
      } else if ("joinMeetingId" in target.meeting) {
        const byId = target.meeting;
        build = (blob) => joinMeetingByIdRequest(byId, base(blob));
        tenantId = String(byId.tenantId ?? "");
      } else {
        const chat = target.meeting;
        build = (blob) => joinMeetingByChatInfoRequest(chat, base(blob));
        tenantId = String(chat?.tenantId ?? "");
        organizerId = chat?.organizerId;
      }
      build(PLACEHOLDER_BLOB);
      return { kind, build, tenantId: tenantId.trim(), meeting: kind !== "user", organizerId };
    } catch (error) {
      this.count(kind, "refused_invalid_target");
      this.host.logger.info({ kind, err: messageOf(error) }, "call not placed: invalid target");
      throw error;
    }
  }

  private refusal(tenantId: string): PlaceCallRefusedError | undefined {
    const config = this.host.config;
    if (this.host.isShuttingDown()) return new PlaceCallRefusedError("shutting_down", "the bot is stopping");
    const active = this.host.activeCalls() + this.placing;
    if (active >= config.maxCalls)
      return new PlaceCallRefusedError("capacity", `${active} calls of at most ${config.maxCalls} are live`);
    const unavailable = this.host.media.unavailableReason();
    if (unavailable !== null)
      return new PlaceCallRefusedError("media_unavailable", `media cannot take a call now (${unavailable})`);
    if (!isTenantAllowed(tenantId, config.allowedTenants))
      return new PlaceCallRefusedError(
        "tenant_not_allowed",
        `tenant ${tenantId} is not in BOT_ALLOWED_TENANTS`,
      );
    return undefined;
  }

  private source(displayName: string): ParticipantInfo {
    return {
      "@odata.type": "#microsoft.graph.participantInfo",
      identity: {
        "@odata.type": "#microsoft.graph.identitySet",
        application: { "@odata.type": "#microsoft.graph.identity", id: this.host.config.appId, displayName },
      },
    };
  }

  /** The bot ends a placed call itself (join or lobby timeout), through Graph. */
  private expire(state: PlacedState, why: "lobbyTimeout" | "joinTimeout"): void {
    const callId = state.record.callId;
    if (state.established || state.record.hasEnded) return;
    state.endReason = why === "lobbyTimeout" ? "lobbyTimeout" : "failed";
    state.timedOut = true;
    this.count(state.kind, why === "lobbyTimeout" ? "lobby_timeout" : "join_timeout");
    this.host.logger.warn(
      {
        callId,
        kind: state.kind,
        ...(why === "lobbyTimeout"
          ? { lobbyTimeoutMs: state.lobbyTimeoutMs }
          : { joinTimeoutMs: this.host.config.joinTimeoutMs }),
      },
      why === "lobbyTimeout"
        ? "placed call waited in the lobby too long; hanging up"
        : "placed call not established within the join timeout; hanging up",
    );
    this.host.track(this.host.hangUp(callId, why).then(() => undefined));
  }

  private runJoinTimer(state: PlacedState): void {
    clearTimeout(state.joinTimer);
    state.joinStartedAt = performance.now();
    state.joinTimer = setTimeout(() => this.expire(state, "joinTimeout"), Math.max(0, state.joinLeftMs));
    state.joinTimer.unref();
  }

  private pauseJoinTimer(state: PlacedState): void {
    if (state.joinTimer === undefined) return;
    clearTimeout(state.joinTimer);
    state.joinTimer = undefined;
    state.joinLeftMs -= performance.now() - state.joinStartedAt;
  }

  private clearTimers(state: PlacedState): void {
    clearTimeout(state.joinTimer);
    clearTimeout(state.lobbyTimer);
    state.joinTimer = undefined;
    state.lobbyTimer = undefined;
  }

  private emit(state: PlacedState, event: CallEvent): void {
    const callId = state.record.callId;
    this.host.logger.info({ callId, kind: state.kind, ...event, event: event.type }, "placed call event");
    this.host.media.callEvent(callId, event);
    state.record.emit(event);
  }

  /** A call Graph created that the bot never registered: DELETE it (a 404 means it is gone). */
  private async hangUpUnregistered(callId: string): Promise<void> {
    try {
      await this.host.graph.hangUp(callId, { callId });
      this.host.metrics.graphRequests.inc({ action: "hangUp", outcome: "ok" });
    } catch (error) {
      this.host.metrics.graphRequests.inc({ action: "hangUp", outcome: "error" });
      this.host.logger.warn(
        { callId, err: describeError(error) },
        "hanging up the unusable placed call failed",
      );
    }
  }

  private count(kind: PlacedCallKind, outcome: string): void {
    this.host.metrics.outgoingCalls.inc({ kind, outcome });
  }
}

function checkOptions(options: PlaceCallOptions): void {
  const { lobbyTimeoutMs, displayName, unmixedAudio } = options;
  if (
    lobbyTimeoutMs !== undefined &&
    (!Number.isInteger(lobbyTimeoutMs) || lobbyTimeoutMs < 1000 || lobbyTimeoutMs > 3_600_000)
  )
    // The same range as BOT_LOBBY_TIMEOUT_MS and the calls API.
    throw new InvalidRequestError("lobbyTimeoutMs", "must be an integer from 1000 to 3600000 (ms)");
  if (
    displayName !== undefined &&
    (typeof displayName !== "string" || displayName.trim() === "" || displayName.length > MAX_DISPLAY_NAME)
  )
    throw new InvalidRequestError(
      "displayName",
      `must be a non-empty string of at most ${MAX_DISPLAY_NAME} characters`,
    );
  if (unmixedAudio !== undefined && typeof unmixedAudio !== "boolean")
    throw new InvalidRequestError("unmixedAudio", "must be a boolean");
}
