import { once } from "node:events";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { BridgeClient, BridgeRequestError } from "../../src/bridge/bridge-client.js";
import type { BridgeClientOptions } from "../../src/bridge/bridge-client-types.js";
import type { BridgeProtocolError } from "../../src/bridge/bridge-protocol-error.js";
import { decodeEnvelope, encodeEnvelope } from "../../src/bridge/codec.js";
import type { pb } from "../../src/bridge/protocol.js";
import { MediaPlatformEmulator } from "../../src/emulator/media/media-platform-emulator.js";
import { silentLogger } from "../../src/log/logger.js";

const SECRET = "a-bridge-secret-of-some-length";
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(
  emulatorOptions: Partial<Parameters<typeof MediaPlatformEmulator.start>[0]> = {},
  clientOptions: Partial<ConstructorParameters<typeof BridgeClient>[0]> = {},
) {
  const emulator = await MediaPlatformEmulator.start({
    secret: SECRET,
    fqdn: "media.test.local",
    publicPort: 9445,
    ...emulatorOptions,
  });
  cleanups.push(() => emulator.stop());
  const registry = new Registry();
  const client = new BridgeClient({
    url: emulator.url,
    secret: SECRET,
    peer: "test worker",
    logger: silentLogger(),
    registry,
    reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
    requestTimeoutMs: 2000,
    ...clientOptions,
  });
  cleanups.push(() => client.close());
  return { emulator, client, registry };
}

async function metric(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const found = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const value = found?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return Number(value?.value ?? 0);
}

async function openClient(client: BridgeClient) {
  const opened = once(client, "open");
  client.connect();
  return (await opened)[0];
}

describe("BridgeClient against the media platform emulator", () => {
  it("is refused at upgrade with a wrong secret and keeps retrying without opening", async () => {
    const { emulator, client } = await setup({}, { secret: "not-the-secret-at-all-nope" });
    const disconnected = once(client, "disconnected");
    client.connect();
    const [info] = await disconnected;
    expect(info.reason).toMatch(/401/);
    expect(client.isOpen).toBe(false);
    expect(emulator.stats().upgradesRefused).toBeGreaterThanOrEqual(1);
    await expect(
      client.createSession({ callId: "c", direction: "sendRecv", unmixedAudio: false }),
    ).rejects.toThrow(/NOT_OPEN/);
  });

  it("handshakes, creates a session and closes it", async () => {
    const { client, registry } = await setup({ maxSessions: 10 });
    const info = await openClient(client);
    expect(info.protocolVersion).toBe(1);
    expect(info.health).toBe("normal");
    expect(info.maxSessions).toBe(10);
    expect(info.capabilities).toContain("playout-marks");
    expect(client.isOpen).toBe(true);
    expect(client.health).toBe("normal");
    expect(await metric(registry, "bridge_connection_state", { state: "open" })).toBe(1);

    const status = once(client, "sendStatus");
    const created = await client.createSession({
      callId: "call-42",
      direction: "sendRecv",
      unmixedAudio: true,
    });
    expect(created.session).toBeGreaterThan(0);
    expect(created.callId).toBe("call-42");
    expect(created.mediaSessionId).toMatch(GUID);
    expect(created.audioRenderContextId).toMatch(GUID);
    expect(created.audioSourceContextId).toMatch(GUID);
    expect(created.mpUri).toBe("net.tcp://media.test.local:9445/MediaProcessor");
    expect(created.skypeMediaBotsVersion).not.toBe("");
    expect((await status)[0]).toEqual({ session: created.session, active: false });

    const closed = once(client, "sessionClosed");
    await client.closeSession(created.session, "test over");
    expect((await closed)[0]).toMatchObject({ session: created.session, callId: "call-42", requested: true });
    // Idempotent: closing again is not an error.
    await client.closeSession(created.session, "again");
  });

  it("rejects createSession with the host's error code", async () => {
    const { client } = await setup({ maxSessions: 1 });
    await openClient(client);
    const id = "0f8fad5b-d9cb-469f-a165-70867728950e";
    await client.createSession({
      callId: "a",
      mediaSessionId: id,
      direction: "sendRecv",
      unmixedAudio: false,
    });
    const error = await client
      .createSession({ callId: "b", direction: "sendRecv", unmixedAudio: false })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BridgeRequestError);
    expect((error as BridgeRequestError).code).toBe("SESSION_LIMIT");
  });

  it("reconnects with backoff after the host drops the connection", async () => {
    const { emulator, client, registry } = await setup();
    await openClient(client);
    const disconnected = once(client, "disconnected");
    const reopened = new Promise((resolve) => client.once("open", resolve));
    emulator.injectFault({ kind: "disconnect" });
    expect((await disconnected)[0].reason).toBeTruthy();
    expect(client.isOpen).toBe(false);
    await reopened;
    expect(client.isOpen).toBe(true);
    expect(await metric(registry, "bridge_reconnects_total")).toBeGreaterThanOrEqual(1);
  });

  it("drops frame batches it cannot send and counts why", async () => {
    const { client, registry } = await setup(
      { maxMessageBytes: 64 * 1024 * 1024 },
      { maxBufferedBytes: 2 * 1024 * 1024, pingIntervalMs: 0 },
    );
    expect(client.sendFrameBatch(new Uint8Array(10))).toBe(false);
    expect(await metric(registry, "bridge_send_drops_total", { reason: "not_open" })).toBe(1);
    await openClient(client);
    const big = new Uint8Array(1024 * 1024);
    let sent = 0;
    let dropped = 0;
    for (let i = 0; i < 40; i++) {
      if (client.sendFrameBatch(big)) sent++;
      else dropped++;
    }
    expect(sent).toBeGreaterThan(0);
    expect(dropped).toBeGreaterThan(0);
    expect(await metric(registry, "bridge_send_drops_total", { reason: "backpressure" })).toBe(dropped);
    expect(await metric(registry, "bridge_messages_sent_total", { body: "frames" })).toBe(sent);
  });

  it("measures the round trip with ping", async () => {
    const { client, registry } = await setup();
    await openClient(client);
    const rtt = await client.ping();
    expect(rtt).toBeGreaterThan(0);
    expect(rtt).toBeLessThan(1000);
    const histogram = (await registry.getMetricsAsJSON()).find((m) => m.name === "bridge_round_trip_seconds");
    const count = histogram?.values.find(
      (v) => (v as { metricName?: string }).metricName === "bridge_round_trip_seconds_count",
    );
    expect(count?.value).toBeGreaterThanOrEqual(1);
  });

  it("counts malformed and oversized host messages and stays connected for the other sessions", async () => {
    const { emulator, client, registry } = await setup(
      { autoConnectMediaMs: 0 },
      { maxMessageBytes: 64 * 1024 },
    );
    await openClient(client);
    const created = await client.createSession({ callId: "m", direction: "sendRecv", unmixedAudio: false });
    const reasons: string[] = [];
    client.on("protocolError", (error: BridgeProtocolError) => reasons.push(error.reason));
    for (const variant of ["truncated", "bad_wire_type", "missing_body", "bad_frame", "text"] as const) {
      emulator.injectFault({ kind: "malformed", variant });
    }
    emulator.injectFault({ kind: "oversized" });
    // Frames of the session keep arriving after all that.
    let frames = 0;
    await new Promise<void>((resolve) => {
      client.on("frames", (reader) => {
        while (reader.next()) if (reader.session === created.session) frames++;
        if (frames >= 5 && reasons.length >= 6) resolve();
      });
    });
    expect(reasons.sort()).toEqual(
      ["bad_pcm_length", "bad_wire_type", "missing_body", "not_binary", "oversized", "truncated"].sort(),
    );
    expect(client.isOpen).toBe(true);
    expect(await metric(registry, "bridge_protocol_errors_total", { reason: "oversized" })).toBe(1);
  });

  it("close() ends for good: no reconnect, pending requests fail", async () => {
    const { emulator, client, registry } = await setup();
    await openClient(client);
    const closed = once(client, "close");
    await client.close();
    await closed;
    expect(client.isOpen).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(emulator.stats().connections).toBe(0);
    expect(await metric(registry, "bridge_connection_state", { state: "closed" })).toBe(1);
  });

  it("refuses a host that speaks another major version", async () => {
    const received: string[] = [];
    const url = await scriptedHost((envelope, reply) => {
      received.push(envelope.body ?? "?");
      if (envelope.body === "hello") reply({ helloAck: { protocolVersion: 2, peer: "future" } });
    });
    const client = scriptedClient(url, { reconnect: { initialDelayMs: 1000, maxDelayMs: 1000 } });
    const errors: string[] = [];
    client.on("protocolError", (e) => errors.push(e.reason));
    const disconnected = once(client, "disconnected");
    client.connect();
    expect((await disconnected)[0].reason).toMatch(/1002/);
    expect(errors).toContain("version_mismatch");
    expect(received).toEqual(["hello", "error"]);
    expect(client.isOpen).toBe(false);
  });

  it("ignores a send status value it does not know (versioning rule 4) instead of pausing the call", async () => {
    const url = await scriptedHost((envelope, reply) => {
      if (envelope.body !== "hello") return;
      reply({ helloAck: { protocolVersion: 1, peer: "newer host" } });
      // A status value from a newer protocol revision, then plain ACTIVE.
      reply({ sendStatus: { session: 1, status: 7 as never } });
      reply({ sendStatus: { session: 1, status: 1 } });
    });
    const client = scriptedClient(url);
    const statuses: boolean[] = [];
    client.on("sendStatus", ({ active }) => statuses.push(active));
    const active = once(client, "sendStatus");
    client.connect();
    await active;
    expect(statuses).toEqual([true]);
  });

  it("closes the session a host created for a CreateSession that had already timed out", async () => {
    // A slow host: SessionCreated 300 ms after the request, the client gives up after 100.
    const closed: number[] = [];
    const url = await scriptedHost((envelope, reply) => {
      const requestId = envelope.requestId;
      if (envelope.body === "hello") reply({ helloAck: { protocolVersion: 1, peer: "slow host" } });
      if (envelope.body === "createSession") {
        const callId = envelope.createSession?.callId;
        setTimeout(
          () => reply({ requestId, sessionCreated: { session: 5, callId, mediaSessionId: "m" } }),
          300,
        );
      }
      if (envelope.body === "closeSession") {
        const session = envelope.closeSession?.session ?? 0;
        closed.push(session);
        reply({ requestId, sessionClosed: { session, reason: "closed" } });
      }
    });
    const registry = new Registry();
    const client = scriptedClient(url, { registry, requestTimeoutMs: 100 });
    const opened = once(client, "open");
    client.connect();
    await opened;
    const error = await client
      .createSession({ callId: "late", direction: "sendRecv", unmixedAudio: false })
      .catch((e: BridgeRequestError) => e);
    expect((error as BridgeRequestError).code).toBe("TIMEOUT");
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(closed).toEqual([5]);
    expect(await metric(registry, "bridge_protocol_errors_total", { reason: "late_answer" })).toBe(1);
  });
});

/** A host that answers each envelope from the client as `script` says (loopback, closed after the test). */
async function scriptedHost(
  script: (envelope: ReturnType<typeof decodeEnvelope>, reply: (envelope: pb.IEnvelope) => void) => void,
): Promise<string> {
  const server = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await once(server, "listening");
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  server.on("connection", (socket) => {
    const reply = (envelope: pb.IEnvelope) => socket.send(encodeEnvelope(envelope));
    socket.on("message", (data) => script(decodeEnvelope(data as Buffer), reply));
  });
  return `ws://127.0.0.1:${(server.address() as { port: number }).port}/bridge`;
}

/** A client of a scripted host (closed after the test). */
function scriptedClient(url: string, options: Partial<BridgeClientOptions> = {}): BridgeClient {
  const client = new BridgeClient({
    url,
    secret: SECRET,
    peer: "w",
    logger: silentLogger(),
    registry: new Registry(),
    pingIntervalMs: 0,
    ...options,
  });
  cleanups.push(() => client.close());
  return client;
}
