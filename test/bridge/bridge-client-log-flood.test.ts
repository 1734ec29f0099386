/**
 * A hostile host's flood of bad messages costs a bounded number of log lines (one per reason
 * per interval, with the count held back), while the metrics count every message.
 */
import { once } from "node:events";
import { Writable } from "node:stream";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { BridgeClient } from "../../src/bridge/bridge-client.js";
import { decodeEnvelope, encodeEnvelope } from "../../src/bridge/codec.js";
import { createLogger } from "../../src/log/logger.js";
import { startEngine } from "../media/engine-fixture.js";
import { waitFor } from "../media/wait-for.js";

const SECRET = "log-flood-secret-0123456789";
const EACH = 800;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A host that answers Hello, then sends EACH bad messages of five kinds. */
async function floodingHost(): Promise<string> {
  const server = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await once(server, "listening");
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  server.on("connection", (socket) => {
    socket.on("message", (data) => {
      if (decodeEnvelope(data as Buffer).body !== "hello") return;
      socket.send(encodeEnvelope({ helloAck: { protocolVersion: 1, peer: "hostile host" } }));
      const truncated = encodeEnvelope({ dominantSpeaker: { session: 1, speakerId: 7 } }).subarray(0, 3);
      const badFrame = encodeEnvelope({
        frames: { frames: [{ session: 1, context: 1, sequence: 1, pcm: new Uint8Array(10) }] },
      });
      const unsolicitedError = encodeEnvelope({ error: { code: 5, message: "bad frame", session: 1 } });
      const strayAnswer = encodeEnvelope({ requestId: 99, sessionCreated: { session: 1, callId: "x" } });
      for (let i = 0; i < EACH; i++) {
        socket.send("not protobuf");
        socket.send(truncated);
        socket.send(badFrame);
        socket.send(unsolicitedError);
        socket.send(strayAnswer);
      }
    });
  });
  return `ws://127.0.0.1:${(server.address() as { port: number }).port}/bridge`;
}

describe("bridge client logging under a flood of bad host input", () => {
  it("logs a few lines per reason, not one per message, and counts every message", async () => {
    const lines: { level: number; msg: string; reason?: string; code?: string }[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const registry = new Registry();
    const client = new BridgeClient({
      url: await floodingHost(),
      secret: SECRET,
      peer: "w",
      logger: createLogger({ level: "info" }, sink),
      registry,
      pingIntervalMs: 0,
    });
    cleanups.push(() => client.close());
    const hostErrors: string[] = [];
    client.on("hostError", ({ code }) => hostErrors.push(code));
    client.connect();
    const count = async (reason: string) => {
      const metric = (await registry.getMetricsAsJSON()).find(
        (m) => m.name === "bridge_protocol_errors_total",
      );
      return Number(metric?.values.find((v) => v.labels.reason === reason)?.value ?? 0);
    };
    await waitFor(
      async () => (await count("invalid_message")) === EACH && hostErrors.length === EACH,
      10_000,
    );
    expect(await count("not_binary")).toBe(EACH);
    expect(await count("truncated")).toBe(EACH);
    expect(await count("bad_pcm_length")).toBe(EACH);
    const warnings = lines.filter((line) => line.level >= 40);
    // One line per reason (not_binary, truncated, bad_pcm_length, invalid_message, the host's
    // BAD_FRAME Error) within the interval: 5 lines for 4,000 bad messages.
    expect(warnings.length).toBeLessThanOrEqual(5);
    expect(new Set(warnings.map((line) => line.reason ?? line.code)).size).toBe(warnings.length);
  });

  it("the media engine logs the host's unsolicited Errors a few lines per code too", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split("\n").filter(Boolean));
        done();
      },
    });
    const { bridge, engine } = startEngine({}, { log: createLogger({ level: "info" }, sink) });
    for (let i = 0; i < 2000; i++) {
      bridge.emit("hostError", { code: "BAD_FRAME", message: "bad frame", session: 1 });
      bridge.emit("hostError", { code: "UNKNOWN_SESSION", message: "no session 9", session: 9 });
    }
    await engine.shutdown();
    expect(lines.filter((line) => line.includes('"media host error"'))).toHaveLength(2);
  });
});
