import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** From well under a millisecond (loopback) up to a stalled host. */
export const BRIDGE_ROUND_TRIP_BUCKETS_SECONDS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

export type BridgeConnectionState = "connecting" | "open" | "disconnected" | "closed";
const STATES: readonly BridgeConnectionState[] = ["connecting", "open", "disconnected", "closed"];

/** Metrics of the worker's end of the bridge (the WebSocket to the media host). */
export interface BridgeMetrics {
  /** Messages received, by body (frames, helloAck, ..., unknown). */
  messagesReceived: Counter<"body">;
  /** Messages sent, by body. */
  messagesSent: Counter<"body">;
  bytesReceived: Counter;
  bytesSent: Counter;
  /** Messages or frames refused, by BridgeProtocolReason. */
  protocolErrors: Counter<"reason">;
  /** Outbound frame batches (and control messages) not sent, by reason (not_open, backpressure). */
  drops: Counter<"reason">;
  /** Ping → Pong round trip over the bridge. */
  roundTrip: Histogram;
  /** FrameBatch sent_at_us → received here (same host clock). */
  batchTransit: Histogram;
  /** Connection attempts after the first one. */
  reconnects: Counter;
  /** 1 for the current state, 0 for the others. */
  connectionState: Gauge<"state">;
  setState(state: BridgeConnectionState): void;
}

export function createBridgeMetrics(registry: Registry): BridgeMetrics {
  const registers = [registry];
  const connectionState = new Gauge({
    name: "bridge_connection_state",
    help: "Bridge connection state to the media host: 1 for the current state",
    labelNames: ["state"],
    registers,
  });
  for (const state of STATES) connectionState.set({ state }, state === "disconnected" ? 1 : 0);
  return {
    messagesReceived: new Counter({
      name: "bridge_messages_received_total",
      help: "Bridge messages received from the media host, by body",
      labelNames: ["body"],
      registers,
    }),
    messagesSent: new Counter({
      name: "bridge_messages_sent_total",
      help: "Bridge messages sent to the media host, by body",
      labelNames: ["body"],
      registers,
    }),
    bytesReceived: new Counter({
      name: "bridge_received_bytes_total",
      help: "Bytes of bridge messages received",
      registers,
    }),
    bytesSent: new Counter({
      name: "bridge_sent_bytes_total",
      help: "Bytes of bridge messages sent",
      registers,
    }),
    protocolErrors: new Counter({
      name: "bridge_protocol_errors_total",
      help: "Bridge messages or frames refused, by reason",
      labelNames: ["reason"],
      registers,
    }),
    drops: new Counter({
      name: "bridge_send_drops_total",
      help: "Outbound bridge messages dropped instead of sent, by reason",
      labelNames: ["reason"],
      registers,
    }),
    roundTrip: new Histogram({
      name: "bridge_round_trip_seconds",
      help: "Ping to Pong round trip over the bridge",
      buckets: BRIDGE_ROUND_TRIP_BUCKETS_SECONDS,
      registers,
    }),
    batchTransit: new Histogram({
      name: "bridge_batch_transit_seconds",
      help: "Frame batch transit from the media host's send stamp to its receipt",
      buckets: BRIDGE_ROUND_TRIP_BUCKETS_SECONDS,
      registers,
    }),
    reconnects: new Counter({
      name: "bridge_reconnects_total",
      help: "Connection attempts to the media host after the first",
      registers,
    }),
    connectionState,
    setState(state: BridgeConnectionState): void {
      for (const s of STATES) connectionState.set({ state: s }, s === state ? 1 : 0);
    },
  };
}
