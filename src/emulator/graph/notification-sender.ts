import { randomUUID } from "node:crypto";
import { httpsRequest } from "../../graph/https-request.js";
import type { Logger } from "../../log/logger.js";

/** A commsNotification as posted inside `{"@odata.type": "#microsoft.graph.commsNotifications", value}`. */
export interface CommsNotification {
  "@odata.type"?: string;
  changeType: "created" | "updated" | "deleted";
  resourceUrl: string;
  resourceData?: unknown;
  [key: string]: unknown;
}

/** One notification POST (or one that a fault swallowed) and how the bot answered it. */
export interface NotificationDelivery {
  seq: number;
  callId?: string;
  url: string;
  changeTypes: string[];
  resourceUrls: string[];
  messageId: string;
  /** HTTP status the bot answered; undefined if dropped or the request failed. */
  status?: number;
  error?: string;
  /** From the start of the POST to the bot's response. */
  latencyMs?: number;
  /** performance.now() in the emulator's process when the signed POST went to the HTTP client. */
  postedAtMs?: number;
  sentAt: string;
  fault?: "dropped" | "duplicate" | "reordered";
  body: unknown;
}

export interface OutgoingNotification {
  url: string;
  callId?: string;
  callChainId?: string;
  scenarioId?: string;
  /** The whole body to post (usually a commsNotifications envelope). */
  body: unknown;
  /** Produces the bearer token (signed when the POST happens). */
  token: () => Promise<string>;
  /** Extra or replaced headers; null removes a default header. */
  headers?: Record<string, string | null>;
}

export interface NotificationSenderOptions {
  timeoutMs: number;
  /** Trusted CA for https callbacks with a self-signed certificate. */
  callbackCa?: string;
  logger: Logger;
  onDelivery: (delivery: NotificationDelivery) => void;
}

/**
 * Posts notifications to bots. Notifications of one call go out one after another, in order,
 * as the calling service does; faults (drop, duplicate, reorder) are applied here.
 */
export class NotificationSender {
  readonly deliveries: NotificationDelivery[] = [];
  private readonly chains = new Map<string, Promise<void>>();
  private seq = 0;
  private dropCount = 0;
  private duplicateCount = 0;
  private reorderArmed = false;
  private held: { item: OutgoingNotification; timer: NodeJS.Timeout } | undefined;
  private closed = false;

  constructor(private readonly options: NotificationSenderOptions) {}

  dropNext(count: number): void {
    this.dropCount += count;
  }

  duplicateNext(count: number): void {
    this.duplicateCount += count;
  }

  /** The next notification is held back and posted right after the one that follows it. */
  reorderNextPair(holdTimeoutMs = 2000): void {
    this.reorderArmed = true;
    this.holdTimeoutMs = holdTimeoutMs;
  }

  private holdTimeoutMs = 2000;

  /** Queues a notification; resolves when it (and any duplicate) has been delivered or dropped. */
  send(item: OutgoingNotification): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.dropCount > 0) {
      this.dropCount--;
      this.record(item, randomUUID(), { fault: "dropped" });
      return Promise.resolve();
    }
    if (this.reorderArmed) {
      if (!this.held) {
        // Posted alone if nothing follows in time.
        const timer = setTimeout(() => {
          const held = this.held;
          this.held = undefined;
          this.reorderArmed = false;
          if (held) void this.enqueue(held.item, undefined);
        }, this.holdTimeoutMs);
        this.held = { item, timer };
        return Promise.resolve();
      }
      const held = this.held;
      this.held = undefined;
      this.reorderArmed = false;
      clearTimeout(held.timer);
      const first = this.enqueue(item, undefined);
      const second = this.enqueue(held.item, "reordered");
      return Promise.all([first, second]).then(() => undefined);
    }
    const duplicate = this.duplicateCount > 0;
    if (duplicate) this.duplicateCount--;
    const messageId = randomUUID();
    const first = this.enqueue(item, undefined, messageId);
    if (!duplicate) return first;
    const second = this.enqueue(item, "duplicate", messageId);
    return Promise.all([first, second]).then(() => undefined);
  }

  /** Waits until every queued notification has been posted. */
  async drain(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }

  close(): void {
    this.closed = true;
    if (this.held) clearTimeout(this.held.timer);
    this.held = undefined;
  }

  private enqueue(
    item: OutgoingNotification,
    fault: NotificationDelivery["fault"],
    messageId: string = randomUUID(),
  ): Promise<void> {
    const key = item.callId ?? "";
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.post(item, fault, messageId));
    this.chains.set(key, next);
    void next.then(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
    return next;
  }

  private async post(item: OutgoingNotification, fault: NotificationDelivery["fault"], messageId: string) {
    if (this.closed) return;
    const started = performance.now();
    let postedAtMs: number | undefined;
    try {
      const token = await item.token();
      const headers: Record<string, string> = {
        "content-type": "application/json; charset=utf-8",
        authorization: `Bearer ${token}`,
        "client-request-id": randomUUID(),
        "scenario-id": item.scenarioId ?? randomUUID(),
        "x-microsoft-skype-chain-id": item.callChainId ?? randomUUID(),
        "x-microsoft-skype-message-id": messageId,
        "user-agent": "Microsoft-Skype/GraphCallingEmulator",
      };
      for (const [name, value] of Object.entries(item.headers ?? {})) {
        if (value === null) delete headers[name.toLowerCase()];
        else headers[name.toLowerCase()] = value;
      }
      postedAtMs = performance.now();
      const response = await httpsRequest({
        url: item.url,
        method: "POST",
        headers,
        body: JSON.stringify(item.body),
        timeoutMs: this.options.timeoutMs,
        ...(this.options.callbackCa ? { ca: this.options.callbackCa } : {}),
      });
      this.record(item, messageId, {
        status: response.status,
        latencyMs: performance.now() - started,
        postedAtMs,
        fault,
      });
    } catch (error) {
      this.options.logger.warn(
        { callId: item.callId, url: item.url, err: (error as Error).message },
        "notification delivery failed",
      );
      this.record(item, messageId, {
        error: (error as Error).message,
        latencyMs: performance.now() - started,
        fault,
      });
    }
  }

  private record(
    item: OutgoingNotification,
    messageId: string,
    outcome: Pick<NotificationDelivery, "status" | "error" | "latencyMs" | "postedAtMs" | "fault">,
  ): void {
    const value = (item.body as { value?: unknown })?.value;
    const notifications = (Array.isArray(value) ? value : []) as Partial<CommsNotification>[];
    const delivery: NotificationDelivery = {
      seq: ++this.seq,
      ...(item.callId ? { callId: item.callId } : {}),
      url: item.url,
      changeTypes: notifications.map((n) => String(n.changeType)),
      resourceUrls: notifications.map((n) => String(n.resourceUrl)),
      messageId,
      sentAt: new Date().toISOString(),
      body: item.body,
      ...Object.fromEntries(Object.entries(outcome).filter(([, v]) => v !== undefined)),
    };
    this.deliveries.push(delivery);
    this.options.logger.debug(
      {
        callId: item.callId,
        changeTypes: delivery.changeTypes,
        status: delivery.status,
        fault: delivery.fault,
      },
      "notification",
    );
    this.options.onDelivery(delivery);
  }
}
