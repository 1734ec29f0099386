/**
 * A FrameBatch the worker refuses whole (oversized, broken structure) loses every frame in it:
 * the worker counts the message once in bridge_batches_refused_total{reason}, the frames its
 * bytes show in bridge_refused_batch_frames_total{reason}, and hands the count on (framesLost).
 */
import { once } from "node:events";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { BridgeClient } from "../../src/bridge/bridge-client.js";
import type { BridgeProtocolError } from "../../src/bridge/bridge-protocol-error.js";
import { encodeEnvelope } from "../../src/bridge/codec.js";
import { FrameBatchWriter } from "../../src/bridge/frame-batch-writer.js";
import { v1 } from "../../src/bridge/protocol.js";
import { type FramePlace, framesInRefusedMessage } from "../../src/bridge/refused-batch.js";
import { MediaPlatformEmulator } from "../../src/emulator/media/media-platform-emulator.js";
import { silentLogger } from "../../src/log/logger.js";

const SOURCE = v1.MediaContext.MEDIA_CONTEXT_AUDIO_SOURCE as number;

function batchOf(frames: number): Uint8Array {
  const writer = new FrameBatchWriter();
  writer.begin(123);
  const pcm = new Uint8Array(640);
  for (let s = 1; s <= frames; s++)
    writer.addFrame(s, SOURCE, 1, 638_999_999_999_800_000, pcm, 0, false, [s]);
  return Uint8Array.from(writer.finish());
}

describe("framesInRefusedMessage", () => {
  it("counts the frames of a whole batch, however large", () => {
    expect(framesInRefusedMessage(batchOf(0))).toBe(0);
    expect(framesInRefusedMessage(batchOf(3))).toBe(3);
    expect(framesInRefusedMessage(batchOf(2000))).toBe(2000);
  });

  it("counts a frame cut off by the end of the message, and a batch whose length runs past the end", () => {
    const whole = batchOf(10);
    // Frames are about 670 bytes: 300 cut into the last, 700 into the last but one.
    expect(framesInRefusedMessage(whole.subarray(0, whole.length - 300))).toBe(10);
    expect(framesInRefusedMessage(whole.subarray(0, whole.length - 700))).toBe(9);
    expect(framesInRefusedMessage(whole.subarray(0, whole.length - 2000))).toBe(7);
    expect(framesInRefusedMessage(whole.subarray(0, 3))).toBe(0);
  });

  it("lists the places its frames' bytes name: whole frames, and a cut frame whose session and sequence arrived", () => {
    const whole = batchOf(10); // frame s: session s, sequence 1
    const places: FramePlace[] = [];
    expect(framesInRefusedMessage(whole.subarray(0, whole.length - 300), places)).toBe(10);
    expect(places).toEqual(Array.from({ length: 10 }, (_, i) => ({ session: i + 1, sequence: 1 })));
    // Cut inside the first frame's session field: no place.
    const none: FramePlace[] = [];
    expect(framesInRefusedMessage(whole.subarray(0, 8), none)).toBe(1);
    expect(none).toEqual([]);
    // A whole frame without a sequence field is sequence 0 (proto3); one cut before it has none.
    const zero = encodeEnvelope({
      frames: { frames: [{ session: 4, context: 1, pcm: new Uint8Array(640) }] },
    });
    const zeroPlaces: FramePlace[] = [];
    framesInRefusedMessage(zero, zeroPlaces);
    framesInRefusedMessage(zero.subarray(0, zero.length - 10), zeroPlaces);
    expect(zeroPlaces).toEqual([{ session: 4, sequence: 0 }]);
  });

  it("is -1 for anything that is not a FrameBatch", () => {
    expect(framesInRefusedMessage(encodeEnvelope({ ping: { id: 1, sentAtUs: 2 } }))).toBe(-1);
    expect(framesInRefusedMessage(Uint8Array.from([(20 << 3) | 7, 0]))).toBe(-1);
    expect(framesInRefusedMessage(new Uint8Array(0))).toBe(-1);
  });
});

const SECRET = "a-bridge-secret-of-some-length";
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function metric(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const found = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const value = found?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return Number(value?.value ?? 0);
}

describe("BridgeClient and a refused FrameBatch", () => {
  it("an oversized batch: counted once as a refused batch, with the frames it carried", async () => {
    const emulator = await MediaPlatformEmulator.start({ secret: SECRET, autoConnectMediaMs: 60_000 });
    cleanups.push(() => emulator.stop());
    const registry = new Registry();
    const client = new BridgeClient({
      url: emulator.url,
      secret: SECRET,
      peer: "test worker",
      logger: silentLogger(),
      registry,
      maxMessageBytes: 64 * 1024,
      pingIntervalMs: 0,
    });
    cleanups.push(() => client.close());
    const opened = once(client, "open");
    client.connect();
    await opened;
    await client.createSession({ callId: "r", direction: "sendRecv", unmixedAudio: false });
    const refused = once(client, "protocolError") as Promise<[BridgeProtocolError]>;
    // The fault writes ceil(bytes / 650) frames of 640 bytes: 200 frames, about 130 KB.
    emulator.injectFault({ kind: "oversized", bytes: 200 * 650 });
    const [error] = await refused;
    expect(error.reason).toBe("oversized");
    expect(error.framesLost).toBe(200);
    expect(await metric(registry, "bridge_batches_refused_total", { reason: "oversized" })).toBe(1);
    expect(await metric(registry, "bridge_refused_batch_frames_total", { reason: "oversized" })).toBe(200);
    expect(await metric(registry, "bridge_protocol_errors_total", { reason: "oversized" })).toBe(1);
    // A refused control message is no batch.
    emulator.injectFault({ kind: "malformed", variant: "truncated" });
    const [truncated] = (await once(client, "protocolError")) as [BridgeProtocolError];
    expect(truncated.reason).toBe("truncated");
    expect(truncated.framesLost).toBe(0);
    expect(await metric(registry, "bridge_batches_refused_total", { reason: "truncated" })).toBe(0);
    expect(client.isOpen).toBe(true);
  });
});
