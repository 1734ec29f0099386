/**
 * Notifications for call ids the bot does not know, held while a createCall is in flight:
 * Graph may post a new call's first notifications before its 201 reaches the bot. They are
 * replayed in order once the 201 names the call; the rest are dropped when nothing is in
 * flight any more or when held too long. Bounded in count and time; overflow is counted and
 * logged (rate-limited).
 */
import { LogRateLimiter } from "../log/log-rate-limiter.js";
import type { Logger } from "../log/logger.js";
import type { SignalingMetrics } from "../metrics/signaling-metrics.js";
import type { SignalingEvent } from "./notification-parser.js";

export interface HeldNotificationsOptions {
  metrics: SignalingMetrics;
  logger: Logger;
  /** At most this many are held (default 500). */
  maxHeld?: number;
  /** A held notification older than this is dropped (default 30 s: createCall's own budget). */
  maxAgeMs?: number;
}

interface Held {
  event: SignalingEvent;
  heldAt: number;
}

export class HeldNotifications {
  private readonly held: Held[] = [];
  private inFlight = 0;
  private readonly maxHeld: number;
  private readonly maxAgeMs: number;
  private readonly overflowLog = new LogRateLimiter(10_000);

  constructor(private readonly options: HeldNotificationsOptions) {
    this.maxHeld = options.maxHeld ?? 500;
    this.maxAgeMs = options.maxAgeMs ?? 30_000;
  }

  /** createCall requests in flight (their 201 not yet registered). */
  get createsInFlight(): number {
    return this.inFlight;
  }

  /** A createCall is about to be sent: unknown call ids are held from now on. */
  begin(): void {
    this.inFlight++;
  }

  /** A createCall finished (its call registered, or it failed); with none left, the rest is dropped. */
  end(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (this.inFlight === 0) this.dropAll();
  }

  /** Holds the event if a createCall is in flight; false = not held (handle it as unknown). */
  hold(event: SignalingEvent): boolean {
    if (this.inFlight === 0) return false;
    this.expire();
    if (this.held.length >= this.maxHeld) {
      this.options.metrics.heldNotifications.inc({ outcome: "overflow" });
      const notLoggedBefore = this.overflowLog.take();
      if (notLoggedBefore !== undefined)
        this.options.logger.warn(
          { callId: event.callId, kind: event.kind, maxHeld: this.maxHeld, notLoggedBefore },
          "too many notifications held for calls being placed; dropping this one",
        );
      return false;
    }
    this.held.push({ event, heldAt: performance.now() });
    this.options.metrics.heldNotifications.inc({ outcome: "held" });
    this.options.logger.debug(
      { callId: event.callId, kind: event.kind },
      "notification for a call not named yet held while a createCall is in flight",
    );
    return true;
  }

  /** The held events of one call, in the order they came, taken out of the hold. */
  take(callId: string): SignalingEvent[] {
    this.expire();
    const taken: SignalingEvent[] = [];
    for (let i = 0; i < this.held.length; ) {
      const item = this.held[i] as Held;
      if (item.event.callId === callId) {
        taken.push(item.event);
        this.held.splice(i, 1);
      } else i++;
    }
    if (taken.length > 0) this.options.metrics.heldNotifications.inc({ outcome: "replayed" }, taken.length);
    return taken;
  }

  private expire(): void {
    const oldest = performance.now() - this.maxAgeMs;
    let expired = 0;
    while (this.held.length > 0 && (this.held[0] as Held).heldAt < oldest) {
      this.held.shift();
      expired++;
    }
    if (expired > 0) this.dropped(expired);
  }

  private dropAll(): void {
    if (this.held.length === 0) return;
    const count = this.held.length;
    this.held.length = 0;
    this.dropped(count);
  }

  private dropped(count: number): void {
    this.options.metrics.heldNotifications.inc({ outcome: "dropped" }, count);
    this.options.logger.info(
      { count },
      "held notifications dropped: no createCall named their calls (unknown calls)",
    );
  }
}
