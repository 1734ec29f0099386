import { collectDefaultMetrics, Registry } from "prom-client";

/**
 * One Prometheus registry per process role. Metric definitions live beside this file
 * (signaling-metrics.ts, media-metrics.ts) and register themselves into a registry passed in,
 * so tests can create isolated registries.
 */
export function createRegistry(options: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  return registry;
}
