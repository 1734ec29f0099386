/**
 * Fuzzing the notification auth path and endpoint with real tokens from the Graph emulator
 * (its signing key, its OpenID configuration and JWKS over HTTPS):
 * - forged tokens (random claim faults, alg none, unknown keys, character mutations of a valid
 *   token) are refused with the reason of their fault, and verify() never throws;
 * - over the real HTTP endpoint on loopback, forged tokens and refused bodies get a 4xx with a
 *   precise code and create or change no call; accepted bodies (mutated realistic ones) never
 *   get a 500 and no event handler throws.
 */

import fc from "fast-check";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GraphEmulator } from "../../src/emulator/graph/graph-emulator.js";
import type { NotificationTokenOverrides } from "../../src/emulator/graph/notification-token.js";
import { silentLogger } from "../../src/log/logger.js";
import { createSignalingMetrics } from "../../src/metrics/signaling-metrics.js";
import { NotificationAuthenticator } from "../../src/signaling/notification-auth.js";
import { SignalingService } from "../../src/signaling/signaling-service.js";
import { FakeGraph, RecordingMediaProvider, testConfig, until } from "../signaling/helpers/fakes.js";
import { fuzzAsync, timeoutFor } from "./fuzz-runner.js";
import { batch, ended, incomingCall, realisticBodies, stateChange, TENANT } from "./graph-notifications.js";
import { mutatedJson } from "./json-mutations.js";

const APP_ID = "5b0e7b39-6c39-4a0c-9b51-3c8f0b2a7d11";
const REASONS = new Set([
  "missing_token",
  "malformed",
  "bad_signature",
  "unknown_kid",
  "wrong_issuer",
  "wrong_audience",
  "expired",
  "not_yet_valid",
  "missing_tenant",
  "tenant_not_allowed",
  "alg_not_allowed",
  "keys_unavailable",
]);

let emulator: GraphEmulator;
let validToken: string;

beforeAll(async () => {
  emulator = await GraphEmulator.start({ logger: silentLogger() });
  emulator.registerApp({
    appId: APP_ID,
    secret: "s",
    tenantId: TENANT,
    callbackUrl: "https://127.0.0.1:1/api/calls",
  });
  validToken = await emulator.signNotificationToken({}, { appId: APP_ID, tenantId: TENANT });
});

afterAll(async () => {
  await emulator?.close();
});

function authenticator(): NotificationAuthenticator {
  return new NotificationAuthenticator({
    openIdUrl: emulator.notificationOpenIdUrl,
    appId: APP_ID,
    allowedTenants: [],
    clockSkewSeconds: 120,
    ca: emulator.caCertPem,
    logger: silentLogger(),
    metrics: createSignalingMetrics(new Registry()),
    // Unknown kids in forged tokens must not send a fetch per case.
    minRefetchIntervalMs: 60_000,
  });
}

/** One fault of a forged token and the reason it must be refused with. */
type Fault = { overrides: NotificationTokenOverrides; reason: string };

const FAULTS: fc.Arbitrary<Fault> = fc.oneof(
  fc.uuid().map((aud) => ({ overrides: { claims: { aud } }, reason: "wrong_audience" })),
  fc
    .webUrl()
    .filter((iss) => iss !== "https://api.botframework.com" && iss !== "https://graph.microsoft.com")
    .map((iss) => ({ overrides: { claims: { iss } }, reason: "wrong_issuer" })),
  // 60 s beyond the 120 s clock tolerance: a token minted on a busy machine may be checked
  // seconds later (a 1 s margin failed in a loaded full run: nbf now+121 was accepted).
  fc
    .integer({ min: -10 * 86_400, max: -180 })
    .map((s) => ({ overrides: { expiresInSeconds: s, notBeforeInSeconds: s - 600 }, reason: "expired" })),
  fc
    .integer({ min: 180, max: 86_400 })
    .map((s) => ({ overrides: { notBeforeInSeconds: s }, reason: "not_yet_valid" })),
  fc.constant({ overrides: { alg: "none" as const }, reason: "alg_not_allowed" }),
  fc.constant({ overrides: { signWithUnknownKey: true }, reason: "bad_signature" }),
  fc
    .string({ minLength: 1, maxLength: 20 })
    .map((kid) => ({ overrides: { kid: `x${kid}` }, reason: "unknown_kid" })),
  fc.constant<Fault>({ overrides: { omitClaims: ["tid"] }, reason: "missing_tenant" }),
  fc.constant<Fault>({ overrides: { omitClaims: ["exp"] }, reason: "malformed" }),
);

/** Character-level mutations of the valid token: every one that changes what is signed is refused. */
const mutatedToken = fc
  .record({
    kind: fc.constantFrom("replace", "insert", "delete", "swap-segments", "truncate"),
    at: fc.nat(),
    char: fc.constantFrom(..."AZaz09-_.=+/ %\u00e9"),
  })
  .map(({ kind, at, char }) => {
    const t = validToken;
    const i = at % t.length;
    switch (kind) {
      case "replace":
        return t.slice(0, i) + char + t.slice(i + 1);
      case "insert":
        return t.slice(0, i) + char + t.slice(i);
      case "delete":
        return t.slice(0, i) + t.slice(i + 1);
      case "truncate":
        return t.slice(0, i);
      default: {
        const [h, p, s] = t.split(".");
        return `${p}.${h}.${s}`;
      }
    }
  });

/** True when `token` carries the same signed bytes as the valid token (base64url may differ in its unused tail bits). */
function sameSignedBytes(token: string): boolean {
  const parts = token.split(".");
  const valid = validToken.split(".");
  if (parts.length !== 3 || parts[0] !== valid[0] || parts[1] !== valid[1]) return false;
  if (!/^[A-Za-z0-9_-]*$/.test(parts[2] as string)) return false;
  return Buffer.from(parts[2] as string, "base64url").equals(Buffer.from(valid[2] as string, "base64url"));
}

describe("fuzz: notification tokens", () => {
  it(
    "a token with one fault is refused with that fault's reason; verify() never throws",
    async () => {
      const auth = authenticator();
      await auth.start();
      try {
        expect(await auth.verify(`Bearer ${validToken}`)).toMatchObject({ ok: true, tenantId: TENANT });
        await fuzzAsync("notification token faults", 120, FAULTS, async (fault) => {
          const token = await emulator.signNotificationToken(fault.overrides, {
            appId: APP_ID,
            tenantId: TENANT,
          });
          const result = await auth.verify(`Bearer ${token}`);
          expect(result).toMatchObject({ ok: false, status: 401, reason: fault.reason });
          expect(result.ok === false && result.detail.length > 5).toBe(true);
        });
      } finally {
        auth.close();
      }
    },
    timeoutFor(120, 20_000),
  );

  it(
    "mutated and garbage Authorization headers: refused with a known reason unless the signed bytes are intact",
    async () => {
      const auth = authenticator();
      await auth.start();
      const header = fc.oneof(
        mutatedToken.map((t) => `Bearer ${t}`),
        fc.string({ maxLength: 40 }),
        fc.string({ maxLength: 40 }).map((s) => `Bearer ${s}`),
        fc
          .tuple(fc.base64String(), fc.base64String(), fc.base64String())
          .map((parts) => `Bearer ${parts.join(".")}`),
        fc.jsonValue().map((v) => `Bearer ${Buffer.from(JSON.stringify(v)).toString("base64url")}.e30.`),
      );
      try {
        await fuzzAsync("notification token mutations", 600, header, async (authorization) => {
          const result = await auth.verify(authorization);
          if (result.ok) {
            expect(sameSignedBytes(authorization.trim().replace(/^bearer\s+/i, ""))).toBe(true);
            return;
          }
          expect(REASONS.has(result.reason), result.reason).toBe(true);
          expect(result.status).toBe(401);
          expect(result.detail.length).toBeGreaterThan(5);
        });
      } finally {
        auth.close();
      }
    },
    timeoutFor(600, 20_000),
  );
});

describe("fuzz: the notification endpoint over loopback HTTP", () => {
  it(
    "forged tokens and refused bodies change no call; accepted bodies never get a 500",
    async () => {
      const graph = new FakeGraph();
      const media = new RecordingMediaProvider();
      const registry = new Registry();
      const service = await SignalingService.start({
        config: testConfig({
          appId: APP_ID,
          tenantId: TENANT,
          notificationOpenIdUrl: emulator.notificationOpenIdUrl,
          caCertPath: emulator.caCertPath,
          notificationBodyLimitBytes: 16 * 1024,
          maxCalls: 1000,
        }),
        graph,
        media,
        logger: silentLogger(),
        registry,
      });
      const post = (body: string, token: string, contentType = "application/json") =>
        fetch(`${service.url}/api/calls`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": contentType },
          body,
        });
      const state = (callId: string) => service.calls().find((call) => call.callId === callId)?.state;
      try {
        // A live call that refused requests try to end.
        expect((await post(JSON.stringify(batch(incomingCall("live-1"))), validToken)).status).toBe(202);
        await until(() => graph.count("answer", "live-1") === 1, 5000, "answer");
        await post(JSON.stringify(batch(stateChange("live-1", "established"))), validToken);
        await until(() => state("live-1") === "established", 5000, "established");

        const forgedToken = fc.oneof(
          FAULTS.map((fault) => ({ fault })),
          mutatedToken.filter((t) => !sameSignedBytes(t)).map((token) => ({ token })),
        );
        const refusedBody: fc.Arbitrary<{ text: string; contentType?: string }> = fc.oneof(
          // Not JSON: a realistic body cut or corrupted.
          fc
            .tuple(
              fc.constantFrom(...realisticBodies("refused")),
              fc.nat(),
              fc.constantFrom("", "}", "\u0000", "]]"),
            )
            .map(([body, at, junk]) => {
              const text = JSON.stringify(body);
              return { text: `${text.slice(0, 1 + (at % (text.length - 1)))}${junk}` };
            })
            .filter(({ text }) => {
              try {
                JSON.parse(text);
                return false;
              } catch {
                return true;
              }
            }),
          // JSON, but no notifications envelope.
          fc
            .oneof(
              fc
                .jsonValue({ maxDepth: 2 })
                .filter((v) => v === null || typeof v !== "object" || Array.isArray(v)),
              fc.constant({ value: { not: "an array" } }),
              fc.constant({ hello: "world" }),
            )
            .map((v) => ({ text: JSON.stringify(v) ?? "null" })),
          // Too large.
          fc.constant({ text: JSON.stringify(batch(ended("live-1"), { pad: "x".repeat(17 * 1024) })) }),
          // Not JSON at all.
          fc.constant({ text: JSON.stringify(batch(ended("live-1"))), contentType: "text/plain" }),
        );
        let caseNumber = 0;
        const request = fc.oneof(
          fc.record({ kind: fc.constant("forged" as const), forged: forgedToken }),
          fc.record({ kind: fc.constant("refusedBody" as const), body: refusedBody }),
          fc.record({ kind: fc.constant("accepted" as const), body: fc.nat() }),
        );
        await fuzzAsync("notification endpoint over HTTP", 150, request, async (r) => {
          const callId = `fz-${caseNumber++}`;
          const callsBefore = service.calls().length;
          if (r.kind === "forged") {
            const token =
              "token" in r.forged
                ? r.forged.token
                : await emulator.signNotificationToken(r.forged.fault.overrides, {
                    appId: APP_ID,
                    tenantId: TENANT,
                  });
            // A forged token on a body that would create a call and one that would end the live call.
            for (const body of [batch(incomingCall(callId)), batch(ended("live-1"))]) {
              const response = await post(JSON.stringify(body), token);
              expect(response.status).toBe(401);
              const error = ((await response.json()) as { error: { code: string } }).error;
              if ("fault" in r.forged) expect(error.code).toBe(r.forged.fault.reason);
              else expect(REASONS.has(error.code)).toBe(true);
            }
          } else if (r.kind === "refusedBody") {
            const response = await post(r.body.text, validToken, r.body.contentType);
            expect([400, 413, 415]).toContain(response.status);
            const error = ((await response.json()) as { error: { code: string; message: string } }).error;
            expect([
              "malformed_json",
              "bad_envelope",
              "body_too_large",
              "unsupported_media_type",
              "empty_body",
            ]).toContain(error.code);
            expect(error.message.length).toBeGreaterThan(5);
          } else {
            const [body] = fc.sample(mutatedJson(realisticBodies(callId)), { seed: r.body, numRuns: 1 });
            const response = await post(JSON.stringify(body) ?? "null", validToken);
            expect([202, 400]).toContain(response.status);
            if (response.status === 400) {
              const code = ((await response.json()) as { error: { code: string } }).error.code;
              // express.json (strict) answers a JSON primitive as not JSON: imprecise, but a 400.
              const primitive = body === null || typeof body !== "object";
              expect(code).toBe(primitive ? "malformed_json" : "bad_envelope");
            }
            return;
          }
          // Refused: no call created (not now, and not later from work scheduled anyway).
          await new Promise((resolve) => setImmediate(resolve));
          expect(service.calls().some((call) => call.callId === callId)).toBe(false);
          expect(service.calls().length).toBeGreaterThanOrEqual(callsBefore);
          expect(state("live-1")).toBe("established");
        });
        expect(state("live-1")).toBe("established");
        expect(graph.count("hangUp", "live-1")).toBe(0);
        expect(media.log).not.toContain("close live-1");
        const metric = await registry.getSingleMetric("signaling_notifications_total")?.get();
        const errors = (metric?.values ?? []).filter((v) => v.labels.outcome === "error");
        expect(errors).toEqual([]);
      } finally {
        await service.shutdown({ timeoutMs: 500 });
      }
    },
    timeoutFor(150, 30_000),
  );
});
