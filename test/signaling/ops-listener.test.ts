import { networkInterfaces } from "node:os";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { silentLogger } from "../../src/log/logger.js";
import { SignalingService } from "../../src/signaling/signaling-service.js";
import { FakeGraph, FakeVerifier, RecordingMediaProvider } from "./helpers/fakes.js";
import { rawRequest } from "./helpers/service-harness.js";

let service: SignalingService | undefined;
afterEach(async () => {
  await service?.shutdown({ timeoutMs: 200 });
  service = undefined;
});

/** A bot configured as an operator would, from BOT_* variables, with ports the OS picks. */
async function startFromEnv(env: Record<string, string> = {}): Promise<SignalingService> {
  const config = loadConfig({
    BOT_APP_ID: "2891555a-92ff-42e6-80fa-6e1300c6b5c6",
    BOT_APP_SECRET: "s3cret",
    BOT_TENANT_ID: "72f988bf-86f1-41af-91ab-2d7cd011db47",
    BOT_PUBLIC_URL: "https://bot.contoso.com",
    BOT_MEDIA_FQDN: "media.contoso.com",
    BOT_BRIDGE_SECRET: "0123456789abcdef0123",
    BOT_PORT: "0",
    BOT_OPS_PORT: "0",
    BOT_LOG_LEVEL: "silent",
    ...env,
  });
  service = await SignalingService.start({
    config,
    graph: new FakeGraph(),
    media: new RecordingMediaProvider(),
    logger: silentLogger(),
    registry: new Registry(),
    authenticator: new FakeVerifier(),
  });
  return service;
}

/** An address of this machine other than loopback, if it has one. */
function externalIPv4(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((entry) => entry && !entry.internal && entry.family === "IPv4")?.address;
}

describe("the operational listener", () => {
  it("serves /metrics and /healthz, which the public listener answers 404", async () => {
    const bot = await startFromEnv({ BOT_HOST: "127.0.0.1" });
    expect(bot.opsPort).not.toBe(bot.port);
    for (const path of ["/metrics", "/healthz"]) {
      const onPublic = await rawRequest(`${bot.url}${path}`);
      expect({ path, status: onPublic.status }).toEqual({ path, status: 404 });
      expect(JSON.parse(onPublic.body)).toEqual({
        error: { code: "not_found", message: "no such endpoint" },
      });
      const onOps = await rawRequest(`${bot.opsUrl}${path}`);
      expect({ path, status: onOps.status }).toEqual({ path, status: 200 });
    }
    expect((await rawRequest(`${bot.opsUrl}/metrics`)).body).toContain("signaling_calls");
    expect(JSON.parse((await rawRequest(`${bot.opsUrl}/healthz`)).body)).toMatchObject({ status: "ok" });
    // Notifications are the public listener's only: the ops listener does not take them.
    const notification = await rawRequest(`${bot.opsUrl}/api/calls`, {
      method: "POST",
      headers: { authorization: "Bearer ok", "content-type": "application/json" },
      body: JSON.stringify({ value: [] }),
    });
    expect(notification.status).toBe(404);
    const onPublic = await rawRequest(`${bot.url}/api/calls`, {
      method: "POST",
      headers: { authorization: "Bearer ok", "content-type": "application/json" },
      body: JSON.stringify({ value: [] }),
    });
    expect(onPublic.status).toBe(202);
  });

  it("binds 127.0.0.1 by default, while the public listener binds every address", async () => {
    const bot = await startFromEnv();
    expect(bot.opsAddress.address).toBe("127.0.0.1");
    expect(bot.opsUrl).toBe(`http://127.0.0.1:${bot.opsPort}`);
    const external = externalIPv4();
    if (external === undefined) return;
    // From another interface the public listener answers and the ops listener is not there.
    expect((await rawRequest(`http://${external}:${bot.port}/healthz`)).status).toBe(404);
    await expect(rawRequest(`http://${external}:${bot.opsPort}/healthz`)).rejects.toThrow(/ECONNREFUSED/);
  });

  it("binds the address BOT_OPS_HOST names", async () => {
    const bot = await startFromEnv({ BOT_HOST: "127.0.0.1", BOT_OPS_HOST: "0.0.0.0" });
    expect(bot.opsAddress.address).toBe("0.0.0.0");
    expect((await rawRequest(`${bot.opsUrl}/healthz`)).status).toBe(200);
  });

  it("fails to start with the listen error when the ops port is taken", async () => {
    const first = await startFromEnv({ BOT_HOST: "127.0.0.1" });
    await expect(
      startFromEnv({ BOT_HOST: "127.0.0.1", BOT_OPS_PORT: String(first.opsPort) }),
    ).rejects.toThrow(/EADDRINUSE/);
    service = first;
  });
});
