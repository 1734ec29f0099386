import { Counter, type Registry } from "prom-client";

/** Metrics of the calls API (src/control/control-app.ts). */
export interface ControlMetrics {
  /**
   * Calls API requests by route ("POST /calls/join", "GET /calls/:id"..., "other") and outcome:
   * "ok" or the error code answered (unauthorized, invalid_request, unknown_call...).
   */
  requests: Counter<"route" | "outcome">;
}

export function createControlMetrics(registry: Registry): ControlMetrics {
  return {
    requests: new Counter({
      name: "bot_control_requests_total",
      help: "Requests to the calls API on the operational listener, by route and outcome",
      labelNames: ["route", "outcome"],
      registers: [registry],
    }),
  };
}
