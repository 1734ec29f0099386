import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** Metrics of the bot's outbound Graph side: REST requests and the app token. */
export interface GraphMetrics {
  /** One per logical request (retries included), by final HTTP status or failure kind. */
  requests: Counter<"action" | "status">;
  /** Time the caller waited for a logical request, retries and backoff included. */
  requestDuration: Histogram<"action">;
  /** Extra attempts, by why the previous attempt was retried. */
  retries: Counter<"action" | "reason">;
  /** Graph answered 2xx with a body the client could not use. */
  invalidResponses: Counter<"action">;
  /** Token endpoint fetches, by outcome (success, failure). */
  tokenRefreshes: Counter<"outcome">;
  /** Seconds until the cached app token expires (negative once expired, 0 before the first). */
  tokenExpiresIn: Gauge;
  /** Expiry (epoch ms) of the cached token, set by the provider, read by the gauge at scrape time. */
  tokenExpiry: { atMs: number };
}

const byRegistry = new WeakMap<Registry, GraphMetrics>();

/**
 * The token provider and the client share one registry; prom-client refuses a second
 * registration of a name, so the definitions are created once per registry.
 */
export function graphMetrics(registry: Registry): GraphMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const tokenExpiry = { atMs: 0 };
  const metrics: GraphMetrics = {
    requests: new Counter({
      name: "graph_requests_total",
      help: "Logical Graph requests by action and final HTTP status (or timeout, connection, invalid, aborted, token, deadline)",
      labelNames: ["action", "status"],
      registers: [registry],
    }),
    requestDuration: new Histogram({
      name: "graph_request_duration_seconds",
      help: "Duration of logical Graph requests including retries and backoff",
      labelNames: ["action"],
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 12, 15],
      registers: [registry],
    }),
    retries: new Counter({
      name: "graph_request_retries_total",
      help: "Graph request attempts retried, by action and reason",
      labelNames: ["action", "reason"],
      registers: [registry],
    }),
    invalidResponses: new Counter({
      name: "graph_invalid_responses_total",
      help: "Successful Graph responses whose body could not be used, by action",
      labelNames: ["action"],
      registers: [registry],
    }),
    tokenRefreshes: new Counter({
      name: "graph_token_refreshes_total",
      help: "App token fetches from the token endpoint by outcome",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    tokenExpiresIn: new Gauge({
      name: "graph_token_expires_in_seconds",
      help: "Seconds until the cached Graph app token expires",
      registers: [registry],
      collect() {
        this.set(tokenExpiry.atMs === 0 ? 0 : (tokenExpiry.atMs - Date.now()) / 1000);
      },
    }),
    tokenExpiry,
  };
  byRegistry.set(registry, metrics);
  return metrics;
}
