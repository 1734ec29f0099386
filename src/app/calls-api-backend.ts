/**
 * The calls API's backend (src/control/calls-api-backend.ts) over the bot's signaling service:
 * places calls with SignalingService.placeCall, lists them from the call registry, and controls
 * them by call id. Placed calls are followed through their CallEvents (lobby, ended) and kept
 * for a while after they end, so a client polling one (`join --wait`) sees how it ended.
 * The bot's typed errors become CallsApiRefusals here, in one place.
 */
import type {
  CallEnding,
  CallSummary,
  CallsApiBackend,
  CallsApiMeetingTarget,
  JoinOptions,
  PlacedCallInfo,
  UserTarget,
} from "../control/calls-api-backend.js";
import { CallsApiRefusal } from "../control/calls-api-refusal.js";
import { GraphError } from "../graph/graph-error.js";
import { userInvitation } from "../graph/user-invitation.js";
import type { CallSnapshot } from "../signaling/call.js";
import { CallControlError } from "../signaling/call-control.js";
import { callEndReasonOf } from "../signaling/call-end-reason.js";
import type { MeetingTarget, PlaceCallOptions, PlaceCallTarget } from "../signaling/outgoing-calls.js";
import { PlaceCallFailedError, PlaceCallRefusedError } from "../signaling/place-call-errors.js";
import type { PlacedCall } from "../signaling/placed-call.js";
import type { SignalingService } from "../signaling/signaling-service.js";

/** What the backend needs of the signaling service. */
export type CallsApiSignaling = Pick<
  SignalingService,
  "placeCall" | "calls" | "hangUp" | "mute" | "unmute" | "transfer" | "invite"
>;

export interface BotCallsApiBackendOptions {
  /** How long an ended placed call stays visible to GET /calls/:id (default 5 min). */
  endedRetentionMs?: number;
  /** At most this many ended placed calls are kept; the oldest are forgotten first. */
  maxEnded?: number;
}

/** What the backend follows of a call it placed. */
interface PlacedEntry {
  call: PlacedCall;
  kind: "meeting" | "user";
  inLobby: boolean;
  ended?: CallEnding;
  forgetTimer?: NodeJS.Timeout;
}

export class BotCallsApiBackend implements CallsApiBackend {
  private readonly placed = new Map<string, PlacedEntry>();
  /** Ended placed calls, oldest first. */
  private readonly endedOrder = new Set<string>();
  private readonly retentionMs: number;
  private readonly maxEnded: number;

  /** `signaling` is undefined while the bot starts (its listener is up before start returns). */
  constructor(
    private readonly signaling: () => CallsApiSignaling | undefined,
    options: BotCallsApiBackendOptions = {},
  ) {
    this.retentionMs = options.endedRetentionMs ?? 5 * 60_000;
    this.maxEnded = options.maxEnded ?? 1000;
  }

  joinMeeting(target: CallsApiMeetingTarget, options: JoinOptions): Promise<PlacedCallInfo> {
    return this.place({ meeting: signalingMeetingTarget(target) }, "meeting", options);
  }

  callUser(target: UserTarget, options: { displayName?: string }): Promise<PlacedCallInfo> {
    return this.place(
      {
        user: {
          userId: target.userId,
          tenantId: target.tenantId,
          ...(target.displayName !== undefined ? { displayName: target.displayName } : {}),
        },
      },
      "user",
      options.displayName !== undefined ? { displayName: options.displayName } : {},
    );
  }

  listCalls(): CallSummary[] {
    return this.service()
      .calls()
      .filter((call) => call.state !== "terminated")
      .map((call) => this.summary(call));
  }

  getCall(callId: string): CallSummary | undefined {
    const snapshot = this.service()
      .calls()
      .find((call) => call.callId === callId);
    if (snapshot) return this.summary(snapshot);
    // The registry forgot it; an ended placed call is still told for a while.
    const entry = this.placed.get(callId);
    if (!entry?.ended) return undefined;
    return {
      id: callId,
      direction: "outgoing",
      state: "terminated",
      kind: entry.kind,
      since: "",
      ended: entry.ended,
    };
  }

  async hangUp(callId: string): Promise<void> {
    const entry = this.placed.get(callId);
    const live = this.service()
      .calls()
      .some((call) => call.callId === callId && call.state !== "terminated");
    if (!live) throw unknownCall(callId);
    // A placed call's own hangUp ends it as "hungUp" for its app too.
    if (entry && !entry.ended) await entry.call.hangUp();
    else if (!(await this.service().hangUp(callId))) throw unknownCall(callId);
  }

  mute(callId: string): Promise<void> {
    return this.control(async (s) => void (await s.mute(callId)));
  }

  unmute(callId: string): Promise<void> {
    return this.control(async (s) => void (await s.unmute(callId)));
  }

  transfer(callId: string, target: UserTarget): Promise<void> {
    return this.control((s) => s.transfer(callId, { transferTarget: userInvitation(target) }));
  }

  invite(callId: string, targets: UserTarget[]): Promise<void> {
    return this.control(async (s) => void (await s.invite(callId, targets.map(userInvitation))));
  }

  /** Forgets the ended calls kept (their timers): the bot stops. */
  close(): void {
    for (const entry of this.placed.values()) clearTimeout(entry.forgetTimer);
    this.placed.clear();
    this.endedOrder.clear();
  }

  private service(): CallsApiSignaling {
    const signaling = this.signaling();
    if (!signaling) throw new CallsApiRefusal("starting", "the bot is starting; try again shortly");
    return signaling;
  }

  private async place(
    target: PlaceCallTarget,
    kind: "meeting" | "user",
    options: JoinOptions,
  ): Promise<PlacedCallInfo> {
    const placeOptions: PlaceCallOptions = {
      ...(options.lobbyTimeoutMs !== undefined ? { lobbyTimeoutMs: options.lobbyTimeoutMs } : {}),
      ...(options.unmixedAudio !== undefined ? { unmixedAudio: options.unmixedAudio } : {}),
      ...(options.displayName !== undefined ? { displayName: options.displayName } : {}),
    };
    let call: PlacedCall;
    try {
      call = await this.service().placeCall(target, placeOptions);
    } catch (error) {
      throw placeCallRefusal(error);
    }
    this.follow(call, kind);
    return { callId: call.callId, mediaSessionId: call.mediaSessionId, kind };
  }

  private follow(call: PlacedCall, kind: "meeting" | "user"): void {
    const entry: PlacedEntry = { call, kind, inLobby: false };
    this.placed.set(call.callId, entry);
    call.onEvent((event) => {
      if (event.type === "lobby") entry.inLobby = true;
      else if (event.type !== "ended") entry.inLobby = false;
      else {
        entry.inLobby = false;
        entry.ended = {
          reason: event.reason,
          ...(event.resultInfo ? { resultInfo: event.resultInfo } : {}),
        };
        this.keepEnded(call.callId, entry);
      }
    });
  }

  private keepEnded(callId: string, entry: PlacedEntry): void {
    this.endedOrder.add(callId);
    entry.forgetTimer = setTimeout(() => this.forget(callId), this.retentionMs);
    entry.forgetTimer.unref();
    while (this.endedOrder.size > this.maxEnded) {
      const oldest = this.endedOrder.values().next().value as string;
      this.forget(oldest);
    }
  }

  private forget(callId: string): void {
    clearTimeout(this.placed.get(callId)?.forgetTimer);
    this.placed.delete(callId);
    this.endedOrder.delete(callId);
  }

  private summary(call: CallSnapshot): CallSummary {
    const entry = this.placed.get(call.callId);
    const ended = entry?.ended ?? (call.state === "terminated" ? endingOf(call) : undefined);
    return {
      id: call.callId,
      direction: call.direction,
      state: call.state,
      ...(call.tenantId !== undefined ? { tenantId: call.tenantId } : {}),
      kind: entry?.kind ?? (call.direction === "incoming" ? "incoming" : "outgoing"),
      since: new Date(call.createdAt).toISOString(),
      ...(entry?.inLobby ? { inLobby: true } : {}),
      ...(ended ? { ended } : {}),
    };
  }

  private async control(action: (signaling: CallsApiSignaling) => Promise<void>): Promise<void> {
    try {
      await action(this.service());
    } catch (error) {
      throw error instanceof CallControlError ? callControlRefusal(error) : error;
    }
  }
}

function unknownCall(callId: string): CallsApiRefusal {
  return new CallsApiRefusal("unknown_call", `no live call ${callId} of this bot`);
}

/** How an answered call (or one the registry ended) ended, in the CallEvent vocabulary. */
function endingOf(call: CallSnapshot): CallEnding {
  const resultInfo = call.end?.resultInfo;
  return {
    reason: callEndReasonOf(resultInfo, false),
    ...(resultInfo
      ? {
          resultInfo: {
            code: resultInfo.code,
            subcode: resultInfo.subcode,
            ...(resultInfo.message !== undefined ? { message: resultInfo.message } : {}),
          },
        }
      : {}),
  };
}

/** PlaceCallRefusedError and PlaceCallFailedError as the API answers them; others unchanged. */
function placeCallRefusal(error: unknown): unknown {
  if (error instanceof PlaceCallRefusedError) return new CallsApiRefusal(error.reason, error.message);
  if (!(error instanceof PlaceCallFailedError)) return error;
  if (error.stage === "create_refused" || error.stage === "create_unknown") {
    const cause = error.cause instanceof GraphError ? error.cause : undefined;
    return new CallsApiRefusal("graph_error", error.message, {
      stage: error.stage,
      graph: {
        status: error.status ?? cause?.status ?? 0,
        ...(cause ? { code: cause.code } : {}),
        ...(cause?.requestId !== undefined ? { requestId: cause.requestId } : {}),
      },
    });
  }
  return new CallsApiRefusal("place_call_failed", error.message, { stage: error.stage });
}

/** The signaling side's CallControlError as the API answers it. */
function callControlRefusal(error: CallControlError): CallsApiRefusal {
  switch (error.reason) {
    case "not_our_call":
      return new CallsApiRefusal("unknown_call", error.message);
    case "invalid_request":
      return new CallsApiRefusal("invalid_target", error.message);
    case "refused":
      // Refused by the bot itself (no Graph status): the call is not in a state that takes it.
      if (error.status === undefined) return new CallsApiRefusal("invalid_state", error.message);
      return new CallsApiRefusal("graph_error", error.message, {
        graph: { status: error.status, ...(error.graphCode !== undefined ? { code: error.graphCode } : {}) },
      });
    default:
      return new CallsApiRefusal("graph_error", error.message, { graph: { status: error.status ?? 0 } });
  }
}

/** The calls API's tagged target as the signaling layer takes it: the link, or the fields untagged. */
function signalingMeetingTarget(target: CallsApiMeetingTarget): MeetingTarget {
  if (target.kind === "joinUrl") return target.joinUrl;
  const { kind: _kind, ...meeting } = target;
  return meeting;
}
