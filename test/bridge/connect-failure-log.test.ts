/**
 * A media host that cannot be reached or refuses the bridge secret is said at warn, with the
 * URL and the cause, from the first failed dial; at error once it lasts; a few lines, not one
 * per dial; never the secret. It used to be an info line "bridge disconnected" per dial, forever.
 */
import { createServer as createHttpsServer } from "node:https";
import { createServer } from "node:net";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { BridgeClient } from "../../src/bridge/bridge-client.js";
import { ConnectFailureLog } from "../../src/bridge/connect-failure-log.js";
import { createTlsCertificate } from "../../src/emulator/graph/tls-certificate.js";
import { MediaPlatformEmulator } from "../../src/emulator/media/media-platform-emulator.js";
import { createLogger, silentLogger } from "../../src/log/logger.js";
import { waitFor } from "../media/wait-for.js";

const SECRET = "the-bots-bridge-secret-0123456789";

interface Line {
  level: number;
  msg: string;
  url?: string;
  cause?: string;
  code?: string;
  reason?: string;
  notLoggedBefore?: number;
}

function capture(): { lines: Line[]; raw: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: Line[] = [];
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n").filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line));
      }
      done();
    },
  });
  return { lines, raw, logger: createLogger({ level: "info" }, sink) };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function client(url: string, logger: ReturnType<typeof createLogger>): BridgeClient {
  const bridge = new BridgeClient({
    url,
    secret: SECRET,
    peer: "test worker",
    logger,
    pingIntervalMs: 0,
    // Dials every 10-30 ms: dozens of failures in the test's time.
    reconnect: { initialDelayMs: 10, maxDelayMs: 20 },
  });
  cleanups.push(() => bridge.close());
  return bridge;
}

const WARN = 40;
const ERROR = 50;

describe("bridge connect failures in the log", () => {
  it("host unreachable: warn with the URL and ECONNREFUSED at the first dial, then held back, never at info", async () => {
    const url = `ws://127.0.0.1:${await closedPort()}/bridge`;
    const { lines, raw, logger } = capture();
    const bridge = client(url, logger);
    let failures = 0;
    bridge.on("disconnected", () => failures++);
    bridge.connect();
    await waitFor(() => failures >= 20, 10_000);
    const failed = lines.filter((l) => l.msg === "cannot reach the media host");
    expect(failed[0]).toMatchObject({ level: WARN, url, cause: "unreachable", code: "ECONNREFUSED" });
    expect(failed[0]?.reason).toContain("ECONNREFUSED");
    // 20+ failed dials, one line (the next one after 10 s would say how many were held back).
    expect(failed.length).toBe(1);
    expect(lines.filter((l) => l.msg === "bridge disconnected")).toEqual([]);
    expect(bridge.lastFailure).toMatchObject({ cause: "unreachable", code: "ECONNREFUSED" });
    for (const line of raw) expect(line).not.toContain(SECRET);
  });

  it("secret refused (HTTP 401 from the media emulator): warn naming the refusal and BOT_BRIDGE_SECRET, not the secret", async () => {
    const host = await MediaPlatformEmulator.start({
      secret: "the-hosts-own-secret-0123456789",
      port: 0,
      fqdn: "media.test.local",
      publicPort: 8445,
      logger: silentLogger(),
    });
    cleanups.push(() => host.stop());
    const { lines, raw, logger } = capture();
    const bridge = client(host.url, logger);
    let failures = 0;
    bridge.on("disconnected", () => failures++);
    bridge.connect();
    await waitFor(() => failures >= 10, 10_000);
    const refused = lines.filter((l) => l.msg === "the media host refused the bridge secret");
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ level: WARN, url: host.url, cause: "auth_refused", code: "HTTP 401" });
    expect(refused[0]?.reason).toContain("BOT_BRIDGE_SECRET");
    for (const line of raw) expect(line).not.toContain(SECRET);
  });

  it("wss:// host with a certificate the worker does not trust: warn 'TLS handshake ... failed' with Node's code", async () => {
    const certificate = await createTlsCertificate();
    const server = createHttpsServer({ cert: certificate.certPem, key: certificate.keyPem });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve(undefined))));
    const url = `wss://127.0.0.1:${(server.address() as { port: number }).port}/bridge`;
    const { lines, logger } = capture();
    const bridge = client(url, logger);
    let failures = 0;
    bridge.on("disconnected", () => failures++);
    bridge.connect();
    await waitFor(() => failures >= 3, 10_000);
    const tls = lines.filter((l) => l.msg === "TLS handshake with the media host failed");
    expect(tls).toHaveLength(1);
    expect(tls[0]).toMatchObject({ level: WARN, url, cause: "tls" });
    expect(tls[0]?.code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY/);
  });

  it("after 30 s of continuous failure the lines turn to error; rate-limited per cause; a success ends the run", () => {
    const { lines, logger } = capture();
    let now = 0;
    const log = new ConnectFailureLog(logger, () => now);
    const refused = { cause: "unreachable" as const, code: "ECONNREFUSED", detail: "connect ECONNREFUSED" };
    for (; now < 60_000; now += 500) log.failed(refused, now / 500 + 1, 500);
    const levels = lines.map((l) => [l.level, l.notLoggedBefore]);
    // warn at 0 s, 10 s, 20 s; error from 30 s on, every 10 s; each says how many it held back.
    expect(levels).toEqual([
      [WARN, 0],
      [WARN, 19],
      [WARN, 19],
      [ERROR, 0],
      [ERROR, 19],
      [ERROR, 19],
    ]);
    // Opened at 60 s: the run lasted from the first failure (0 s) to then.
    expect(log.opened()).toEqual({ failures: 120, failedForMs: 60_000 });
    lines.length = 0;
    // A new run after a success starts at warn again.
    log.failed(refused, 1, 500);
    expect(lines.map((l) => l.level)).toEqual([WARN]);
  });
});
