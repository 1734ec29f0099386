/**
 * /readyz against the real parts: the bot (BotApp, media worker, msal-node) with the media
 * platform emulator down, refusing the bridge secret or reporting overload, and with the Graph
 * emulator's token endpoint failing. /healthz (liveness) stays 200 throughout; /readyz says 503
 * and why, bot_ready and bot_not_ready{reason} say the same, and it is 200 again once fixed.
 */
import { describe, expect, it } from "vitest";
import type { NotReady } from "../../src/app/readiness.js";
import { parseExposition } from "../../src/metrics/prometheus-text.js";
import { waitFor } from "../media/wait-for.js";
import type { FaultStack } from "./fault-stack.js";
import { faultStackPerTest } from "./fault-stack-per-test.js";

const startStack = faultStackPerTest();

interface Probe {
  status: number;
  body: { status: string; reasons?: NotReady[] };
}

async function get(s: FaultStack, path: string): Promise<Probe> {
  const response = await fetch(`${s.bot.signaling.opsUrl}${path}`);
  return { status: response.status, body: (await response.json()) as Probe["body"] };
}

/** /readyz once it is 503 with `reason`; fails with the last answer otherwise. */
async function notReadyFor(s: FaultStack, reason: string, timeoutMs = 15_000): Promise<NotReady> {
  let last: Probe | undefined;
  return waitFor(async () => {
    last = await get(s, "/readyz");
    return last.status === 503 ? last.body.reasons?.find((r) => r.reason === reason) : undefined;
  }, timeoutMs).catch(() => {
    throw new Error(`/readyz never said ${reason}: last ${JSON.stringify(last)}`);
  });
}

async function readyAgain(s: FaultStack, timeoutMs = 20_000): Promise<void> {
  let last: Probe | undefined;
  await waitFor(async () => {
    last = await get(s, "/readyz");
    return last.status === 200;
  }, timeoutMs).catch(() => {
    throw new Error(`/readyz not ready again: last ${JSON.stringify(last)}`);
  });
  expect(last?.body).toEqual({ status: "ready" });
}

async function gauges(s: FaultStack): Promise<Map<string, number>> {
  const text = await (await fetch(`${s.bot.signaling.opsUrl}/metrics`)).text();
  return parseExposition(text);
}

describe("readiness (/readyz) apart from liveness (/healthz)", () => {
  it("media host down: 503 media_host_unreachable naming the URL and ECONNREFUSED, while /healthz stays 200", async () => {
    const s = await startStack({ graceMs: 1000 });
    expect(await get(s, "/readyz")).toEqual({ status: 200, body: { status: "ready" } });
    expect((await gauges(s)).get("bot_ready")).toBe(1);

    await s.killMediaHost();
    const problem = await notReadyFor(s, "media_host_unreachable");
    expect(problem.detail).toContain("ECONNREFUSED");
    expect(problem.detail).toContain(s.config.bridge.url);
    expect(problem.detail).not.toContain(s.config.bridge.secret);
    const health = await get(s, "/healthz");
    expect(health.status).toBe(200);
    expect(health.body.status).toBe("ok");
    const metrics = await gauges(s);
    expect(metrics.get("bot_ready")).toBe(0);
    expect(metrics.get('bot_not_ready{reason="media_host_unreachable"}')).toBe(1);
    expect(metrics.get('bot_not_ready{reason="graph_token_unavailable"}')).toBe(0);

    await s.startMediaHost();
    await readyAgain(s);
  }, 60_000);

  it("media host refusing the bridge secret: 503 media_host_auth_refused with the HTTP 401", async () => {
    const s = await startStack({ graceMs: 1000 });
    await s.killMediaHost();
    await s.startMediaHost({ secret: "not-the-bots-secret-0123456789" });
    const problem = await notReadyFor(s, "media_host_auth_refused");
    expect(problem.detail).toContain("HTTP 401");
    expect(problem.detail).toContain("BOT_BRIDGE_SECRET");
    expect(problem.detail).not.toContain(s.config.bridge.secret);
    expect((await gauges(s)).get('bot_not_ready{reason="media_host_auth_refused"}')).toBe(1);

    await s.killMediaHost();
    await s.startMediaHost();
    await readyAgain(s);
  }, 60_000);

  it("media host reporting overload (HealthChanged): 503 media_host_overloaded until it is normal again", async () => {
    const s = await startStack({ graceMs: 1000 });
    s.media.setHealth("overloaded");
    await notReadyFor(s, "media_host_overloaded");
    s.media.setHealth("heavilyLoaded");
    await notReadyFor(s, "media_host_heavily_loaded");
    s.media.setHealth("normal");
    await readyAgain(s);
  }, 60_000);

  it("Graph token endpoint failing past the token's life: 503 graph_token_unavailable with AAD's error", async () => {
    // 4 s tokens: refreshed after 2 s, unusable after 3.6 s.
    const s = await startStack({ graceMs: 1000, tokenLifetimeSeconds: 4 });
    expect((await get(s, "/readyz")).status).toBe(200);
    // Retry-After 1 s: without it msal itself holds back every token request for 60 s after a 503.
    s.graph.injectFault({ match: { action: "token" }, status: 503, retryAfterSeconds: 1, times: 1000 });
    const problem = await notReadyFor(s, "graph_token_unavailable", 20_000);
    expect(problem.detail).toContain("temporarily unavailable");
    expect(problem.detail).toContain(`authority ${s.config.authorityUrl}`);
    expect((await gauges(s)).get('bot_not_ready{reason="graph_token_unavailable"}')).toBe(1);
    expect((await get(s, "/healthz")).status).toBe(200);

    s.graph.clearFaults();
    await readyAgain(s, 30_000);
  }, 60_000);
});
