/**
 * What the app gets for a call it placed (BotApp.joinMeeting, BotApp.callUser), once Graph
 * accepted createCall: the Graph call id, its events and promises for establishment and the end.
 */
import type { CallEndReason, CallEvent } from "../media/bot-api.js";
import { CallNotEstablishedError } from "./place-call-errors.js";

/** join_url, join_id, join_chat: a meeting join; user: a peer-to-peer call. */
export type PlacedCallKind = "join_url" | "join_id" | "join_chat" | "user";

export interface PlacedCallEnd {
  reason: CallEndReason;
  resultInfo?: { code: number; subcode: number; message?: string };
}

export interface PlacedCall {
  /** Graph's call id (the one MediaCall.callId has in the call's handlers). */
  readonly callId: string;
  /** The call's media session id (mpMediaSessionId of its blob). */
  readonly mediaSessionId: string;
  readonly kind: PlacedCallKind;
  /**
   * Calls `listener` for each CallEvent (lobby, admitted, established, ended), first with
   * those that already happened. Returns a function that unsubscribes.
   */
  onEvent(listener: (event: CallEvent) => void): () => void;
  /** Resolves once the call is established; rejects with CallNotEstablishedError if it ends first. */
  readonly established: Promise<void>;
  /** Resolves once the call ended, with why. Never rejects. */
  readonly ended: Promise<PlacedCallEnd>;
  /** Hangs the call up through Graph (ended.reason "hungUp"); resolves once Graph accepted. */
  hangUp(): Promise<void>;
}

/** The bot's side of a PlacedCall: it records events and settles the promises. */
export class PlacedCallRecord implements PlacedCall {
  readonly established: Promise<void>;
  readonly ended: Promise<PlacedCallEnd>;
  private readonly history: CallEvent[] = [];
  private readonly listeners = new Set<(event: CallEvent) => void>();
  private resolveEstablished!: () => void;
  private rejectEstablished!: (error: Error) => void;
  private resolveEnded!: (end: PlacedCallEnd) => void;
  private isEstablished = false;
  private isEnded = false;

  constructor(
    readonly callId: string,
    readonly mediaSessionId: string,
    readonly kind: PlacedCallKind,
    private readonly hangUpCall: () => Promise<void>,
    private readonly onListenerError: (error: unknown) => void,
  ) {
    this.established = new Promise<void>((resolve, reject) => {
      this.resolveEstablished = resolve;
      this.rejectEstablished = reject;
    });
    // An app that never awaits `established` must not get an unhandled rejection.
    this.established.catch(() => undefined);
    this.ended = new Promise((resolve) => {
      this.resolveEnded = resolve;
    });
  }

  get hasEnded(): boolean {
    return this.isEnded;
  }

  onEvent(listener: (event: CallEvent) => void): () => void {
    for (const event of this.history) this.deliver(listener, event);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  hangUp(): Promise<void> {
    return this.hangUpCall();
  }

  /** Records and delivers one event; the promises follow established and ended. */
  emit(event: CallEvent): void {
    if (this.isEnded) return;
    this.history.push(event);
    for (const listener of [...this.listeners]) this.deliver(listener, event);
    if (event.type === "established" && !this.isEstablished) {
      this.isEstablished = true;
      this.resolveEstablished();
    }
    if (event.type === "ended") {
      this.isEnded = true;
      if (!this.isEstablished)
        this.rejectEstablished(new CallNotEstablishedError(this.callId, event.reason, event.resultInfo));
      this.resolveEnded({
        reason: event.reason,
        ...(event.resultInfo ? { resultInfo: event.resultInfo } : {}),
      });
    }
  }

  private deliver(listener: (event: CallEvent) => void, event: CallEvent): void {
    try {
      listener(event);
    } catch (error) {
      this.onListenerError(error);
    }
  }
}
