import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import type { BotConfig } from "../../src/config/config.js";
import { silentLogger } from "../../src/log/logger.js";
import { parseMediaBlob } from "../../src/media/media-session-config.js";
import { SignalingService } from "../../src/signaling/signaling-service.js";
import {
  FakeGraph,
  FakeVerifier,
  GraphStatusError,
  RecordingMediaProvider,
  testConfig,
  until,
} from "./helpers/fakes.js";
import { TENANT } from "./helpers/key-server.js";

const FOREIGN_TENANT = "99999999-9999-9999-9999-999999999999";

interface Harness {
  service: SignalingService;
  graph: FakeGraph;
  media: RecordingMediaProvider;
  registry: Registry;
  verifier: FakeVerifier;
  post(body: unknown, options?: { token?: string; contentType?: string; raw?: string }): Promise<Response>;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  state(callId: string): string | undefined;
}

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.service.shutdown({ timeoutMs: 200 });
  harness = undefined;
});

async function start(
  overrides: Partial<BotConfig> = {},
  options: { answerDeadlineMs?: number; endConfirmTimeoutMs?: number } = {},
): Promise<Harness> {
  const graph = new FakeGraph();
  const media = new RecordingMediaProvider();
  const registry = new Registry();
  const verifier = new FakeVerifier();
  const service = await SignalingService.start({
    config: testConfig(overrides),
    graph,
    media,
    logger: silentLogger(),
    registry,
    authenticator: verifier,
    ...options,
  });
  harness = {
    service,
    graph,
    media,
    registry,
    verifier,
    post: (body, { token = "ok", contentType = "application/json", raw } = {}) =>
      fetch(`${service.url}/api/calls`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": contentType },
        body: raw ?? JSON.stringify(body),
      }),
    metric: async (name, labels = {}) => {
      const metric = await registry.getSingleMetric(name)?.get();
      const entries = Object.entries(labels);
      return (metric?.values ?? [])
        .filter((value) => entries.every(([key, expected]) => value.labels[key] === expected))
        .filter(
          (value) => !("metricName" in value) || value.metricName === `${name}_count` || !value.metricName,
        )
        .reduce((sum, value) => sum + value.value, 0);
    },
    state: (callId) => service.calls().find((call) => call.callId === callId)?.state,
  };
  return harness;
}

function notify(callId: string, changeType: string, resourceData: unknown, sub = ""): unknown {
  return {
    "@odata.type": "#microsoft.graph.commsNotifications",
    value: [{ changeType, resourceUrl: `/communications/calls/${callId}${sub}`, resourceData }],
  };
}

const incoming = (callId: string, tenantId = TENANT) =>
  notify(callId, "created", {
    "@odata.type": "#microsoft.graph.call",
    state: "incoming",
    direction: "incoming",
    tenantId,
    requestedModalities: ["audio"],
    source: { identity: { user: { id: "u1" } } },
  });
const stateUpdate = (callId: string, state: string) => notify(callId, "updated", { state });
const ended = (callId: string, code = 200, subcode = 5001) =>
  notify(callId, "deleted", { state: "terminated", resultInfo: { code, subcode } });

describe("signaling service: answering", () => {
  it("acknowledges at once and answers with the app-hosted media blob", async () => {
    const h = await start();
    // Graph holds the answer until the acknowledgement has arrived: a 202 here proves the
    // acknowledgement does not wait for the answer, whatever the machine's load.
    let releaseAnswer = (): void => {};
    const answerHeld = new Promise<void>((resolve) => {
      releaseAnswer = resolve;
    });
    h.graph.answerImpl = () => answerHeld;
    const response = await h.post(incoming("call-1"));
    expect(response.status).toBe(202);
    expect(h.service.calls()[0]?.answeredAt).toBeUndefined();
    releaseAnswer();
    await until(() => h.graph.count("answer") === 1, 3000, "answer");
    const answer = h.graph.requests.find((r) => r.action === "answer");
    expect(answer?.callId).toBe("call-1");
    const body = answer?.body as {
      callbackUri: string;
      acceptedModalities: string[];
      mediaConfig: Record<string, string>;
    };
    expect(body.callbackUri).toBe("https://bot.example.com/api/calls");
    expect(body.acceptedModalities).toEqual(["audio"]);
    expect(body.mediaConfig["@odata.type"]).toBe("#microsoft.graph.appHostedMediaConfig");
    const blob = parseMediaBlob(body.mediaConfig.blob ?? "");
    expect(blob.callId).toBe("call-1");
    expect(blob.mpUri).toBe("net.tcp://media.example.com:8445/MediaProcessor");
    await until(() => h.service.calls()[0]?.answeredAt !== undefined, 3000, "answeredAt");
    expect(await h.metric("signaling_answer_latency_seconds")).toBe(1);
    expect(
      await h.metric("signaling_notifications_total", { kind: "incomingCall", outcome: "answering" }),
    ).toBe(1);
  });

  it("follows establishing/established (in any order, duplicated), forwards tones and rosters, ends on deleted", async () => {
    const h = await start();
    await h.post(incoming("call-2"));
    await until(() => h.graph.count("answer") === 1);
    await h.post(stateUpdate("call-2", "Established"));
    await h.post(stateUpdate("call-2", "establishing"));
    await h.post(stateUpdate("call-2", "established"));
    await until(() => h.state("call-2") === "established");
    await h.post(
      notify("call-2", "updated", { state: "established", toneInfo: { tone: "tone7", sequenceId: 1 } }),
    );
    await h.post(
      notify("call-2", "updated", { state: "established", toneInfo: { tone: "tone7", sequenceId: 1 } }),
    );
    await h.post(notify("call-2", "updated", [{ id: "p1" }, { id: "p2" }], "/participants"));
    await h.post(ended("call-2"));
    await until(() => h.state("call-2") === "terminated");
    expect(h.media.log).toEqual([
      "create call-2",
      "established call-2",
      "tone call-2 tone7",
      "roster call-2 p1,p2",
      "close call-2",
    ]);
    expect(h.service.calls()[0]?.end?.resultInfo).toEqual({ code: 200, subcode: 5001 });
    expect(h.service.calls()[0]?.end?.meaning?.endedBy).toBe("remote");
    expect(
      await h.metric("signaling_call_transitions_total", { from: "establishing", to: "established" }),
    ).toBe(0);
    expect(await h.metric("signaling_call_transitions_total", { from: "answering", to: "established" })).toBe(
      1,
    );
    expect(await h.metric("signaling_notifications_total", { kind: "callState", outcome: "stale" })).toBe(1);
    // A late notification after the end changes nothing.
    await h.post(stateUpdate("call-2", "established"));
    await h.post(ended("call-2"));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(h.state("call-2")).toBe("terminated");
    expect(h.media.log.filter((line) => line.startsWith("close"))).toHaveLength(1);
  });

  it("ignores a duplicated incoming-call notification (one answer)", async () => {
    const h = await start();
    await h.post({
      value: [
        (incoming("call-3") as { value: unknown[] }).value[0],
        (incoming("call-3") as { value: unknown[] }).value[0],
      ],
    });
    await h.post(incoming("call-3"));
    await until(() => h.graph.count("answer") === 1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(h.graph.count("answer")).toBe(1);
    expect(
      await h.metric("signaling_notifications_total", { kind: "incomingCall", outcome: "duplicate" }),
    ).toBe(2);
  });

  it("sends keepAlive at the configured interval while the call lives, and stops at the end", async () => {
    const h = await start({ keepAliveIntervalMs: 40 });
    await h.post(incoming("call-4"));
    await until(() => h.graph.count("keepAlive", "call-4") >= 2, 3000, "keepAlives");
    await h.post(ended("call-4"));
    await until(() => h.state("call-4") === "terminated");
    const count = h.graph.count("keepAlive");
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(h.graph.count("keepAlive")).toBe(count);
  });

  it("retries a keepAlive that failed transiently after half an interval, not a whole one", async () => {
    const h = await start({ keepAliveIntervalMs: 1000 });
    const sentAt: number[] = [];
    h.graph.keepAliveImpl = async () => {
      sentAt.push(performance.now());
      if (sentAt.length === 1) throw new GraphStatusError(503);
    };
    await h.post(incoming("call-4b"));
    await until(() => sentAt.length >= 2, 3000, "keepAlive retry");
    const gap = (sentAt[1] as number) - (sentAt[0] as number);
    // The retry comes 500 ms after the failure; the next interval would be 1000 ms.
    expect(gap).toBeGreaterThanOrEqual(450);
    expect(gap).toBeLessThan(950);
    expect(h.service.liveCallCount).toBe(1);
  });

  it("ends a call locally when keepAlive answers 404", async () => {
    const h = await start({ keepAliveIntervalMs: 30 });
    h.graph.keepAliveImpl = async () => {
      throw new GraphStatusError(404);
    };
    await h.post(incoming("call-5"));
    await until(() => h.state("call-5") === "terminated", 3000, "local end");
    expect(h.service.calls()[0]?.end?.localReason).toMatch(/keepAlive 404/);
    expect(h.media.log).toContain("close call-5");
  });

  it("rejects the call through Graph and closes the media session when Graph refuses the answer", async () => {
    const h = await start({}, { endConfirmTimeoutMs: 200 });
    h.graph.answerImpl = async () => {
      throw new GraphStatusError(400);
    };
    await h.post(incoming("call-6"));
    await until(() => h.state("call-6") === "terminated", 3000, "end after failed answer");
    expect(h.graph.requests.filter((r) => r.action === "reject")).toEqual([
      { action: "reject", callId: "call-6", body: { reason: "busy" } },
    ]);
    expect(h.media.log).toEqual(["create call-6", "close call-6"]);
    expect(await h.metric("signaling_incoming_calls_total", { decision: "answer_failed" })).toBe(1);
    expect(await h.metric("signaling_answer_outcomes_total", { outcome: "rejected" })).toBe(1);
    expect(h.service.liveCallCount).toBe(0);
  });

  it("waits for Graph when the answer outcome is unknown, and carries on if the call establishes", async () => {
    const h = await start({}, { answerDeadlineMs: 500 });
    h.graph.answerImpl = async () => {
      throw new GraphStatusError(0, true);
    };
    await h.post(incoming("call-7"));
    await until(() => h.graph.count("answer") === 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(h.state("call-7")).toBe("answering");
    await h.post(stateUpdate("call-7", "established"));
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(h.state("call-7")).toBe("established");
    expect(h.media.log).not.toContain("close call-7");
  });

  it("carries on when Graph reports the call answered before the answer request fails", async () => {
    const h = await start({}, { answerDeadlineMs: 500 });
    let fail: (() => void) | undefined;
    h.graph.answerImpl = () =>
      new Promise((_, reject) => {
        fail = () => reject(new GraphStatusError(0, true));
      });
    await h.post(incoming("call-7b"));
    await until(() => h.graph.count("answer") === 1);
    // Graph acted on the answer; its 202 never reaches the bot (reset, timeout).
    await h.post(stateUpdate("call-7b", "establishing"));
    await until(() => h.state("call-7b") === "establishing");
    fail?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await h.post(stateUpdate("call-7b", "established"));
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(h.state("call-7b")).toBe("established");
    expect(h.media.log).toEqual(["create call-7b", "established call-7b"]);
    expect(h.graph.count("hangUp")).toBe(0);
    expect(await h.metric("signaling_incoming_calls_total", { decision: "answered" })).toBe(1);
  });

  it("hangs up through Graph when the answer outcome stays unknown past the deadline", async () => {
    const h = await start({}, { answerDeadlineMs: 300 });
    h.graph.answerImpl = async () => {
      throw new GraphStatusError(0, true);
    };
    await h.post(incoming("call-7c"));
    await until(() => h.graph.count("hangUp", "call-7c") === 1, 3000, "hang up after unknown outcome");
    expect(h.state("call-7c")).not.toBe("answering");
  });

  it("ends a call Graph said was terminating when its end notification never comes", async () => {
    const h = await start({}, { endConfirmTimeoutMs: 200 });
    await h.post(incoming("call-7d"));
    await until(() => h.graph.count("answer") === 1);
    await h.post(stateUpdate("call-7d", "terminating"));
    await until(() => h.state("call-7d") === "terminated", 3000, "local end after terminating");
    expect(h.media.log).toEqual(["create call-7d", "close call-7d"]);
    expect(h.service.liveCallCount).toBe(0);
  });

  it("does not answer past the answer deadline; the media session is closed", async () => {
    const h = await start({}, { answerDeadlineMs: 50 });
    h.media.createDelayMs = 120;
    await h.post(incoming("call-8"));
    await until(() => h.state("call-8") === "terminated", 3000, "deadline end");
    expect(h.graph.count("answer")).toBe(0);
    expect(h.media.log).toEqual(["create call-8", "close call-8"]);
  });
});

describe("signaling service: policy", () => {
  it("rejects busy at capacity, counting only live calls", async () => {
    const h = await start({ maxCalls: 1 });
    await h.post(incoming("a"));
    await until(() => h.graph.count("answer") === 1);
    await h.post(incoming("b"));
    await until(() => h.graph.count("reject") === 1);
    expect(h.graph.requests.find((r) => r.action === "reject")).toMatchObject({
      callId: "b",
      body: { reason: "busy" },
    });
    expect(h.media.log).toEqual(["create a"]);
    await h.post(ended("b", 200, 0));
    await h.post(ended("a"));
    await until(() => h.service.liveCallCount === 0);
    await h.post(incoming("c"));
    await until(() => h.graph.count("answer") === 2);
  });

  it("rejects busy when the media provider is unavailable", async () => {
    const h = await start();
    h.media.unavailable = "heavilyLoaded";
    await h.post(incoming("d"));
    await until(() => h.graph.count("reject") === 1);
    expect(h.graph.requests[0]).toMatchObject({ action: "reject", body: { reason: "busy" } });
    expect(h.state("d")).toBe("terminating");
  });

  it("rejects forbidden for a call from a tenant outside the allow-list", async () => {
    const h = await start({ allowedTenants: [TENANT] });
    await h.post(incoming("e", FOREIGN_TENANT));
    await until(() => h.graph.count("reject") === 1);
    expect(h.graph.requests[0]).toMatchObject({ action: "reject", body: { reason: "forbidden" } });
    expect(await h.metric("signaling_incoming_calls_total", { decision: "rejected_forbidden" })).toBe(1);
  });

  it("ends a rejected call locally if Graph never confirms it", async () => {
    const h = await start({ maxCalls: 1 }, { endConfirmTimeoutMs: 50 });
    h.media.unavailable = "overloaded";
    await h.post(incoming("f"));
    await until(() => h.state("f") === "terminated", 3000, "local end");
    expect(h.service.calls()[0]?.end?.localReason).toMatch(/not confirmed/);
  });
});

describe("signaling service: HTTP surface", () => {
  it("refuses bad tokens before reading the body: no call touched, no Graph request", async () => {
    const h = await start();
    const unauthorized = await h.post(incoming("x1"), { token: "forged" });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get("www-authenticate")).toMatch(/Bearer/);
    expect(await unauthorized.json()).toEqual({ error: { code: "bad_signature", message: "invalid token" } });
    const forbidden = await h.post(incoming("x2"), { token: "foreign" });
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ error: { code: "tenant_not_allowed" } });
    // Even an oversized or malformed body gets the token answer first.
    expect((await h.post(undefined, { token: "forged", raw: "{nope" })).status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(h.graph.requests).toEqual([]);
    expect(h.service.calls()).toEqual([]);
  });

  it("answers 400 for malformed JSON and bad envelopes, 413 for oversized bodies, 415 for other types", async () => {
    const h = await start({ notificationBodyLimitBytes: 2048 });
    const malformed = await h.post(undefined, { raw: '{"value": [' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { code: "malformed_json" } });
    const envelope = await h.post({ hello: "world" });
    expect(envelope.status).toBe(400);
    expect(await envelope.json()).toMatchObject({ error: { code: "bad_envelope" } });
    const big = await h.post({ value: [], pad: "x".repeat(4096) });
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ error: { code: "body_too_large" } });
    const text = await h.post(undefined, { raw: "hello", contentType: "text/plain" });
    expect(text.status).toBe(415);
    expect(await h.metric("signaling_notification_requests_refused_total")).toBe(4);
    expect(h.graph.requests).toEqual([]);
  });

  it("keeps the good notifications of a batch with bad items", async () => {
    const h = await start();
    const good = (incoming("g1") as { value: unknown[] }).value[0];
    const response = await h.post({
      value: [null, { changeType: "updated" }, good, { changeType: "updated", resourceUrl: "/x" }],
    });
    expect(response.status).toBe(202);
    await until(() => h.graph.count("answer", "g1") === 1);
    expect(await h.metric("signaling_notifications_total", { kind: "invalid" })).toBe(3);
  });

  it("serves health with call counts and Prometheus metrics on the operational listener", async () => {
    const h = await start();
    await h.post(incoming("h1"));
    await until(() => h.graph.count("answer") === 1);
    const health = await fetch(`${h.service.opsUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      status: "ok",
      calls: { live: 1, byState: { answering: 1 } },
    });
    const metrics = await (await fetch(`${h.service.opsUrl}/metrics`)).text();
    expect(metrics).toContain("signaling_answer_latency_seconds_bucket");
    expect(metrics).toContain('signaling_calls{state="answering"} 1');
    // The media worker's metrics (its own registry, in its thread) are served alongside.
    expect(metrics).toContain("media_active_sessions 0");
    expect((await fetch(`${h.service.url}/nope`)).status).toBe(404);
    expect((await fetch(`${h.service.opsUrl}/nope`)).status).toBe(404);
  });
});

describe("signaling service: hang up, media events, shutdown", () => {
  it("hangs up through Graph and ends on Graph's deleted notification", async () => {
    const h = await start();
    await h.post(incoming("k1"));
    await until(() => h.graph.count("answer") === 1);
    expect(await h.service.hangUp("k1")).toBe(true);
    expect(h.graph.count("hangUp", "k1")).toBe(1);
    expect(h.state("k1")).toBe("terminating");
    await h.post(ended("k1", 200, 7000));
    await until(() => h.state("k1") === "terminated");
    expect(h.service.calls()[0]?.end?.meaning?.endedBy).toBe("bot");
    expect(await h.service.hangUp("k1")).toBe(false);
    expect(await h.service.hangUp("never-seen")).toBe(false);
  });

  it("hangs up when the media session is lost, and relays recording status requests", async () => {
    const h = await start();
    await h.post(incoming("m1"));
    await until(() => h.graph.count("answer") === 1);
    h.media.emit({ kind: "recordingStatusRequested", callId: "m1", status: "recording" });
    await until(() => h.media.log.includes("recording m1 recording true"), 3000, "recording status");
    expect(h.graph.requests.find((r) => r.action === "updateRecordingStatus")?.body).toEqual({
      status: "recording",
    });
    h.media.emit({ kind: "sessionLost", callId: "m1", reason: "media host gone" });
    await until(() => h.graph.count("hangUp", "m1") === 1, 3000, "hang up");
    expect(h.state("m1")).toBe("terminating");
  });

  it("a recording status update Graph answers with a failed operation is not accepted", async () => {
    const h = await start();
    h.graph.recordingOperation = {
      id: "op",
      status: "failed",
      resultInfo: { code: 403, subcode: 0, message: "recording not allowed" },
    };
    await h.post(incoming("r1"));
    await until(() => h.graph.count("answer") === 1);
    h.media.emit({ kind: "recordingStatusRequested", callId: "r1", status: "recording" });
    await until(() => h.media.log.includes("recording r1 recording false"), 3000, "recording status");
  });

  it("shutdown hangs up every live call, waits for Graph to end them and closes everything", async () => {
    const h = await start();
    h.graph.hangUpImpl = async (callId) => {
      // Graph confirms the hang up with its deleted notification, a little later.
      setTimeout(() => void h.post(ended(callId, 200, 7000)), 20);
    };
    for (const id of ["s1", "s2", "s3"]) await h.post(incoming(id));
    await until(() => h.graph.count("answer") === 3);
    await h.service.shutdown({ timeoutMs: 2000 });
    expect(h.graph.count("hangUp")).toBe(3);
    expect(h.media.log.filter((line) => line.startsWith("close"))).toHaveLength(3);
    await expect(fetch(`${h.service.opsUrl}/healthz`)).rejects.toThrow();
  });

  it("shutdown ends calls locally when Graph does not confirm in time", async () => {
    const h = await start();
    await h.post(incoming("t1"));
    await until(() => h.graph.count("answer") === 1);
    const started = Date.now();
    await h.service.shutdown({ timeoutMs: 150 });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(h.graph.count("hangUp")).toBe(1);
    expect(h.media.log).toContain("close t1");
  });

  it("rejects busy and reports 503 health while shutting down", async () => {
    const h = await start();
    await h.post(incoming("u1"));
    await until(() => h.graph.count("answer") === 1);
    let release: () => void = () => {};
    h.graph.hangUpImpl = () =>
      new Promise<void>((resolve) => {
        release = resolve;
      });
    const stopping = h.service.shutdown({ timeoutMs: 1000 });
    await until(() => h.graph.count("hangUp") === 1);
    expect((await fetch(`${h.service.opsUrl}/healthz`)).status).toBe(503);
    await h.post(incoming("u2"));
    await until(() => h.graph.count("reject", "u2") === 1, 3000, "busy reject during shutdown");
    release();
    await h.post(ended("u1", 200, 7000));
    await h.post(ended("u2", 200, 0));
    await stopping;
    expect(h.graph.count("answer")).toBe(1);
  });
});
