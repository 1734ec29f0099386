import { base64url, SignJWT } from "jose";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/log/logger.js";
import { createSignalingMetrics } from "../../src/metrics/signaling-metrics.js";
import { NotificationAuthenticator } from "../../src/signaling/notification-auth.js";
import {
  APP_ID,
  createSigningKey,
  KeyServer,
  type SigningKey,
  signToken,
  TENANT,
} from "./helpers/key-server.js";

let server: KeyServer;
let key: SigningKey;
let otherKey: SigningKey;
const openAuthenticators: NotificationAuthenticator[] = [];

beforeAll(async () => {
  key = await createSigningKey("key-1");
  otherKey = await createSigningKey("key-2");
  server = await KeyServer.start([key.jwk]);
});

afterAll(async () => {
  for (const authenticator of openAuthenticators) authenticator.close();
  await server.close();
});

async function authenticator(
  options: {
    allowedTenants?: string[];
    minRefetchIntervalMs?: number;
    openIdUrl?: string;
    clockSkewSeconds?: number;
  } = {},
) {
  const registry = new Registry();
  const instance = new NotificationAuthenticator({
    openIdUrl: options.openIdUrl ?? server.openIdUrl,
    appId: APP_ID,
    allowedTenants: options.allowedTenants ?? [],
    clockSkewSeconds: options.clockSkewSeconds ?? 120,
    ca: server.caPem,
    logger: silentLogger(),
    metrics: createSignalingMetrics(registry),
    minRefetchIntervalMs: options.minRefetchIntervalMs,
    fetchTimeoutMs: 2000,
  });
  openAuthenticators.push(instance);
  await instance.start();
  const refused = async (reason: string): Promise<number> => {
    const metric = await registry.getSingleMetric("signaling_notification_tokens_refused_total")?.get();
    return metric?.values.find((value) => value.labels.reason === reason)?.value ?? 0;
  };
  return { instance, refused };
}

const now = () => Math.floor(Date.now() / 1000);

describe("notification token check", () => {
  it("fetches the keys at start and accepts a valid token from either issuer", async () => {
    const before = server.jwksFetches;
    const { instance } = await authenticator();
    expect(server.jwksFetches).toBe(before + 1);
    expect(instance.keyCount).toBe(1);
    expect(await instance.verify(`Bearer ${await signToken(key)}`)).toEqual({
      ok: true,
      tenantId: TENANT,
      issuer: "https://api.botframework.com",
    });
    const graphToken = await signToken(key, { iss: "https://graph.microsoft.com" });
    expect(await instance.verify(`bearer ${graphToken}`)).toMatchObject({ ok: true });
    // No fetch per token.
    expect(server.jwksFetches).toBe(before + 1);
  });

  it.each([
    ["wrong audience", { aud: "00000000-0000-0000-0000-000000000000" }, "wrong_audience"],
    ["wrong issuer", { iss: "https://evil.example.com" }, "wrong_issuer"],
    ["expired beyond the skew", { exp: now() - 300 }, "expired"],
    ["not yet valid beyond the skew", { nbf: now() + 600 }, "not_yet_valid"],
    ["no tenant", { tid: undefined }, "missing_tenant"],
    ["no expiry", { exp: undefined }, "malformed"],
  ])("refuses a token with %s (401 %s)", async (_name, claims, reason) => {
    const { instance, refused } = await authenticator();
    const result = await instance.verify(`Bearer ${await signToken(key, claims)}`);
    expect(result).toMatchObject({ ok: false, status: 401, reason });
    expect(await refused(reason)).toBe(1);
  });

  it("accepts a token expired or not yet valid within the clock skew", async () => {
    const { instance } = await authenticator();
    expect(await instance.verify(`Bearer ${await signToken(key, { exp: now() - 60 })}`)).toMatchObject({
      ok: true,
    });
    expect(await instance.verify(`Bearer ${await signToken(key, { nbf: now() + 60 })}`)).toMatchObject({
      ok: true,
    });
  });

  it("refuses missing and malformed tokens", async () => {
    const { instance, refused } = await authenticator();
    expect(await instance.verify(undefined)).toMatchObject({ status: 401, reason: "missing_token" });
    expect(await instance.verify("  ")).toMatchObject({ status: 401, reason: "missing_token" });
    expect(await instance.verify("Basic dXNlcjpwYXNz")).toMatchObject({ reason: "malformed" });
    expect(await instance.verify("Bearer not-a-jwt")).toMatchObject({ reason: "malformed" });
    expect(await instance.verify("Bearer a.b.c")).toMatchObject({ reason: "malformed" });
    expect(await refused("missing_token")).toBe(2);
    expect(await refused("malformed")).toBe(3);
  });

  it("refuses a bad signature (right kid, wrong key) and a tampered payload", async () => {
    const { instance } = await authenticator();
    const forged = await signToken(otherKey, {}, { kid: key.kid });
    expect(await instance.verify(`Bearer ${forged}`)).toMatchObject({ status: 401, reason: "bad_signature" });
    const [header, , signature] = (await signToken(key)).split(".");
    const payload = base64url.encode(
      JSON.stringify({ iss: "https://api.botframework.com", aud: APP_ID, tid: TENANT, exp: now() + 60 }),
    );
    expect(await instance.verify(`Bearer ${header}.${payload}.${signature}`)).toMatchObject({
      reason: "bad_signature",
    });
  });

  it("refuses alg none and HS256", async () => {
    const { instance, refused } = await authenticator();
    const header = base64url.encode(JSON.stringify({ alg: "none", typ: "JWT", kid: key.kid }));
    const payload = base64url.encode(
      JSON.stringify({ iss: "https://api.botframework.com", aud: APP_ID, tid: TENANT, exp: now() + 60 }),
    );
    expect(await instance.verify(`Bearer ${header}.${payload}.`)).toMatchObject({
      status: 401,
      reason: "alg_not_allowed",
    });
    const hs = await new SignJWT({ tid: TENANT })
      .setProtectedHeader({ alg: "HS256", kid: key.kid })
      .setIssuer("https://api.botframework.com")
      .setAudience(APP_ID)
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(APP_ID.padEnd(32, "x")));
    expect(await instance.verify(`Bearer ${hs}`)).toMatchObject({ reason: "alg_not_allowed" });
    expect(await refused("alg_not_allowed")).toBe(2);
  });

  it("refetches the keys once for an unknown kid, rate-limited", async () => {
    const { instance, refused } = await authenticator({ minRefetchIntervalMs: 200 });
    const unknown = `Bearer ${await signToken(otherKey)}`;
    // Right after the start fetch: inside the window, no refetch.
    let before = server.jwksFetches;
    expect(await instance.verify(unknown)).toMatchObject({ status: 401, reason: "unknown_kid" });
    expect(server.jwksFetches).toBe(before);
    // Past the window: one refetch for a burst of unknown kids, then none.
    await new Promise((resolve) => setTimeout(resolve, 250));
    before = server.jwksFetches;
    const burst = await Promise.all([1, 2, 3].map(() => instance.verify(unknown)));
    expect(burst.map((result) => (result.ok ? "ok" : result.reason))).toEqual([
      "unknown_kid",
      "unknown_kid",
      "unknown_kid",
    ]);
    expect(await instance.verify(`Bearer ${await signToken(otherKey, {}, { kid: "key-3" })}`)).toMatchObject({
      reason: "unknown_kid",
    });
    expect(server.jwksFetches).toBe(before + 1);
    expect(await refused("unknown_kid")).toBe(5);
  });

  it("picks up a rotated key on the one refetch an unknown kid triggers", async () => {
    const { instance } = await authenticator({ minRefetchIntervalMs: 200 });
    const rotated = await createSigningKey("key-rotated");
    server.keys = [key.jwk, rotated.jwk];
    try {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const before = server.jwksFetches;
      const token = await signToken(rotated);
      const results = await Promise.all([1, 2, 3].map(() => instance.verify(`Bearer ${token}`)));
      expect(results.every((result) => result.ok)).toBe(true);
      // Three concurrent tokens, one fetch.
      expect(server.jwksFetches).toBe(before + 1);
      // Another unknown kid right after: rate-limited, no fetch.
      expect(await instance.verify(`Bearer ${await signToken(otherKey)}`)).toMatchObject({
        reason: "unknown_kid",
      });
      expect(server.jwksFetches).toBe(before + 1);
    } finally {
      server.keys = [key.jwk];
    }
  });

  it("accepts a reused token from its verified cache until it expires", async () => {
    const { instance, refused } = await authenticator({ clockSkewSeconds: 0 });
    const token = await signToken(key, { exp: now() + 2 });
    expect(await instance.verify(`Bearer ${token}`)).toMatchObject({ ok: true, tenantId: TENANT });
    // The second use comes from the cache (same result), but its time claims are checked again.
    expect(await instance.verify(`Bearer ${token}`)).toMatchObject({ ok: true, tenantId: TENANT });
    await new Promise((resolve) => setTimeout(resolve, 3100));
    expect(await instance.verify(`Bearer ${token}`)).toMatchObject({ ok: false, reason: "expired" });
    expect(await refused("expired")).toBe(1);
  });

  it("forgets verified tokens when the key set changes (a removed key vouches for nothing)", async () => {
    const { instance } = await authenticator({ minRefetchIntervalMs: 200 });
    const token = await signToken(key);
    expect(await instance.verify(`Bearer ${token}`)).toMatchObject({ ok: true });
    server.keys = [otherKey.jwk];
    try {
      await new Promise((resolve) => setTimeout(resolve, 250));
      // A token with the new key's kid triggers the refetch that replaces the key set.
      expect(await instance.verify(`Bearer ${await signToken(otherKey)}`)).toMatchObject({ ok: true });
      // Without clearing the cache this would still pass: key-1 is gone.
      expect(await instance.verify(`Bearer ${token}`)).toMatchObject({ ok: false, reason: "unknown_kid" });
    } finally {
      server.keys = [key.jwk];
    }
  });

  it("answers 403 for a tenant outside the allow-list and accepts listed tenants in any case", async () => {
    const { instance, refused } = await authenticator({ allowedTenants: [TENANT.toUpperCase()] });
    expect(await instance.verify(`Bearer ${await signToken(key)}`)).toMatchObject({ ok: true });
    const foreign = await signToken(key, { tid: "99999999-9999-9999-9999-999999999999" });
    expect(await instance.verify(`Bearer ${foreign}`)).toMatchObject({
      ok: false,
      status: 403,
      reason: "tenant_not_allowed",
    });
    expect(await refused("tenant_not_allowed")).toBe(1);
  });

  it("refuses with keys_unavailable when the keys cannot be fetched, without throwing", async () => {
    const { instance, refused } = await authenticator({ openIdUrl: "https://127.0.0.1:1/.well-known/x" });
    expect(instance.keyCount).toBe(0);
    expect(await instance.verify(`Bearer ${await signToken(key)}`)).toMatchObject({
      status: 401,
      reason: "keys_unavailable",
    });
    expect(await refused("keys_unavailable")).toBe(1);
  });
});
