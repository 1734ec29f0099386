/**
 * SessionClosed and its request_id (found by fuzzing the client's host messages): one whose
 * request_id names a pending request of another kind is refused whole (counted, no event, the
 * request still pending); one answering a CloseSession that timed out still ends the session.
 */
import { once } from "node:events";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { BridgeClient } from "../../src/bridge/bridge-client.js";
import { decodeEnvelope, encodeEnvelope } from "../../src/bridge/codec.js";
import { longToNumber, type pb, v1 } from "../../src/bridge/protocol.js";
import { silentLogger } from "../../src/log/logger.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A host that answers Hello and hands every other message to the test. */
async function connect(requestTimeoutMs: number) {
  const server = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await once(server, "listening");
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const received: { envelope: pb.Envelope; socket: WebSocket }[] = [];
  server.on("connection", (socket) => {
    socket.on("message", (data) => {
      const envelope = decodeEnvelope(data as Buffer);
      if (envelope.hello) {
        socket.send(
          encodeEnvelope({
            requestId: envelope.requestId,
            helloAck: { protocolVersion: 1, peer: "h", health: v1.PlatformHealth.PLATFORM_HEALTH_NORMAL },
          }),
        );
      } else received.push({ envelope, socket });
    });
  });
  const registry = new Registry();
  const client = new BridgeClient({
    url: `ws://127.0.0.1:${(server.address() as { port: number }).port}/bridge`,
    secret: "a-bridge-secret-of-some-length",
    peer: "w",
    logger: silentLogger(),
    registry,
    pingIntervalMs: 0,
    requestTimeoutMs,
  });
  cleanups.push(() => client.close());
  const opened = once(client, "open");
  client.connect();
  await opened;
  const next = async (): Promise<{ envelope: pb.Envelope; socket: WebSocket }> => {
    while (received.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    return received.shift() as { envelope: pb.Envelope; socket: WebSocket };
  };
  const errors = async (reason: string) => {
    const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === "bridge_protocol_errors_total");
    return Number(metric?.values.find((v) => v.labels.reason === reason)?.value ?? 0);
  };
  return { client, next, errors };
}

describe("SessionClosed request ids", () => {
  it("one naming a pending CreateSession is refused whole: no sessionClosed event, the create still pending", async () => {
    const { client, next, errors } = await connect(60_000);
    const closedEvents: unknown[] = [];
    client.on("sessionClosed", (event) => closedEvents.push(event));
    const refused = once(client, "protocolError");
    const created = client.createSession({ callId: "c", direction: "sendRecv", unmixedAudio: false });
    const { envelope, socket } = await next();
    const requestId = longToNumber(envelope.requestId);
    socket.send(encodeEnvelope({ requestId, sessionClosed: { session: 1, callId: "c", reason: "x" } }));
    await refused;
    expect(closedEvents).toEqual([]);
    expect(await errors("invalid_message")).toBe(1);
    // The real answer still reaches the request.
    socket.send(encodeEnvelope({ requestId, sessionCreated: { session: 1, callId: "c" } }));
    expect(await created).toMatchObject({ session: 1, callId: "c" });
  });

  it("one answering a CloseSession that timed out ends the session, counted as a late answer", async () => {
    const { client, next, errors } = await connect(50);
    const refusals: unknown[] = [];
    client.on("protocolError", (error) => refusals.push(error));
    await expect(client.closeSession(4, "done")).rejects.toThrow(/TIMEOUT/);
    const { envelope, socket } = await next();
    const closed = once(client, "sessionClosed");
    socket.send(
      encodeEnvelope({
        requestId: envelope.requestId,
        sessionClosed: { session: 4, callId: "c", reason: "done" },
      }),
    );
    expect((await closed)[0]).toEqual({ session: 4, callId: "c", reason: "done", requested: false });
    expect(refusals).toEqual([]);
    expect(await errors("late_answer")).toBe(1);
  });
});
