import http from "node:http";
import { Writable } from "node:stream";
import { Registry } from "prom-client";
import { afterEach } from "vitest";
import type { BotConfig } from "../../../src/config/config.js";
import { createLogger } from "../../../src/log/logger.js";
import { SignalingService, type SignalingServiceOptions } from "../../../src/signaling/signaling-service.js";
import { FakeGraph, FakeVerifier, RecordingMediaProvider, testConfig } from "./fakes.js";

/** Every line a logger wrote, parsed, and the bytes written. */
export class CapturedLog extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  bytes = 0;

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    const text = chunk.toString();
    this.bytes += Buffer.byteLength(text);
    for (const line of text.split("\n")) if (line !== "") this.lines.push(JSON.parse(line));
    callback();
  }

  /** Lines at warn (40) or above. */
  warnings(): Record<string, unknown>[] {
    return this.lines.filter((line) => (line.level as number) >= 40);
  }
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request over a real loopback socket, with the exact bytes and headers given. */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: options.method ?? "GET", headers: options.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(options.body);
  });
}

export interface ServiceHarness {
  service: SignalingService;
  graph: FakeGraph;
  media: RecordingMediaProvider;
  registry: Registry;
  log: CapturedLog;
  /** POSTs raw bytes to the notification route with a valid token. */
  postNotification(body: Buffer | string, headers?: Record<string, string>): Promise<RawResponse>;
  /** Sum of a metric's values whose labels include the given ones. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** Waits until metric(name, labels) reaches value. */
  waitForMetric(
    name: string,
    labels: Record<string, string>,
    value: number,
    timeoutMs?: number,
  ): Promise<void>;
}

/** More of a harness: a FakeGraph set up beforehand, SignalingService.start's timing options. */
export interface ServiceHarnessOptions {
  graph?: FakeGraph;
  service?: Pick<
    SignalingServiceOptions,
    "answerDeadlineMs" | "endConfirmTimeoutMs" | "terminatedRetentionMs"
  >;
}

/** A signaling service on loopback with fake Graph/media/token check and a captured info-level log. */
export async function startServiceHarness(
  overrides: Partial<BotConfig> = {},
  options: ServiceHarnessOptions = {},
): Promise<ServiceHarness> {
  const graph = options.graph ?? new FakeGraph();
  const media = new RecordingMediaProvider();
  const registry = new Registry();
  const log = new CapturedLog();
  const service = await SignalingService.start({
    config: testConfig(overrides),
    graph,
    media,
    logger: createLogger({ level: "info" }, log),
    registry,
    authenticator: new FakeVerifier(),
    ...options.service,
  });
  const metric: ServiceHarness["metric"] = async (name, labels = {}) => {
    const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
    const wanted = Object.entries(labels);
    return values
      .filter((value) => wanted.every(([key, expected]) => value.labels[key] === expected))
      .reduce((sum, value) => sum + value.value, 0);
  };
  return {
    service,
    graph,
    media,
    registry,
    log,
    metric,
    waitForMetric: async (name, labels, value, timeoutMs = 5000) => {
      const started = Date.now();
      let seen = await metric(name, labels);
      while (seen !== value) {
        if (Date.now() - started > timeoutMs)
          throw new Error(`${name}${JSON.stringify(labels)} is ${seen} after ${timeoutMs} ms, not ${value}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
        seen = await metric(name, labels);
      }
    },
    postNotification: (body, headers = {}) =>
      rawRequest(`${service.url}/api/calls`, {
        method: "POST",
        headers: { authorization: "Bearer ok", "content-type": "application/json", ...headers },
        body,
      }),
  };
}

/**
 * One harness per test, shut down after each test; call at the top of a test file. Returns the
 * function the tests start their harness with.
 */
export function serviceHarnessPerTest(): typeof startServiceHarness {
  let harness: ServiceHarness | undefined;
  afterEach(async () => {
    await harness?.service.shutdown({ timeoutMs: 200 });
    harness = undefined;
  });
  return async (overrides, options) => {
    harness = await startServiceHarness(overrides, options);
    return harness;
  };
}
