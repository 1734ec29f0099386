import { Registry } from "prom-client";
import { afterEach } from "vitest";
import type { BotConfig } from "../../src/config/config.js";
import { createLogger } from "../../src/log/logger.js";
import { SignalingService } from "../../src/signaling/signaling-service.js";
import { FakeGraph, FakeVerifier, RecordingMediaProvider, testConfig } from "../signaling/helpers/fakes.js";
import { CapturedLog, type RawResponse, rawRequest } from "../signaling/helpers/service-harness.js";
import { RecordingCallsApiBackend } from "./recording-calls-api-backend.js";

export const CONTROL_TOKEN = "calls-api-test-token-0123456789abcdef";

export interface CallsApiServer {
  service: SignalingService;
  control: RecordingCallsApiBackend;
  log: CapturedLog;
  /** A request to the ops listener with the right token unless `authorization` is given. */
  request(
    method: string,
    path: string,
    options?: { body?: unknown; raw?: string; headers?: Record<string, string> },
  ): Promise<RawResponse & { json: unknown }>;
  /** bot_control_requests_total for these labels. */
  requestsCounted(labels: { route?: string; outcome?: string }): Promise<number>;
}

/** The real signaling service (real loopback listeners) with a RecordingCallsApiBackend behind /calls. */
export async function startCallsApiServer(
  overrides: Partial<BotConfig> = { controlToken: CONTROL_TOKEN },
  withControl = true,
): Promise<CallsApiServer> {
  const control = new RecordingCallsApiBackend();
  const registry = new Registry();
  const log = new CapturedLog();
  const service = await SignalingService.start({
    config: testConfig(overrides),
    graph: new FakeGraph(),
    media: new RecordingMediaProvider(),
    logger: createLogger({ level: "debug" }, log),
    registry,
    authenticator: new FakeVerifier(),
    ...(withControl ? { callsApi: control } : {}),
  });
  return {
    service,
    control,
    log,
    request: async (method, path, options = {}) => {
      const headers: Record<string, string> = {
        authorization: `Bearer ${CONTROL_TOKEN}`,
        ...options.headers,
      };
      let body = options.raw;
      if (options.body !== undefined) {
        body = JSON.stringify(options.body);
        headers["content-type"] ??= "application/json";
      }
      const response = await rawRequest(`${service.opsUrl}${path}`, { method, headers, body });
      let json: unknown;
      try {
        json = JSON.parse(response.body);
      } catch {
        json = undefined;
      }
      return { ...response, json };
    },
    requestsCounted: async (labels) => {
      const values = (await registry.getSingleMetric("bot_control_requests_total")?.get())?.values ?? [];
      return values
        .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
        .reduce((sum, v) => sum + v.value, 0);
    },
  };
}

/** One server per test, shut down after it. */
export function callsApiServerPerTest(): typeof startCallsApiServer {
  let server: CallsApiServer | undefined;
  afterEach(async () => {
    await server?.service.shutdown({ timeoutMs: 200 });
    server = undefined;
  });
  return async (...args) => {
    server = await startCallsApiServer(...args);
    return server;
  };
}
