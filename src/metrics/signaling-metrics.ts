import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** Fine buckets around the interesting part (a few ms) up to the 15 s answer deadline. */
export const ANSWER_LATENCY_BUCKETS_SECONDS = [
  0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1,
  1.5, 2, 3, 5, 7.5, 10, 15,
];

/** Every metric the signaling layer exports, registered into one registry. */
export interface SignalingMetrics {
  /** Notifications by parsed kind and what became of them. */
  notifications: Counter<"kind" | "outcome">;
  /** Notification requests refused before any notification was looked at (not token problems). */
  requestsRefused: Counter<"reason">;
  /** Notification bearer tokens refused, by precise reason. */
  tokensRefused: Counter<"reason">;
  /** Key set fetches from the OpenID configuration, by outcome. */
  keyFetches: Counter<"outcome">;
  /** Incoming notification received → Graph accepted the answer. */
  answerLatency: Histogram;
  /**
   * Incoming calls by decision (answered, rejected_busy, rejected_forbidden, answer_failed,
   * redirected_capacity: redirected to BOT_REDIRECT_WHEN_BUSY at capacity).
   */
  incomingCalls: Counter<"decision">;
  /**
   * Incoming calls rejected through Graph, by why: tenant_not_allowed, capacity,
   * media_unavailable, shutting_down (the policy), media_host_unreachable (held for a
   * disconnected media host that did not come back in time), media_session_failed (creating the call's
   * media session failed), answer_failed (Graph did not take the answer before its deadline),
   * redirect_failed (at capacity, Graph did not take the redirect to BOT_REDIRECT_WHEN_BUSY).
   */
  callsRejected: Counter<"reason">;
  /** How each answer ended, by outcome (ANSWER_OUTCOMES in call-manager.ts). */
  answerOutcomes: Counter<"outcome">;
  /** Call state machine transitions. */
  transitions: Counter<"from" | "to">;
  /** Calls currently known, by state (terminated calls are kept briefly for late notifications). */
  calls: Gauge<"state">;
  /** Calls ended, by the result code Graph gave (code/subcode) or "local". */
  callsEnded: Counter<"result">;
  /** Graph requests the signaling layer made, by action and outcome. */
  graphRequests: Counter<"action" | "outcome">;
  /**
   * Roster notifications of live calls: applied, stale (a lower rosterSequenceNumber than one
   * already applied: skipped), invalid (unusable participant notifications, any call).
   */
  rosterUpdates: Counter<"outcome">;
  /**
   * Call-control requests (mute, unmute, transfer, invite) by outcome: ok, not_our_call,
   * invalid_request, refused (by Graph, or the call not in a state for it), failed.
   */
  callControl: Counter<"action" | "outcome">;
  /**
   * Calls the bot placed, by kind (join_url, join_id, join_chat, user) and outcome: refused_*
   * (not sent: shutting_down, capacity, media_unavailable, tenant_not_allowed, invalid_target),
   * media_session_failed, create_refused, create_unknown, bind_failed, join_timeout,
   * lobby_timeout, established, ended_before_established.
   */
  outgoingCalls: Counter<"kind" | "outcome">;
  /**
   * Notifications for a call id the bot did not know yet, received while a createCall was in
   * flight: held, replayed (once the 201 named the call), dropped (held too long or for an id
   * no 201 named) or overflow (the hold was full).
   */
  heldNotifications: Counter<"outcome">;
}

export function createSignalingMetrics(registry: Registry): SignalingMetrics {
  const registers = [registry];
  return {
    notifications: new Counter({
      name: "signaling_notifications_total",
      help: "Graph notifications received, by kind and outcome",
      labelNames: ["kind", "outcome"],
      registers,
    }),
    requestsRefused: new Counter({
      name: "signaling_notification_requests_refused_total",
      help: "Notification requests refused for their body or content type, by reason",
      labelNames: ["reason"],
      registers,
    }),
    tokensRefused: new Counter({
      name: "signaling_notification_tokens_refused_total",
      help: "Notification bearer tokens refused, by reason",
      labelNames: ["reason"],
      registers,
    }),
    keyFetches: new Counter({
      name: "signaling_notification_key_fetches_total",
      help: "Fetches of the notification signing keys, by outcome",
      labelNames: ["outcome"],
      registers,
    }),
    answerLatency: new Histogram({
      name: "signaling_answer_latency_seconds",
      help: "Time from receiving an incoming-call notification to Graph accepting the answer",
      buckets: ANSWER_LATENCY_BUCKETS_SECONDS,
      registers,
    }),
    incomingCalls: new Counter({
      name: "signaling_incoming_calls_total",
      help: "Incoming calls, by decision",
      labelNames: ["decision"],
      registers,
    }),
    callsRejected: new Counter({
      name: "signaling_calls_rejected_total",
      help: "Incoming calls rejected through Graph, by reason",
      labelNames: ["reason"],
      registers,
    }),
    answerOutcomes: new Counter({
      name: "signaling_answer_outcomes_total",
      help: "Answers of incoming calls, by how they ended (accepted, answered_per_notifications, rejected, hung_up_unknown, ended_locally, call_ended)",
      labelNames: ["outcome"],
      registers,
    }),
    transitions: new Counter({
      name: "signaling_call_transitions_total",
      help: "Call state transitions",
      labelNames: ["from", "to"],
      registers,
    }),
    calls: new Gauge({
      name: "signaling_calls",
      help: "Calls currently tracked, by state",
      labelNames: ["state"],
      registers,
    }),
    callsEnded: new Counter({
      name: "signaling_calls_ended_total",
      help: "Calls ended, by Graph result code (code/subcode) or local",
      labelNames: ["result"],
      registers,
    }),
    graphRequests: new Counter({
      name: "signaling_graph_requests_total",
      help: "Graph requests made by the signaling layer, by action and outcome",
      labelNames: ["action", "outcome"],
      registers,
    }),
    rosterUpdates: new Counter({
      name: "signaling_roster_updates_total",
      help: "Roster (participants) notifications, by outcome: applied, stale (out of order, skipped), invalid",
      labelNames: ["outcome"],
      registers,
    }),
    callControl: new Counter({
      name: "signaling_call_control_requests_total",
      help: "Call-control requests (mute, unmute, transfer, invite), by action and outcome",
      labelNames: ["action", "outcome"],
      registers,
    }),
    outgoingCalls: new Counter({
      name: "signaling_outgoing_calls_total",
      help: "Calls the bot placed (meeting joins, calls to users), by kind and outcome",
      labelNames: ["kind", "outcome"],
      registers,
    }),
    heldNotifications: new Counter({
      name: "signaling_held_notifications_total",
      help: "Notifications for a not yet named call held while a createCall was in flight, by outcome",
      labelNames: ["outcome"],
      registers,
    }),
  };
}
