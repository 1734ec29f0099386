/**
 * Notifications for call ids the bot does not know, held while a createCall is in flight:
 * Graph may post a new call's first notifications before its 201 reaches the bot. They are
 * replayed in order once the 201 names the call; the rest are dropped when nothing is in
 * flight any more or when held too long. Bounded in count and time; overflow is counted and
 * logged (rate-limited). A held notification is counted in signaling_notifications_total once,
 * by what became of it: its outcome when replayed, unknown_call when dropped.
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

  /** The held events of a call the bot will not use (its placing failed): dropped, not replayed. */
  discard(callId: string): void {
    const dropped = this.remove(callId);
    if (dropped.length > 0) this.dropped(dropped);
  }

  /** The held events of one call, in the order they came, taken out of the hold. */
  take(callId: string): SignalingEvent[] {
    const taken = this.remove(callId);
    if (taken.length > 0) this.options.metrics.heldNotifications.inc({ outcome: "replayed" }, taken.length);
    return taken;
  }

  private remove(callId: string): SignalingEvent[] {
    this.expire();
    const removed: SignalingEvent[] = [];
    for (let i = 0; i < this.held.length; ) {
      const item = this.held[i] as Held;
      if (item.event.callId === callId) {
        removed.push(item.event);
        this.held.splice(i, 1);
      } else i++;
    }
    return removed;
  }

  private expire(): void {
    const oldest = performance.now() - this.maxAgeMs;
    let expired = 0;
    while (expired < this.held.length && (this.held[expired] as Held).heldAt < oldest) expired++;
    if (expired > 0) this.dropped(this.held.splice(0, expired).map((item) => item.event));
  }

  private dropAll(): void {
    if (this.held.length === 0) return;
    this.dropped(this.held.splice(0).map((item) => item.event));
  }

  private dropped(events: readonly SignalingEvent[]): void {
    const { metrics, logger } = this.options;
    metrics.heldNotifications.inc({ outcome: "dropped" }, events.length);
    // Not handled after all: counted as a notification for a call the bot does not know.
    for (const event of events) metrics.notifications.inc({ kind: event.kind, outcome: "unknown_call" });
    logger.info(
      { count: events.length },
      "held notifications dropped: no createCall named their calls (unknown calls)",
    );
  }
}
