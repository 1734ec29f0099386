import { randomUUID } from "node:crypto";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GraphEmulator } from "../../src/emulator/graph/graph-emulator.js";
import { GraphTokenError, type GraphTokenProvider } from "../../src/graph/token-provider.js";
import { silentLogger } from "../../src/log/logger.js";
import { appCertificate, capturedLogger, emulatorTokenProvider, waitFor } from "./helpers.js";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";

function decodeClaims(token: string): Record<string, unknown> {
  const payload = token.split(".")[1] ?? "";
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
}

async function refreshCount(registry: Registry, outcome: string): Promise<number> {
  const metric = await registry.getSingleMetric("graph_token_refreshes_total")?.get();
  return metric?.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

describe("GraphTokenProvider against the Graph emulator (real msal-node, real HTTPS)", () => {
  let emulator: GraphEmulator;
  const appId = randomUUID();
  const secret = `secret-${randomUUID()}`;

  beforeAll(async () => {
    emulator = await GraphEmulator.start({ logger: silentLogger() });
    emulator.registerApp({ appId, secret, tenantId: TENANT, callbackUrl: "https://bot.test/api/calls" });
  });
  afterAll(async () => {
    await emulator.close();
  });

  function provider(overrides: Partial<ConstructorParameters<typeof GraphTokenProvider>[0]> = {}) {
    return emulatorTokenProvider(emulator, { appId, secret, tenantId: TENANT }, overrides);
  }

  it("fetches at start and serves the cached token as an already-resolved promise", async () => {
    const { logger, lines } = capturedLogger();
    const registry = new Registry();
    const tokens = provider({ logger, registry });
    const tokenRequests = () =>
      emulator
        .requestLog()
        .filter((e) => e.action === "token" && (e.body as { client_id?: string }).client_id === appId).length;
    const before = tokenRequests();
    try {
      await tokens.start();
      expect(tokenRequests()).toBe(before + 1);
      const first = tokens.getToken();
      const second = tokens.getToken();
      expect(second).toBe(first);
      const token = await first;
      const claims = decodeClaims(token);
      expect(claims.appid).toBe(appId);
      expect(claims.tid).toBe(TENANT);
      expect(claims.aud).toBe("https://graph.microsoft.com");
      expect(await refreshCount(registry, "success")).toBe(1);
      // A hundred more reads are served from the cache: still exactly one fetch.
      for (let i = 0; i < 100; i++) await tokens.getToken();
      expect(await refreshCount(registry, "success")).toBe(1);
      expect(tokenRequests()).toBe(before + 1);
      expect(lines.some((line) => line.includes("graph token fetched"))).toBe(true);
      expect(lines.join("\n")).not.toContain(token);
      expect(lines.join("\n")).not.toContain(secret);
    } finally {
      tokens.close();
    }
  });

  it("coalesces concurrent fetches into one token request", async () => {
    const registry = new Registry();
    const tokens = provider({ registry });
    const before = emulator.requestLog().filter((e) => e.action === "token").length;
    try {
      const all = await Promise.all(Array.from({ length: 10 }, () => tokens.getToken()));
      expect(new Set(all).size).toBe(1);
      expect(emulator.requestLog().filter((e) => e.action === "token").length).toBe(before + 1);
      expect(await refreshCount(registry, "success")).toBe(1);
    } finally {
      tokens.close();
    }
  });

  it("refreshes in the background before expiry", async () => {
    emulator.tokenLifetimeSeconds = 3;
    const registry = new Registry();
    const tokens = provider({ registry, refreshMarginMs: 0 });
    try {
      await tokens.start();
      const firstExp = decodeClaims(await tokens.getToken()).exp as number;
      // 80% of ~3 s: a refresh lands around 2.4 s, before the first token expires.
      let refreshes = 1;
      const poll = setInterval(() => {
        void refreshCount(registry, "success").then((n) => {
          refreshes = n;
        });
      }, 25);
      try {
        await waitFor(() => refreshes >= 2, 4000, "a background refresh");
      } finally {
        clearInterval(poll);
      }
      const secondExp = decodeClaims(await tokens.getToken()).exp as number;
      expect(secondExp).toBeGreaterThan(firstExp);
      // The refresh happened before the first token's expiry, so no caller ever waited.
      expect(Date.now() / 1000).toBeLessThan(firstExp + 1);
    } finally {
      tokens.close();
      emulator.tokenLifetimeSeconds = 3599;
    }
  });

  it("retries a failing background refresh with backoff while the cached token keeps serving", async () => {
    emulator.tokenLifetimeSeconds = 6;
    const registry = new Registry();
    // Refresh at 30% (~1.8 s): the failures and retries all happen well inside the token's life.
    const tokens = provider({
      registry,
      refreshAtFraction: 0.3,
      retryBaseDelayMs: 100,
      retryMaxDelayMs: 400,
    });
    const counts = { success: 1, failure: 0 };
    const poll = setInterval(() => {
      void Promise.all([refreshCount(registry, "success"), refreshCount(registry, "failure")]).then(
        ([s, f]) => {
          counts.success = s;
          counts.failure = f;
        },
      );
    }, 25);
    try {
      await tokens.start();
      const cached = tokens.getToken();
      // The identity side now refuses the app's secret: every refresh fails.
      emulator.registerApp({
        appId,
        secret: "rotated-away",
        tenantId: TENANT,
        callbackUrl: "https://bot.test/api/calls",
      });
      await waitFor(() => counts.failure >= 3, 5000, "three failed refreshes");
      // Between failures, callers still get the cached token at once.
      expect(tokens.getToken()).toBe(cached);
      emulator.registerApp({ appId, secret, tenantId: TENANT, callbackUrl: "https://bot.test/api/calls" });
      await waitFor(() => counts.success >= 2, 3000, "a successful retry");
      expect(decodeClaims(await tokens.getToken()).exp).toBeGreaterThan(
        decodeClaims(await cached).exp as number,
      );
    } finally {
      clearInterval(poll);
      tokens.close();
      emulator.registerApp({ appId, secret, tenantId: TENANT, callbackUrl: "https://bot.test/api/calls" });
      emulator.tokenLifetimeSeconds = 3599;
    }
  });

  it("fails start with a clear error for a wrong secret and never logs the secret", async () => {
    const { logger, lines } = capturedLogger();
    const registry = new Registry();
    const tokens = provider({
      logger,
      registry,
      credential: { kind: "secret", secret: "wrong-secret-value" },
    });
    try {
      const error = await tokens.start().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(GraphTokenError);
      expect((error as GraphTokenError).code).toBe("invalid_client");
      expect((error as Error).message).toContain("AADSTS7000215");
      expect((error as Error).message).not.toContain("wrong-secret-value");
      expect(lines.join("\n")).not.toContain("wrong-secret-value");
      expect(await refreshCount(registry, "failure")).toBe(1);
    } finally {
      tokens.close();
    }
  });

  it("authenticates with a certificate (SHA-256 and SHA-1 thumbprints)", async () => {
    const cert = await appCertificate();
    const certAppId = randomUUID();
    emulator.registerApp({
      appId: certAppId,
      tenantId: TENANT,
      callbackUrl: "https://bot.test/api/calls",
      certificatePem: cert.certPem,
    });
    for (const thumbprint of [cert.sha256, cert.sha1]) {
      await avoidNbfRounding();
      const tokens = provider({
        appId: certAppId,
        credential: {
          kind: "certificate",
          privateKeyPath: cert.keyPath,
          thumbprint,
          certificatePath: cert.certPath,
        },
      });
      try {
        await tokens.start();
        expect(decodeClaims(await tokens.getToken()).appid).toBe(certAppId);
      } finally {
        tokens.close();
      }
    }
  });

  it("rejects a certificate the app does not have", async () => {
    const registered = await appCertificate();
    const other = await appCertificate();
    const certAppId = randomUUID();
    emulator.registerApp({
      appId: certAppId,
      tenantId: TENANT,
      callbackUrl: "https://bot.test/api/calls",
      certificatePem: registered.certPem,
    });
    const tokens = provider({
      appId: certAppId,
      credential: { kind: "certificate", privateKeyPath: other.keyPath, thumbprint: other.sha256 },
    });
    try {
      await avoidNbfRounding();
      await expect(tokens.start()).rejects.toThrow(/invalid_client.*AADSTS700027: .*thumbprint/i);
    } finally {
      tokens.close();
    }
  });

  it("does not trust the emulator without its CA", async () => {
    const tokens = provider({ ca: undefined });
    try {
      await expect(tokens.start()).rejects.toBeInstanceOf(GraphTokenError);
    } finally {
      tokens.close();
    }
  });
});

/**
 * msal-node stamps a client assertion's nbf with Math.round(now in seconds), up to 0.5 s in
 * the future, and the emulator (at the time of writing) checks nbf with no clock tolerance
 * (Azure AD allows minutes of skew). Starting in the first 400 ms of a second avoids the
 * spurious AADSTS700027 until the emulator accepts skew.
 */
async function avoidNbfRounding(): Promise<void> {
  const intoSecond = Date.now() % 1000;
  if (intoSecond > 400) await new Promise((resolve) => setTimeout(resolve, 1010 - intoSecond));
}
