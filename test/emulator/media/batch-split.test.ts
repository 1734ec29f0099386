/**
 * The emulator keeps to the protocol's FrameBatch size limit: a tick's source frames for many
 * sessions go out in several messages, each at most maxFrameBatchBytes, and none is lost.
 */
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { EnvelopeDecoder, encodeEnvelope } from "../../../src/bridge/codec.js";
import { MAX_FRAME_BATCH_BYTES, PROTOCOL_VERSION, v1 } from "../../../src/bridge/protocol.js";
import { MediaPlatformEmulator } from "../../../src/emulator/media/media-platform-emulator.js";

const SECRET = "emulator-split-secret-0123456789";
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("media platform emulator: FrameBatch size limit", () => {
  it("defaults to the protocol's 256 KiB", async () => {
    const emulator = await MediaPlatformEmulator.start({ secret: SECRET });
    cleanups.push(() => emulator.stop());
    expect(emulator.maxFrameBatchBytes).toBe(MAX_FRAME_BATCH_BYTES);
  });

  it("splits each tick of 30 sessions into messages under an 8 KiB limit, every frame delivered once", async () => {
    const limit = 8 * 1024;
    const sessions = 30;
    const emulator = await MediaPlatformEmulator.start({
      secret: SECRET,
      maxFrameBatchBytes: limit,
      autoConnectMediaMs: 0,
    });
    cleanups.push(() => emulator.stop());
    // A raw socket, to see each message's size as it came.
    const socket = new WebSocket(emulator.url, { headers: { Authorization: `Bearer ${SECRET}` } });
    cleanups.push(() => socket.terminate());
    const decoder = new EnvelopeDecoder();
    const sizes: number[] = [];
    const sentAtCounts = new Map<number, number>();
    const sequences = new Map<number, number[]>();
    let created = 0;
    const done = new Promise<void>((resolve, reject) => {
      socket.on("message", (data: Buffer) => {
        const kind = decoder.decode(data);
        if (kind === "message" && decoder.body === "helloAck") {
          for (let i = 0; i < sessions; i++) {
            socket.send(
              encodeEnvelope({
                requestId: i + 1,
                createSession: {
                  callId: `split-${i}`,
                  direction: v1.AudioDirection.AUDIO_DIRECTION_SEND_RECV,
                  format: v1.AudioFormat.AUDIO_FORMAT_PCM_16K,
                },
              }),
            );
          }
        } else if (kind === "message" && decoder.body === "sessionCreated") {
          created++;
        } else if (kind === "frames") {
          if (created < sessions) return; // ticks while sessions were still being created
          sizes.push(data.length);
          const reader = decoder.frames;
          sentAtCounts.set(reader.sentAtUs, (sentAtCounts.get(reader.sentAtUs) ?? 0) + reader.frameCount);
          while (reader.next()) {
            const list = sequences.get(reader.session) ?? [];
            list.push(reader.sequence);
            sequences.set(reader.session, list);
          }
          if (sizes.length >= 30) resolve();
        } else if (kind === "error") reject(decoder.error);
      });
    });
    socket.on("open", () =>
      socket.send(
        encodeEnvelope({ requestId: 99, hello: { protocolVersion: PROTOCOL_VERSION, peer: "raw test" } }),
      ),
    );
    await done;
    for (const size of sizes) expect(size).toBeLessThanOrEqual(limit);
    // 30 frames of ~660 bytes do not fit one 8 KiB message: each tick takes three.
    const perTick = [...sentAtCounts.values()];
    expect(perTick.filter((frames) => frames === sessions).length).toBeGreaterThanOrEqual(5);
    expect(sizes.length).toBeGreaterThan(perTick.length * 2);
    // No frame lost or repeated: each session's sequence numbers go up by one.
    expect(sequences.size).toBe(sessions);
    for (const list of sequences.values()) {
      for (let i = 1; i < list.length; i++) expect(list[i]).toBe((list[i - 1] as number) + 1);
    }
    expect(emulator.stats().batchesDropped).toBe(0);
  });
});
