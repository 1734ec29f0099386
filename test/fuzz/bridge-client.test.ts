/**
 * Fuzzing the bridge client's handling of what the host sends, over a real WebSocket on
 * loopback: a scripted host completes the handshake, keeps one CreateSession unanswered, then
 * sends random bytes, protobuf-shaped bytes, mutated golden vectors and text frames, each
 * followed by a Ping whose Pong proves the client handled it. A message the client refuses
 * (protocolError) changes nothing: no other event, the connection stays open with the same
 * host info and health, and the pending request stays pending until its real answer comes.
 */
import { once } from "node:events";
import fc from "fast-check";
import { Registry } from "prom-client";
import { afterAll, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { BridgeClient } from "../../src/bridge/bridge-client.js";
import type { BridgeProtocolError } from "../../src/bridge/bridge-protocol-error.js";
import { decodeEnvelope, encodeEnvelope } from "../../src/bridge/codec.js";
import { longToNumber, v1 } from "../../src/bridge/protocol.js";
import { silentLogger } from "../../src/log/logger.js";
import { fuzzAsync, mutatedBytes, timeoutFor } from "./fuzz-runner.js";
import { goldenEnvelopes } from "./golden-envelopes.js";
import { protobufBytes } from "./protobuf-arbitraries.js";

const SECRET = "a-bridge-secret-for-fuzzing";
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A host that answers Hello, records CreateSession, and reports every Pong it gets. */
async function scriptedHost() {
  const server = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await once(server, "listening");
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const host = {
    socket: null as WebSocket | null,
    createRequestId: 0,
    pongs: new Map<number, () => void>(),
    url: `ws://127.0.0.1:${(server.address() as { port: number }).port}/bridge`,
  };
  server.on("connection", (socket) => {
    host.socket = socket;
    socket.on("message", (data) => {
      const envelope = decodeEnvelope(data as Buffer);
      const requestId = longToNumber(envelope.requestId);
      if (envelope.hello) {
        socket.send(
          encodeEnvelope({
            requestId,
            helloAck: {
              protocolVersion: 1,
              peer: "fuzz host",
              capabilities: ["playout-marks"],
              health: v1.PlatformHealth.PLATFORM_HEALTH_NORMAL,
              maxSessions: 10,
            },
          }),
        );
      } else if (envelope.createSession) host.createRequestId = requestId;
      else if (envelope.pong) host.pongs.get(longToNumber(envelope.pong.id))?.();
    });
  });
  return host;
}

const golden = goldenEnvelopes();
const hostMessage = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ bytes, text: false })),
  protobufBytes().map((bytes) => ({ bytes, text: false })),
  mutatedBytes(golden.map((vector) => vector.bytes)).map((bytes) => ({ bytes, text: false })),
  fc.constantFrom(...golden).map((vector) => ({ bytes: vector.bytes, text: false })),
  fc.string({ maxLength: 20 }).map((text) => ({ bytes: Buffer.from(text), text: true })),
);

describe("fuzz: bridge client receiving hostile host messages", () => {
  it(
    "a refused message changes no client state; the connection stays open; nothing throws",
    async () => {
      const host = await scriptedHost();
      const client = new BridgeClient({
        url: host.url,
        secret: SECRET,
        peer: "fuzz worker",
        logger: silentLogger(),
        registry: new Registry(),
        pingIntervalMs: 0,
        requestTimeoutMs: 10 * 60_000,
      });
      cleanups.push(() => client.close());
      const opened = once(client, "open");
      client.connect();
      await opened;

      const events: string[] = [];
      for (const name of [
        "frames",
        "sendStatus",
        "dominantSpeaker",
        "tone",
        "markPlayed",
        "health",
        "sessionClosed",
        "hostError",
        "disconnected",
        "open",
      ] as const)
        client.on(name, () => events.push(name));
      const refusals: BridgeProtocolError[] = [];
      client.on("protocolError", (error) => refusals.push(error));

      let settled = false;
      const created = client.createSession({
        callId: "fuzz-call",
        direction: "sendRecv",
        unmixedAudio: false,
      });
      created.then(
        () => {
          settled = true;
        },
        () => {
          settled = true;
        },
      );
      while (host.createRequestId === 0) await new Promise((resolve) => setTimeout(resolve, 5));

      let pingId = 1_000_000;
      await fuzzAsync("bridge client host messages", 400, hostMessage, async (message) => {
        const before = {
          open: client.isOpen,
          health: client.health,
          hostInfo: JSON.stringify(client.hostInfo),
          settled,
        };
        const eventsBefore = events.length;
        const refusalsBefore = refusals.length;
        const socket = host.socket as WebSocket;
        socket.send(message.bytes, { binary: !message.text });
        // The Pong to this Ping comes after the client handled the message above.
        const id = pingId++;
        const ponged = new Promise<void>((resolve) => host.pongs.set(id, resolve));
        socket.send(encodeEnvelope({ ping: { id, sentAtUs: 1 } }));
        await ponged;
        host.pongs.delete(id);
        expect(client.isOpen).toBe(true);
        if (refusals.length > refusalsBefore) {
          for (const refusal of refusals.slice(refusalsBefore))
            expect(refusal.message.length).toBeGreaterThan(25);
          expect(events.slice(eventsBefore)).toEqual([]);
          expect({
            open: client.isOpen,
            health: client.health,
            hostInfo: JSON.stringify(client.hostInfo),
            settled,
          }).toEqual(before);
        }
      });
      expect(events).not.toContain("disconnected");
      if (!settled) {
        // The request nothing answered is still waiting: its real answer resolves it.
        (host.socket as WebSocket).send(
          encodeEnvelope({
            requestId: host.createRequestId,
            sessionCreated: { session: 9, callId: "fuzz-call", mediaSessionId: "m" },
          }),
        );
        expect(await created).toMatchObject({ session: 9, callId: "fuzz-call" });
      }
    },
    timeoutFor(400, 25_000),
  );
});
