import { randomUUID } from "node:crypto";
import type {
  CallEnding,
  CallSummary,
  CallsApiBackend,
  CallsApiMeetingTarget,
  JoinOptions,
  PlacedCallInfo,
  UserTarget,
} from "../../src/control/calls-api-backend.js";
import { CallsApiRefusal } from "../../src/control/calls-api-refusal.js";

/** A state a placed call takes on each GET of it (the last one stays). */
export interface ScriptedState {
  state: string;
  inLobby?: boolean;
  ended?: CallEnding;
}

/**
 * A CallsApiBackend for tests of the HTTP layer and the CLI: records every request, keeps the calls
 * it placed, and throws `refuseWith` (once) when set. A placed call walks through `script`, one
 * step per GET of it, so a client polling it sees the states in order.
 */
export class RecordingCallsApiBackend implements CallsApiBackend {
  readonly requests: { method: string; args: unknown[] }[] = [];
  readonly calls = new Map<string, CallSummary>();
  refuseWith?: Error;
  script: ScriptedState[] = [{ state: "establishing" }];
  private readonly steps = new Map<string, number>();

  private record(method: string, ...args: unknown[]): void {
    this.requests.push({ method, args });
    const error = this.refuseWith;
    this.refuseWith = undefined;
    if (error) throw error;
  }

  private known(callId: string): CallSummary {
    const call = this.calls.get(callId);
    if (!call) throw new CallsApiRefusal("unknown_call", `no call ${callId} of this bot`);
    return call;
  }

  private place(kind: string, tenantId: string | undefined): PlacedCallInfo {
    const callId = randomUUID();
    this.calls.set(callId, {
      id: callId,
      direction: "outgoing",
      state: "establishing",
      ...(tenantId !== undefined ? { tenantId } : {}),
      kind,
      since: new Date().toISOString(),
    });
    this.steps.set(callId, 0);
    return { callId, mediaSessionId: randomUUID(), kind };
  }

  async joinMeeting(target: CallsApiMeetingTarget, options: JoinOptions): Promise<PlacedCallInfo> {
    this.record("joinMeeting", target, options);
    return this.place("meeting", target.kind === "joinUrl" ? undefined : target.tenantId);
  }

  async callUser(target: UserTarget, options: { displayName?: string }): Promise<PlacedCallInfo> {
    this.record("callUser", target, options);
    return this.place("user", target.tenantId);
  }

  listCalls(): CallSummary[] {
    this.record("listCalls");
    return [...this.calls.values()].filter((call) => call.ended === undefined);
  }

  getCall(callId: string): CallSummary | undefined {
    this.record("getCall", callId);
    const call = this.calls.get(callId);
    const step = this.steps.get(callId);
    if (call === undefined || step === undefined) return call;
    const next = this.script[Math.min(step, this.script.length - 1)] as ScriptedState;
    this.steps.set(callId, step + 1);
    const updated: CallSummary = { ...call, ...next };
    this.calls.set(callId, updated);
    return updated;
  }

  async hangUp(callId: string): Promise<void> {
    this.record("hangUp", callId);
    const call = this.known(callId);
    this.calls.set(callId, {
      ...call,
      state: "terminated",
      ended: { reason: "hungUp", resultInfo: { code: 200, subcode: 7000 } },
    });
  }

  async mute(callId: string): Promise<void> {
    this.record("mute", callId);
    this.known(callId);
  }

  async unmute(callId: string): Promise<void> {
    this.record("unmute", callId);
    this.known(callId);
  }

  async transfer(callId: string, target: UserTarget): Promise<void> {
    this.record("transfer", callId, target);
    this.known(callId);
  }

  async invite(callId: string, targets: UserTarget[]): Promise<void> {
    this.record("invite", callId, targets);
    this.known(callId);
  }
}
