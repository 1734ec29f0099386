import { randomUUID } from "node:crypto";
import type {
  CallState,
  CommsOperation,
  InvitationParticipantInfo,
  Participant,
  ResultInfo,
} from "../../graph/types.js";
import type { Logger } from "../../log/logger.js";
import type { RegisteredApp } from "./app-registry.js";
import type { EmulatedCall, PlaceIncomingCallOptions } from "./emulated-call.js";
import type { CommsNotification, NotificationSender } from "./notification-sender.js";
import type { NotificationTokenOverrides } from "./notification-token.js";
import type { Waiters } from "./waiters.js";

/** Call-end codes (see shared/docs/graph-calling.md). */
export const RESULT = {
  notAnsweredInTime: { code: 408, subcode: 1106, message: "The call was not answered in time." },
  noKeepAlive: {
    code: 408,
    subcode: 8537,
    message: "The call was ended because no keepAlive arrived in time.",
  },
  mediaFailure: { code: 410, subcode: 301005, message: "Media connectivity failure." },
  endedByBot: { code: 200, subcode: 7000, message: "The call was ended by the application." },
  endedByRemote: { code: 200, subcode: 5001, message: "The call was ended by the other party." },
  redirected: { code: 200, subcode: 0, message: "The call was redirected." },
} as const satisfies Record<string, ResultInfo>;

export interface CallTimings {
  /** Time to answer, reject or redirect an incoming call (15 000 ms). */
  answerDeadlineMs: number;
  /** From answer/create to the `establishing` notification. */
  establishingDelayMs: number;
  /** From `establishing` (and media ready) to `established`. */
  establishedDelayMs: number;
  /** How long establishWhen may take; then the call ends with 410/301005. */
  mediaTimeoutMs: number;
  /** A keepAlive is needed at least this often (45 min). */
  keepAliveTimeoutMs: number;
  /** Between `terminating` and `deleted` after a hang-up by the bot. */
  terminatingDelayMs: number;
}

/**
 * What decides an outgoing call's fate beyond media (a meeting's lobby, an emulated callee):
 * see meetings.ts and callees.ts.
 */
export interface OutgoingCallPlan {
  /**
   * Resolves true once the call may be established (admitted from the lobby, the callee
   * accepted); false when it was ended meanwhile. Until then the call stays establishing.
   */
  admission?: (call: EmulatedCall) => Promise<boolean>;
  /** The call is established (its media connected). */
  onEstablished?: (call: EmulatedCall) => void;
  /** The call ended, however. */
  onEnded?: (call: EmulatedCall) => void;
}

export interface CallEngineOptions {
  timings: CallTimings;
  /** Decides whether an answered/created call gets established (e.g. media connected). */
  establishWhen?: (call: EmulatedCall) => Promise<boolean>;
  sender: NotificationSender;
  notificationToken: (
    app: { appId: string; tenantId: string },
    overrides?: NotificationTokenOverrides,
  ) => Promise<string>;
  app: (appId: string) => RegisteredApp | undefined;
  waiters: Waiters;
  logger: Logger;
}

/**
 * The calling service's side of each call: state transitions, deadlines, and the notifications
 * each transition posts to the bot.
 */
export class CallEngine {
  readonly calls = new Map<string, EmulatedCall>();
  private readonly timers = new Map<string, Set<NodeJS.Timeout>>();
  private readonly keepAliveTimers = new Map<string, NodeJS.Timeout>();
  private readonly endListeners = new Map<string, (call: EmulatedCall) => void>();

  constructor(private readonly options: CallEngineOptions) {}

  get timings(): CallTimings {
    return this.options.timings;
  }

  placeIncomingCall(app: RegisteredApp, request: PlaceIncomingCallOptions): EmulatedCall {
    const id = randomUUID();
    const caller = request.caller ?? {};
    const callerIdentity = caller.identity ?? {
      user: {
        id: caller.id ?? randomUUID(),
        displayName: caller.displayName ?? "Emulated Caller",
        tenantId: request.tenantId ?? app.tenantId,
      },
    };
    const call: EmulatedCall = {
      id,
      appId: app.appId,
      tenantId: request.tenantId ?? app.tenantId,
      direction: "incoming",
      state: "incoming",
      callbackUri: app.callbackUrl,
      source: {
        "@odata.type": "#microsoft.graph.participantInfo",
        identity: callerIdentity,
        endpointType: "default",
        region: "westeurope",
        languageId: "en-US",
      },
      targets: [
        {
          "@odata.type": "#microsoft.graph.invitationParticipantInfo",
          identity: { application: { id: app.appId, displayName: app.displayName } },
        },
      ],
      requestedModalities: request.requestedModalities ?? ["audio"],
      myParticipantId: randomUUID(),
      callChainId: randomUUID(),
      scenarioId: randomUUID(),
      participants: [],
      createdAt: Date.now(),
      stateHistory: [{ state: "incoming", at: Date.now() }],
      isMuted: false,
      toneSequence: 0,
      operations: [],
    };
    if (request.meeting) {
      const threadId = `19:meeting_${randomUUID().replaceAll("-", "").slice(0, 24)}@thread.v2`;
      call.chatInfo = { threadId, messageId: "0" };
      call.meetingInfo = {
        "@odata.type": "#microsoft.graph.organizerMeetingInfo",
        organizer: { user: { ...(callerIdentity.user ?? {}), tenantId: call.tenantId } },
      };
    }
    call.participants = this.initialRoster(call, app);
    this.calls.set(id, call);
    this.after(call, this.timings.answerDeadlineMs, () => {
      if (call.state === "incoming") {
        this.options.logger.info({ callId: id }, "answer deadline passed");
        this.terminate(call, RESULT.notAnsweredInTime);
      }
    });
    this.notify(call, [
      {
        changeType: "created",
        resourceUrl: resourceUrl(call),
        resourceData: {
          ...callData(call),
          state: "incoming",
          direction: "incoming",
          callbackUri: call.callbackUri,
          source: call.source,
          targets: call.targets,
          requestedModalities: call.requestedModalities,
          tenantId: call.tenantId,
          myParticipantId: call.myParticipantId,
          callChainId: call.callChainId,
          ...(call.chatInfo ? { chatInfo: call.chatInfo } : {}),
          ...(call.meetingInfo ? { meetingInfo: call.meetingInfo } : {}),
        },
      },
    ]);
    this.changed();
    return call;
  }

  /** A call the bot placed (POST /communications/calls); returns it in state establishing. */
  createOutgoing(
    app: RegisteredApp,
    body: Record<string, unknown>,
    tenantId: string,
    plan: OutgoingCallPlan = {},
  ): EmulatedCall {
    const call: EmulatedCall = {
      id: randomUUID(),
      appId: app.appId,
      tenantId: typeof body.tenantId === "string" ? body.tenantId : tenantId,
      direction: "outgoing",
      state: "establishing",
      callbackUri: String(body.callbackUri),
      source: (body.source as EmulatedCall["source"]) ?? {
        identity: { application: { id: app.appId, displayName: app.displayName } },
      },
      targets: (body.targets as InvitationParticipantInfo[] | undefined) ?? [],
      requestedModalities: (body.requestedModalities as string[] | undefined) ?? ["audio"],
      myParticipantId: randomUUID(),
      callChainId: randomUUID(),
      scenarioId: randomUUID(),
      ...(body.chatInfo ? { chatInfo: body.chatInfo as EmulatedCall["chatInfo"] } : {}),
      ...(body.meetingInfo ? { meetingInfo: body.meetingInfo as EmulatedCall["meetingInfo"] } : {}),
      ...(body.mediaConfig ? { mediaConfig: body.mediaConfig as Record<string, unknown> } : {}),
      participants: [],
      createdAt: Date.now(),
      answeredAt: Date.now(),
      lastKeepAliveAt: Date.now(),
      stateHistory: [{ state: "establishing", at: Date.now() }],
      isMuted: false,
      toneSequence: 0,
      operations: [],
    };
    call.participants = this.initialRoster(call, app);
    this.calls.set(call.id, call);
    if (plan.onEnded) this.endListeners.set(call.id, plan.onEnded);
    this.armKeepAlive(call);
    void this.establish(call, plan);
    this.changed();
    return call;
  }

  answer(call: EmulatedCall, callbackUri: string, acceptedModalities: string[] | undefined): void {
    call.callbackUri = callbackUri;
    call.answeredAt = Date.now();
    call.lastKeepAliveAt = call.answeredAt;
    if (acceptedModalities) call.acceptedModalities = acceptedModalities;
    this.clearTimers(call);
    // Leaves `incoming` at once, so a second answer or a redirect is refused.
    this.setState(call, "establishing");
    this.armKeepAlive(call);
    void this.establish(call);
    this.changed();
  }

  reject(call: EmulatedCall, callbackUri: string | undefined): void {
    if (callbackUri) call.callbackUri = callbackUri;
    // After a reject the deleted notification carries no state, as observed from Graph.
    this.terminate(call, undefined, { omitState: true });
  }

  redirect(call: EmulatedCall, callbackUri: string | undefined): void {
    if (callbackUri) call.callbackUri = callbackUri;
    this.clearTimers(call);
    this.setState(call, "redirecting");
    this.notify(call, [
      {
        changeType: "updated",
        resourceUrl: resourceUrl(call),
        resourceData: { ...callData(call), state: "redirecting" },
      },
    ]);
    this.after(call, this.timings.terminatingDelayMs, () => this.terminate(call, RESULT.redirected));
  }

  /** DELETE by the bot: terminating, then deleted/terminated. */
  hangUpByBot(call: EmulatedCall): void {
    this.terminate(call, RESULT.endedByBot, { viaTerminating: true });
  }

  keepAlive(call: EmulatedCall): void {
    call.lastKeepAliveAt = Date.now();
    this.armKeepAlive(call);
    this.changed();
  }

  /** The other side (or the service) ends the call. */
  endCall(call: EmulatedCall, resultInfo: ResultInfo = RESULT.endedByRemote): void {
    this.terminate(call, resultInfo);
  }

  sendTone(call: EmulatedCall, tone: string): void {
    call.toneSequence += 1;
    this.notify(call, [
      {
        changeType: "updated",
        resourceUrl: resourceUrl(call),
        resourceData: {
          ...callData(call),
          state: call.state,
          toneInfo: { sequenceId: call.toneSequence, tone },
        },
      },
    ]);
  }

  updateRoster(call: EmulatedCall, participants: Participant[]): void {
    call.participants = participants;
    this.notifyRoster(call);
    this.changed();
  }

  /**
   * An operation that completes at once: returned to the caller and announced as `deleted`.
   * Status uses the metadata's casing (operationStatus members are PascalCase).
   */
  completeOperation(
    call: EmulatedCall,
    odataType: string,
    clientContext: string | undefined,
  ): CommsOperation {
    const operation: CommsOperation = {
      "@odata.type": odataType,
      id: randomUUID(),
      status: "Completed",
      ...(clientContext === undefined ? {} : { clientContext }),
      resultInfo: { code: 200, subcode: 0, message: "Success" },
    };
    call.operations.push(operation);
    this.announceOperation(call, operation);
    return operation;
  }

  /** A finished operation: a `deleted` notification on .../operations/{id} carrying it. */
  announceOperation(call: EmulatedCall, operation: CommsOperation): void {
    this.changed();
    this.notify(call, [
      {
        changeType: "deleted",
        resourceUrl: `${resourceUrl(call)}/operations/${operation.id}`,
        resourceData: {
          ...operation,
          "@odata.id": `${resourceUrl(call)}/operations/${operation.id}`,
        },
      },
    ]);
  }

  setMuted(call: EmulatedCall, muted: boolean): void {
    call.isMuted = muted;
    const bot = call.participants.find((p) => p.id === call.myParticipantId);
    if (bot) {
      bot.isMuted = muted;
      this.notifyRoster(call);
    }
  }

  /** Posts notifications for a call, signed for its app. */
  notify(
    call: EmulatedCall,
    value: CommsNotification[],
    extra: {
      tokenOverrides?: NotificationTokenOverrides;
      token?: string;
      headers?: Record<string, string | null>;
    } = {},
  ): Promise<void> {
    const { tokenOverrides, token, headers } = extra;
    return this.options.sender.send({
      url: call.callbackUri,
      callId: call.id,
      callChainId: call.callChainId,
      scenarioId: call.scenarioId,
      body: {
        "@odata.type": "#microsoft.graph.commsNotifications",
        value: value.map((n) => ({ "@odata.type": "#microsoft.graph.commsNotification", ...n })),
      },
      token:
        token === undefined ? () => this.options.notificationToken(call, tokenOverrides) : async () => token,
      ...(headers ? { headers } : {}),
    });
  }

  isEnded(call: EmulatedCall): boolean {
    return call.state === "terminated";
  }

  close(): void {
    this.endListeners.clear();
    for (const call of this.calls.values()) this.clearTimers(call);
  }

  /**
   * Posts `establishing`, waits for the plan's admission (lobby, callee) and establishWhen, then
   * posts `established` and the roster.
   */
  private async establish(call: EmulatedCall, plan: OutgoingCallPlan = {}): Promise<void> {
    let started = Date.now();
    await this.sleep(call, this.timings.establishingDelayMs);
    if (this.isEnded(call)) return;
    this.notify(call, [
      {
        changeType: "updated",
        resourceUrl: resourceUrl(call),
        resourceData: { ...callData(call), state: "establishing" },
      },
    ]);
    if (plan.admission) {
      const admitted = await plan.admission(call);
      if (!admitted || this.isEnded(call)) return;
      // Media is set up once admitted: its timeout counts from then.
      started = Date.now();
    }
    let ready = true;
    if (this.options.establishWhen) {
      const remaining = Math.max(0, this.timings.mediaTimeoutMs - (Date.now() - started));
      ready = await withTimeout(this.options.establishWhen(call), remaining).catch((error: unknown) => {
        this.options.logger.warn({ callId: call.id, err: (error as Error).message }, "establishWhen failed");
        return false;
      });
      if (this.isEnded(call)) return;
      if (!ready) {
        // Media never connected: the call stays establishing until the media timeout.
        const left = Math.max(0, this.timings.mediaTimeoutMs - (Date.now() - started));
        this.after(call, left, () => this.terminate(call, RESULT.mediaFailure));
        return;
      }
    }
    await this.sleep(call, this.timings.establishedDelayMs);
    if (this.isEnded(call)) return;
    this.setState(call, "established");
    this.notify(call, [
      {
        changeType: "updated",
        resourceUrl: resourceUrl(call),
        resourceData: { ...callData(call), state: "established" },
      },
    ]);
    this.notifyRoster(call);
    plan.onEstablished?.(call);
  }

  private terminate(
    call: EmulatedCall,
    resultInfo: ResultInfo | undefined,
    how: { viaTerminating?: boolean; omitState?: boolean } = {},
  ): void {
    if (this.isEnded(call) || call.state === "terminating") return;
    this.clearTimers(call);
    const finish = () => {
      this.setState(call, "terminated");
      call.endedAt = Date.now();
      if (resultInfo) call.resultInfo = { ...resultInfo };
      this.notify(call, [
        {
          changeType: "deleted",
          resourceUrl: resourceUrl(call),
          resourceData: {
            ...callData(call),
            ...(how.omitState ? {} : { state: "terminated" }),
            ...(resultInfo ? { resultInfo } : {}),
          },
        },
      ]);
      this.options.logger.info({ callId: call.id, resultInfo }, "call ended");
      const onEnded = this.endListeners.get(call.id);
      this.endListeners.delete(call.id);
      onEnded?.(call);
    };
    if (how.viaTerminating) {
      this.setState(call, "terminating");
      this.notify(call, [
        {
          changeType: "updated",
          resourceUrl: resourceUrl(call),
          resourceData: { ...callData(call), state: "terminating" },
        },
      ]);
      const timer = setTimeout(finish, this.timings.terminatingDelayMs);
      this.track(call, timer);
    } else {
      finish();
    }
  }

  private setState(call: EmulatedCall, state: CallState): void {
    call.state = state;
    call.stateHistory.push({ state, at: Date.now() });
    this.changed();
  }

  /** `updated` with the full roster; every post carries a higher rosterSequenceNumber. */
  private notifyRoster(call: EmulatedCall): void {
    call.rosterSequenceNumber = (call.rosterSequenceNumber ?? 0) + 1;
    const rosterSequenceNumber = call.rosterSequenceNumber;
    void this.notify(call, [
      {
        changeType: "updated",
        resourceUrl: `${resourceUrl(call)}/participants`,
        resourceData: call.participants.map((p) => ({
          "@odata.type": "#microsoft.graph.participant",
          "@odata.id": `${resourceUrl(call)}/participants/${p.id}`,
          ...p,
          rosterSequenceNumber,
        })),
      },
    ]);
  }

  private initialRoster(call: EmulatedCall, app: RegisteredApp): Participant[] {
    const stream = (sourceId: string) => ({
      mediaType: "audio",
      label: "main-audio",
      sourceId,
      direction: "sendReceive",
      serverMuted: false,
    });
    return [
      {
        id: randomUUID(),
        info: { identity: call.source.identity ?? {}, endpointType: "default", languageId: "en-US" },
        mediaStreams: [stream("1")],
        isMuted: false,
        isInLobby: false,
      },
      {
        id: call.myParticipantId,
        info: { identity: { application: { id: app.appId, displayName: app.displayName } } },
        mediaStreams: [stream("2")],
        isMuted: false,
        isInLobby: false,
      },
    ];
  }

  private armKeepAlive(call: EmulatedCall): void {
    const existing = this.keepAliveTimers.get(call.id);
    if (existing) clearTimeout(existing);
    const timer = setTimeout(() => {
      this.keepAliveTimers.delete(call.id);
      this.options.logger.info({ callId: call.id }, "no keepAlive in time");
      this.terminate(call, RESULT.noKeepAlive);
    }, this.timings.keepAliveTimeoutMs);
    timer.unref();
    this.keepAliveTimers.set(call.id, timer);
  }

  private after(call: EmulatedCall, ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.timers.get(call.id)?.delete(timer);
      action();
    }, ms);
    this.track(call, timer);
  }

  private sleep(call: EmulatedCall, ms: number): Promise<void> {
    return new Promise((resolve) => this.after(call, ms, resolve));
  }

  private track(call: EmulatedCall, timer: NodeJS.Timeout): void {
    let set = this.timers.get(call.id);
    if (!set) {
      set = new Set();
      this.timers.set(call.id, set);
    }
    set.add(timer);
  }

  private clearTimers(call: EmulatedCall): void {
    for (const timer of this.timers.get(call.id) ?? []) clearTimeout(timer);
    this.timers.delete(call.id);
    const keepAlive = this.keepAliveTimers.get(call.id);
    if (keepAlive) clearTimeout(keepAlive);
    this.keepAliveTimers.delete(call.id);
  }

  private changed(): void {
    this.options.waiters.changed();
  }
}

export function resourceUrl(call: EmulatedCall): string {
  return `/communications/calls/${call.id}`;
}

function callData(call: EmulatedCall): Record<string, unknown> {
  return { "@odata.type": "#microsoft.graph.call", "@odata.id": resourceUrl(call) };
}

function withTimeout(promise: Promise<boolean>, ms: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(false), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
