import { randomUUID } from "node:crypto";
import net from "node:net";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GraphClientSettings } from "../../src/config/config.js";
import { GraphEmulator } from "../../src/emulator/graph/graph-emulator.js";
import { GraphClient } from "../../src/graph/graph-client.js";
import { GraphError } from "../../src/graph/graph-error.js";
import {
  callUserRequest,
  joinMeetingByIdRequest,
  joinMeetingByUrlRequest,
} from "../../src/graph/outgoing-call-requests.js";
import type { GraphTokenProvider } from "../../src/graph/token-provider.js";
import type { AnswerRequest, CreateCallRequest } from "../../src/graph/types.js";
import { silentLogger } from "../../src/log/logger.js";
import {
  buildMediaSessionConfiguration,
  mediaProcessorUri,
  serializeMediaBlob,
} from "../../src/media/media-session-config.js";
import { capturedLogger, emulatorTokenProvider } from "./helpers.js";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
/** Nobody listens here: notifications the emulator posts for these calls simply fail. */
const CALLBACK = "https://127.0.0.1:9/api/calls";
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SETTINGS: GraphClientSettings = { requestTimeoutMs: 3000, maxAttempts: 4, overallDeadlineMs: 10_000 };

function blob(callId: string): string {
  return serializeMediaBlob(
    buildMediaSessionConfiguration({
      callId,
      mediaSessionId: randomUUID(),
      mpUri: mediaProcessorUri("media.bot.test", 8445),
      audioRenderContextId: randomUUID(),
      audioSourceContextId: randomUUID(),
      versions: {
        skypeMediaBotsVersion: "1.31.0.225",
        mediaStackVersion: "2024.53.1.1",
        mpVersion: "7.2.0.3881",
      },
    }),
  );
}

function answerRequest(callId: string): AnswerRequest {
  return {
    callbackUri: CALLBACK,
    mediaConfig: { "@odata.type": "#microsoft.graph.appHostedMediaConfig", blob: blob(callId) },
    acceptedModalities: ["audio"],
  };
}

async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  const match = metric?.values.find((v) =>
    Object.entries(labels).every(([k, value]) => v.labels[k] === value),
  );
  return match?.value ?? 0;
}

async function failure(promise: Promise<unknown>): Promise<GraphError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GraphError);
  return error as GraphError;
}

describe("GraphClient against the Graph emulator (real msal token, real HTTPS)", () => {
  let emulator: GraphEmulator;
  let tokens: GraphTokenProvider;
  const appId = randomUUID();
  const secret = `secret-${randomUUID()}`;
  const logs = capturedLogger();
  let accessToken: string;

  beforeAll(async () => {
    emulator = await GraphEmulator.start({ logger: silentLogger() });
    emulator.registerApp({ appId, secret, tenantId: TENANT, callbackUrl: CALLBACK });
    tokens = emulatorTokenProvider(emulator, { appId, secret, tenantId: TENANT }, { logger: logs.logger });
    await tokens.start();
    accessToken = await tokens.getToken();
  });
  afterAll(async () => {
    tokens.close();
    await emulator.close();
    // Nothing the client or the token provider logged holds the token or the secret.
    const all = logs.lines.join("\n");
    expect(all).not.toContain(accessToken);
    expect(all).not.toContain(secret);
  });

  function client(
    settings: Partial<GraphClientSettings> = {},
    registry = new Registry(),
    baseUrl = emulator.graphUrl,
    backoff = { baseDelayMs: 20, maxDelayMs: 200 },
    random?: () => number,
  ) {
    return new GraphClient({
      baseUrl,
      tokenProvider: tokens,
      settings: { ...SETTINGS, ...settings },
      ca: emulator.caCertPem,
      logger: logs.logger,
      registry,
      backoff,
      ...(random ? { random } : {}),
    });
  }

  /** An outgoing call from this app to a new user. */
  function createCallRequest(): CreateCallRequest {
    return {
      "@odata.type": "#microsoft.graph.call",
      callbackUri: CALLBACK,
      requestedModalities: ["audio"],
      mediaConfig: { "@odata.type": "#microsoft.graph.appHostedMediaConfig", blob: blob(randomUUID()) },
      source: { identity: { application: { id: appId, displayName: "Bot" } } },
      targets: [{ identity: { user: { id: randomUUID(), displayName: "Callee" } } }],
      tenantId: TENANT,
    };
  }

  function incomingCall(): string {
    return emulator.placeIncomingCall({ appId }).callId;
  }

  /**
   * The emulator's log entries of one action, matched by method and path (the log's own
   * `action` field reads "other" for calls API requests at the time of writing).
   */
  function logged(action: string, callId?: string) {
    const calls = "/v1.0/communications/calls";
    const [method, path] =
      action === "create"
        ? ["POST", calls]
        : action === "delete"
          ? ["DELETE", `${calls}/${callId}`]
          : [action === "participants" ? "GET" : "POST", `${calls}/${callId}/${action}`];
    return emulator.requestLog().filter((e) => e.method === method && e.path === path);
  }

  function clientRequestIds(action: string, callId: string): string[] {
    return logged(action, callId).map((e) => String(e.headers["client-request-id"]));
  }

  describe("actions", () => {
    it("answers an incoming call with the metadata-shaped body and one client-request-id", async () => {
      const registry = new Registry();
      const graph = client({}, registry);
      const callId = incomingCall();
      const request = answerRequest(callId);
      await graph.answer(callId, request, { callId });
      const [entry] = logged("answer", callId);
      expect(entry?.status).toBe(202);
      expect(entry?.method).toBe("POST");
      expect(entry?.path).toBe(`/v1.0/communications/calls/${callId}/answer`);
      expect(entry?.body).toEqual(request);
      expect(entry?.headers["client-request-id"]).toMatch(GUID);
      expect(entry?.headers["content-type"]).toContain("application/json");
      expect(await metricValue(registry, "graph_requests_total", { action: "answer", status: "202" })).toBe(
        1,
      );
      const histogram = await registry.getSingleMetric("graph_request_duration_seconds")?.get();
      const count = histogram?.values.find(
        (v) => (v as { metricName?: string }).metricName === "graph_request_duration_seconds_count",
      );
      expect(count?.value).toBe(1);
    });

    it("rejects with a reason", async () => {
      const callId = incomingCall();
      await client().reject(callId, "busy");
      const [entry] = logged("reject", callId);
      expect(entry?.status).toBe(202);
      expect(entry?.body).toEqual({ reason: "busy" });
    });

    it("redirects to targets with a timeout", async () => {
      const callId = incomingCall();
      const target = { identity: { user: { id: randomUUID(), displayName: "Operator" } } };
      await client().redirect(callId, [target], 30, CALLBACK);
      const [entry] = logged("redirect", callId);
      expect(entry?.status).toBe(202);
      expect(entry?.body).toEqual({ targets: [target], timeout: 30, callbackUri: CALLBACK });
    });

    it("keeps a call alive, hangs it up, then reports NotFound with Graph's ids", async () => {
      const graph = client();
      const callId = incomingCall();
      await graph.answer(callId, answerRequest(callId));
      await graph.keepAlive(callId, { callId });
      expect(logged("keepAlive", callId).map((e) => e.status)).toEqual([200]);
      await graph.hangUp(callId);
      expect(logged("delete", callId).map((e) => e.status)).toEqual([204]);
      const unknown = randomUUID();
      const error = await failure(graph.keepAlive(unknown, { callId: unknown }));
      expect(error.status).toBe(404);
      expect(error.code).toBe("NotFound");
      expect(error.requestId).toMatch(GUID);
      expect(error.clientRequestId).toBe(clientRequestIds("keepAlive", unknown)[0]);
      expect(error.attempts).toBe(1);
      expect(error.callId).toBe(unknown);
      // The caller logs the failure at the level it means (a 404 on a hang up is harmless):
      // the client's own line is debug, so that one failure is not two warnings.
      const failedLine = logs.lines
        .map((line) => JSON.parse(line) as { msg?: string; callId?: string; level?: number })
        .find((line) => line.msg === "graph request failed" && line.callId === unknown);
      expect(failedLine?.level).toBe(20);
    });

    it("joins a meeting by join link and by meeting id, and calls a user, with the built bodies", async () => {
      const graph = client();
      const organizer = randomUUID();
      const thread = `19:meeting_${randomUUID().replaceAll("-", "")}@thread.v2`;
      const joinUrl = `https://teams.microsoft.com/l/meetup-join/${encodeURIComponent(thread)}/0?context=${encodeURIComponent(JSON.stringify({ Tid: TENANT, Oid: organizer }))}`;
      const options = { callbackUri: CALLBACK, mediaBlob: blob(randomUUID()) };
      // The meeting the joinMeetingId body names (the emulator refuses an unknown id 404).
      emulator.createMeeting({ joinMeetingId: "293654785123", passcode: "Xy7pQ2" });
      const requests = [
        joinMeetingByUrlRequest(joinUrl, options),
        joinMeetingByIdRequest(
          { joinMeetingId: "293 654 785 123", passcode: "Xy7pQ2", tenantId: TENANT },
          options,
        ),
        callUserRequest({ userId: randomUUID(), tenantId: TENANT }, options),
      ];
      const callIds: string[] = [];
      for (const request of requests) {
        const call = await graph.createCall(request);
        expect(call.state).toBe("establishing");
        callIds.push(call.id);
        // What went over the wire is exactly the built body, and Graph (the emulator) took it.
        const sent = logged("create").at(-1);
        expect(sent?.status).toBe(201);
        expect(sent?.body).toEqual(request);
        expect(emulator.call(call.id)?.meetingInfo).toEqual(request.meetingInfo);
      }
      expect(emulator.call(callIds[0] ?? "")?.chatInfo).toEqual({ threadId: thread, messageId: "0" });
      expect(emulator.call(callIds[2] ?? "")?.targets).toEqual(requests[2]?.targets);
    });

    it("creates a call, lists its participants and updates its recording status", async () => {
      const graph = client();
      const call = await graph.createCall(createCallRequest());
      expect(call.id).toBeTruthy();
      expect(call.state).toBe("establishing");
      expect(logged("create").at(-1)?.status).toBe(201);

      const participants = await graph.listParticipants(call.id);
      expect(Array.isArray(participants)).toBe(true);
      for (const participant of participants) expect(typeof participant.id).toBe("string");
      expect(logged("participants", call.id).map((e) => e.status)).toEqual([200]);

      const operation = await graph.updateRecordingStatus(call.id, "recording", "consent-42");
      expect(operation.clientContext).toBe("consent-42");
      expect(logged("updateRecordingStatus", call.id)[0]?.body).toEqual({
        status: "recording",
        clientContext: "consent-42",
      });
    });

    it("refuses a clientContext over 256 characters before sending anything", async () => {
      const registry = new Registry();
      const callId = incomingCall();
      const error = await failure(
        client({}, registry).updateRecordingStatus(callId, "recording", "x".repeat(257)),
      );
      expect(error.code).toBe("invalidRequest");
      expect(error.attempts).toBe(0);
      expect(error.message).toContain("clientContext must be at most 256 characters");
      expect(logged("updateRecordingStatus", callId)).toHaveLength(0);
      expect(
        await metricValue(registry, "graph_requests_total", {
          action: "updateRecordingStatus",
          status: "invalid",
        }),
      ).toBe(1);
    });
  });

  describe("retries", () => {
    it("waits out a 429's Retry-After and keeps the client-request-id", async () => {
      const registry = new Registry();
      const graph = client({}, registry);
      const callId = incomingCall();
      await graph.answer(callId, answerRequest(callId));
      emulator.injectFault({ match: { action: "keepAlive" }, status: 429, retryAfterSeconds: 1 });
      const started = Date.now();
      await graph.keepAlive(callId);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      expect(logged("keepAlive", callId).map((e) => e.status)).toEqual([429, 200]);
      const ids = clientRequestIds("keepAlive", callId);
      expect(new Set(ids).size).toBe(1);
      expect(ids[0]).toMatch(GUID);
      expect(
        await metricValue(registry, "graph_request_retries_total", {
          action: "keepAlive",
          reason: "throttled",
        }),
      ).toBe(1);
      expect(
        await metricValue(registry, "graph_requests_total", { action: "keepAlive", status: "200" }),
      ).toBe(1);
    });

    it("retries an answer on 503 (Graph did not act) with the same client-request-id", async () => {
      const graph = client();
      const callId = incomingCall();
      emulator.injectFault({ match: { action: "answer" }, status: 503, times: 2 });
      await graph.answer(callId, answerRequest(callId));
      expect(logged("answer", callId).map((e) => e.status)).toEqual([503, 503, 202]);
      expect(new Set(clientRequestIds("answer", callId)).size).toBe(1);
    });

    it("stops after maxAttempts and reports Graph's error", async () => {
      const graph = client({ maxAttempts: 3 });
      const callId = incomingCall();
      await graph.answer(callId, answerRequest(callId));
      emulator.injectFault({ match: { action: "keepAlive" }, status: 503, times: 10 });
      try {
        const error = await failure(graph.keepAlive(callId));
        expect(error.status).toBe(503);
        expect(error.code).toBe("ServiceUnavailable");
        expect(error.attempts).toBe(3);
        expect(logged("keepAlive", callId)).toHaveLength(3);
        expect(new Set(clientRequestIds("keepAlive", callId)).size).toBe(1);
        expect(error.clientRequestId).toBe(clientRequestIds("keepAlive", callId)[0]);
      } finally {
        emulator.clearFaults();
      }
    });

    it("does not start a retry that would end past the overall deadline", async () => {
      // Backoff ceilings 200, 400, 800 ms at mid-range jitter: 100, 200, 400, 500 ms waits.
      const graph = client(
        { requestTimeoutMs: 500, overallDeadlineMs: 1500, maxAttempts: 10 },
        new Registry(),
        emulator.graphUrl,
        { baseDelayMs: 200, maxDelayMs: 1000 },
        () => 0.5,
      );
      const callId = incomingCall();
      await graph.answer(callId, answerRequest(callId));
      // A Retry-After of 2 s cannot fit in a 1.5 s budget: fail now rather than wait.
      emulator.injectFault({ match: { action: "keepAlive" }, status: 429, retryAfterSeconds: 2 });
      let started = Date.now();
      const throttled = await failure(graph.keepAlive(callId));
      expect(Date.now() - started).toBeLessThan(700);
      expect(throttled.status).toBe(429);
      expect(throttled.attempts).toBe(1);
      expect(throttled.retryAfterMs).toBe(2000);

      // Endless 503s with backoff: attempts continue only while one more fits the budget.
      emulator.injectFault({ match: { action: "keepAlive" }, status: 503, times: 100 });
      try {
        started = Date.now();
        const unavailable = await failure(graph.keepAlive(callId));
        const elapsed = Date.now() - started;
        expect(elapsed).toBeLessThanOrEqual(1500 + 150);
        expect(unavailable.status).toBe(503);
        // 100 + 200 + 400 ms of waiting fit with a 500 ms timeout; a fourth wait (500) would not.
        expect(unavailable.attempts).toBeGreaterThanOrEqual(3);
        expect(unavailable.attempts).toBeLessThanOrEqual(4);
      } finally {
        emulator.clearFaults();
      }
    });

    it("retries until the caller's deadline, not the configured attempts, and says why it gave up", async () => {
      const graph = client({ maxAttempts: 1 });
      const callId = incomingCall();
      emulator.injectFault({ match: { action: "answer" }, status: 503, retryAfterSeconds: 1, times: 10 });
      try {
        // 2.5 s: a second attempt after 1 s still has its least 1 s; a third would not.
        const error = await failure(
          graph.answer(callId, answerRequest(callId), { deadlineAt: performance.now() + 2500 }),
        );
        expect(error.status).toBe(503);
        expect(error.attempts).toBe(2);
        expect(error.gaveUp).toBe("deadline");
        expect(error.message).toContain("no further attempt could finish before the deadline");
        expect(logged("answer", callId)).toHaveLength(2);
      } finally {
        emulator.clearFaults();
      }
      // A deadline already passed: nothing is sent.
      const late = await failure(
        graph.answer(callId, answerRequest(callId), { deadlineAt: performance.now() - 1 }),
      );
      expect(late.code).toBe("deadlineExceeded");
      expect(late.attempts).toBe(0);
      expect(logged("answer", callId)).toHaveLength(2);
    });

    it("times out a slow response and retries an idempotent request", async () => {
      const registry = new Registry();
      const graph = client({ requestTimeoutMs: 300 }, registry);
      const callId = incomingCall();
      await graph.answer(callId, answerRequest(callId));
      emulator.injectFault({ match: { action: "keepAlive" }, delayMs: 1200 });
      const started = Date.now();
      await graph.keepAlive(callId);
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(300);
      expect(elapsed).toBeLessThan(1200);
      expect(
        await metricValue(registry, "graph_request_retries_total", {
          action: "keepAlive",
          reason: "timeout",
        }),
      ).toBe(1);
    });

    it("retries an answer after 500 and 502: Graph answers the call once", async () => {
      const registry = new Registry();
      const graph = client({ maxAttempts: 1 }, registry);
      const callId = incomingCall();
      emulator.injectFault({ match: { action: "answer", pathContains: callId }, status: 500 });
      emulator.injectFault({ match: { action: "answer", pathContains: callId }, status: 502 });
      await graph.answer(callId, answerRequest(callId), { deadlineAt: performance.now() + 8000 });
      expect(logged("answer", callId).map((e) => e.status)).toEqual([500, 502, 202]);
      expect(emulator.call(callId)?.state).not.toBe("incoming");
      for (const reason of ["server_error", "bad_gateway"]) {
        expect(await metricValue(registry, "graph_request_retries_total", { action: "answer", reason })).toBe(
          1,
        );
      }
    });

    it("repeats an answer after a 504 that Graph had not acted on: the repeat answers the call", async () => {
      const graph = client();
      const callId = incomingCall();
      emulator.injectFault({ match: { action: "answer", pathContains: callId }, status: 504 });
      await graph.answer(callId, answerRequest(callId));
      expect(logged("answer", callId).map((e) => e.status)).toEqual([504, 202]);
    });

    it("a 504 after Graph answered: the repeat is refused with 409 and the outcome stays unknown", async () => {
      const graph = client();
      const callId = incomingCall();
      // The gateway times out after the calling service answered the call.
      emulator.injectFault({
        match: { action: "answer", pathContains: callId },
        status: 504,
        afterServing: true,
      });
      const error = await failure(graph.answer(callId, answerRequest(callId)));
      expect(logged("answer", callId).map((e) => e.status)).toEqual([504, 409]);
      expect(error.status).toBe(409);
      expect(error.code).toBe("Conflict");
      expect(error.attempts).toBe(2);
      // The 409 says the call is no longer incoming: the first attempt may well have answered it.
      expect(error.outcomeUnknown).toBe(true);
      expect(emulator.call(callId)?.answeredAt).toBeDefined();
    });

    it("treats 504 as unknown outcome: createCall is not repeated, keepAlive is", async () => {
      const graph = client();
      const callId = incomingCall();
      await graph.answer(callId, answerRequest(callId));
      emulator.injectFault({ match: { action: "create" }, status: 504 });
      const created = logged("create").length;
      const error = await failure(graph.createCall(createCallRequest()));
      expect(error.status).toBe(504);
      expect(error.code).toBe("GatewayTimeout");
      expect(error.outcomeUnknown).toBe(true);
      expect(error.gaveUp).toBe("unsafe");
      expect(logged("create").length - created).toBe(1);

      emulator.injectFault({ match: { action: "keepAlive" }, status: 504 });
      await graph.keepAlive(callId);
      expect(logged("keepAlive", callId).map((e) => e.status)).toEqual([504, 200]);
    });

    it("stops retrying when the caller says so, with the last attempt's error", async () => {
      const graph = client();
      const callId = incomingCall();
      emulator.injectFault({
        match: { action: "answer", pathContains: callId },
        status: 503,
        retryAfterSeconds: 5,
      });
      const stop = new AbortController();
      const started = Date.now();
      const pending = failure(
        graph.answer(callId, answerRequest(callId), {
          deadlineAt: performance.now() + 12_000,
          stopRetries: stop.signal,
        }),
      );
      await emulator.waitForRequest((r) => r.action === "answer" && r.callId === callId, 5000);
      stop.abort();
      const error = await pending;
      expect(Date.now() - started).toBeLessThan(4000);
      expect(error.status).toBe(503);
      expect(error.gaveUp).toBe("stopped");
      expect(error.attempts).toBe(1);
      expect(logged("answer", callId)).toHaveLength(1);
    });

    it("retries a refused connection and then reports it", async () => {
      const registry = new Registry();
      const port = await closedPort();
      const graph = client({ maxAttempts: 3 }, registry, `https://127.0.0.1:${port}/v1.0`);
      const error = await failure(graph.keepAlive(randomUUID()));
      expect(error.code).toBe("connectionFailed");
      expect(error.attempts).toBe(3);
      expect(error.outcomeUnknown).toBe(false);
      expect(
        await metricValue(registry, "graph_request_retries_total", {
          action: "keepAlive",
          reason: "connection_refused",
        }),
      ).toBe(2);
      expect(
        await metricValue(registry, "graph_requests_total", { action: "keepAlive", status: "connection" }),
      ).toBe(1);
    });

    it("stops waiting when the caller aborts", async () => {
      const graph = client();
      const callId = incomingCall();
      await graph.answer(callId, answerRequest(callId));
      emulator.injectFault({ match: { action: "keepAlive" }, status: 429, retryAfterSeconds: 5 });
      const controller = new AbortController();
      const started = Date.now();
      setTimeout(() => controller.abort(), 200);
      const error = await failure(graph.keepAlive(callId, { signal: controller.signal }));
      expect(error.code).toBe("aborted");
      expect(Date.now() - started).toBeLessThan(1500);
    });
  });
});

/** A loopback port with nothing listening (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
