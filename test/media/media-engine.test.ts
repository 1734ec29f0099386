import { describe, expect, it } from "vitest";
import { BridgeProtocolError } from "../../src/bridge/bridge-protocol-error.js";
import { EnvelopeDecoder } from "../../src/bridge/codec.js";
import { FrameBatchWriter } from "../../src/bridge/frame-batch-writer.js";
import { nowMicros, v1 } from "../../src/bridge/protocol.js";
import type { MediaCall } from "../../src/media/bot-api.js";
import type { WorkerEvent } from "../../src/media/worker-messages.js";
import { startEngine } from "./engine-fixture.js";
import { pcmFor } from "./frame-helpers.js";
import { fullGc, youngBytesAllocated } from "./gc-counter.js";

const SOURCE = v1.MediaContext.MEDIA_CONTEXT_AUDIO_SOURCE;

function setup() {
  const events: WorkerEvent[] = [];
  const { bridge, engine, clock, metric } = startEngine({}, { emit: (event) => events.push(event) });
  return { bridge, engine, events, clock, metric };
}

/** Reads every frame of the batches the engine sent: [session, sequence, pcm]. */
function sentFrames(batches: Uint8Array[]): [number, number, Buffer][] {
  const decoder = new EnvelopeDecoder();
  const out: [number, number, Buffer][] = [];
  for (const bytes of batches) {
    expect(decoder.decode(bytes)).toBe("frames");
    const reader = decoder.frames;
    while (reader.next()) {
      expect(reader.context).toBe(v1.MediaContext.MEDIA_CONTEXT_AUDIO_RENDER);
      out.push([reader.session, reader.sequence, Buffer.from(reader.pcm())]);
    }
  }
  return out;
}

describe("MediaEngine", () => {
  it("routes frames by session, drops bad ones by reason, and renders one batch per tick for all sessions", async () => {
    const { bridge, engine, events, clock, metric } = await setup();
    const a = await engine.createSession({ callId: "a", direction: "sendRecv", unmixedAudio: false });
    const b = await engine.createSession({ callId: "b", direction: "sendRecv", unmixedAudio: false });
    bridge.emit("sendStatus", { session: 1, active: true });
    bridge.emit("sendStatus", { session: 2, active: true });
    expect(events).toContainEqual({ type: "mediaConnected", callId: "a" });
    expect(a.mediaSessionId).not.toBe(b.mediaSessionId);
    const writer = new FrameBatchWriter();
    writer.begin(nowMicros());
    writer.addFrame(1, SOURCE, 1, 100, pcmFor(1, 1), 0, false);
    writer.addFrame(2, SOURCE, 1, 100, pcmFor(1, 2), 0, false);
    writer.addFrame(9, SOURCE, 1, 100, pcmFor(1, 9), 0, false); // unknown session
    writer.addFrame(1, v1.MediaContext.MEDIA_CONTEXT_AUDIO_RENDER, 2, 100, pcmFor(2), 0, false); // wrong context
    bridge.deliver(writer.finish());
    clock.tick();
    clock.tick();
    // The wrong-context frame is refused, but its place (session 1's sequence 2) is given up on
    // at once: silence stands in for it in the echo's next tick.
    expect(bridge.sent).toHaveLength(2);
    expect(sentFrames(bridge.sent)).toEqual([
      [1, 0, Buffer.from(pcmFor(1, 1))],
      [2, 0, Buffer.from(pcmFor(1, 2))],
      [1, 1, Buffer.alloc(640)],
    ]);
    expect(await metric('media_frames_dropped_total{reason="unknown_session"}')).toBe(1);
    expect(await metric('media_frames_dropped_total{reason="bad_context"}')).toBe(1);
    expect(await metric("media_frames_received_total")).toBe(4);
    expect(await metric("media_frames_sent_total")).toBe(3);
    await engine.shutdown();
  });

  it("a frame with a bad PCM size is refused alone: the other sessions' frames in its batch go through", async () => {
    const { bridge, engine, clock, metric } = await setup();
    await engine.createSession({ callId: "a", direction: "sendRecv", unmixedAudio: false });
    await engine.createSession({ callId: "b", direction: "sendRecv", unmixedAudio: false });
    bridge.emit("sendStatus", { session: 1, active: true });
    bridge.emit("sendStatus", { session: 2, active: true });
    // Hand-build a batch whose first frame carries 10 bytes of PCM.
    const good = new FrameBatchWriter();
    good.begin(1);
    good.addFrame(2, SOURCE, 1, 100, pcmFor(5), 0, false);
    const goodBatch = good.finish();
    const badFrame = Buffer.from([0x08, 0x01, 0x10, 0x01, 0x18, 0x01, 0x2a, 10, ...new Array(10).fill(7)]);
    // Envelope{frames: FrameBatch{frames: [bad, good...]}}: splice the bad frame in front.
    const innerStart = goodBatch.length - readBodyLength(goodBatch);
    const inner = Buffer.from(goodBatch.subarray(innerStart));
    const batchBody = Buffer.concat([Buffer.from([0x0a, badFrame.length]), badFrame, inner]);
    const envelope = Buffer.concat([Buffer.from([0x4a]), varint(batchBody.length), batchBody]);
    bridge.deliver(envelope);
    clock.tick();
    expect(sentFrames(bridge.sent)).toEqual([[2, 0, Buffer.from(pcmFor(5))]]);
    // BridgeClient reports the refused frame as a protocol error; the engine counts it.
    const refused = new BridgeProtocolError("bad_pcm_length", "frame pcm must be 640 bytes", 1);
    refused.framesLost = 1;
    bridge.emit("protocolError", refused);
    expect(await metric('media_frames_dropped_total{reason="bad_size"}')).toBe(1);
    await engine.shutdown();
  });

  it("forwards clear to the host at once", async () => {
    const { bridge, engine } = await setup();
    await engine.createSession({ callId: "a", direction: "sendRecv", unmixedAudio: false });
    const call = (engine as unknown as { byCall: Map<string, MediaCall> }).byCall.get("a") as MediaCall;
    call.clear();
    expect(bridge.clears).toEqual([1]);
    await engine.shutdown();
  });

  it("receive and render paths allocate no frame buffers and retain nothing (50 sessions)", async () => {
    const { bridge, engine, clock } = await setup();
    const sessions = 50;
    for (let s = 1; s <= sessions; s++) {
      await engine.createSession({ callId: `c${s}`, direction: "sendRecv", unmixedAudio: false });
      bridge.emit("sendStatus", { session: s, active: true });
    }
    bridge.sent = [];
    bridge.keep = false; // keep nothing: only the engine's own allocations count
    const decoder = new EnvelopeDecoder();
    const pcm = pcmFor(3);
    // Batches are encoded up front, so only the engine's own work is measured.
    const encode = (from: number, ticks: number) =>
      Array.from({ length: ticks }, (_, t) => {
        const writer = new FrameBatchWriter({ ringSize: 1 });
        writer.begin(1);
        for (let s = 1; s <= sessions; s++)
          writer.addFrame(s, SOURCE, from + t, (from + t) * 200_000, pcm, 0, false);
        return Uint8Array.from(writer.finish());
      });
    const run = (batches: Uint8Array[]) => {
      for (const batch of batches) {
        decoder.decode(batch);
        bridge.emit("frames", decoder.frames, 1);
        clock.tick();
      }
    };
    run(encode(1, 1500)); // warm up (JIT)
    const ticks = 200; // 10,000 frames in, 10,000 out
    const inputs = [0, 1, 2, 3].map((i) => encode(1501 + i * ticks, ticks));
    const bytes = await youngBytesAllocated((attempt) => run(inputs[attempt] as Uint8Array[]));
    // Measured 100-200 bytes per frame (one frame in and one out): short-lived boxed numbers
    // and subarray views (FrameBatchWriter.addFrame makes one per frame), about one young
    // collection per 100k frames. A PCM buffer per frame (640 bytes + header) would exceed this.
    expect(bytes / (ticks * sessions)).toBeLessThan(320);
    // Nothing is retained: the heap after a full collection does not grow with frames.
    const more = encode(1501 + 4 * ticks, 400);
    await fullGc();
    const before = process.memoryUsage().heapUsed;
    run(more); // 20,000 frames each way
    await fullGc();
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(500_000);
    await engine.shutdown();
  });
});

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let v = value;
  while (v > 127) {
    bytes.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

/** Length of the FrameBatch body inside an Envelope{frames} (after its tag and length varint). */
function readBodyLength(envelope: Uint8Array): number {
  let pos = 1;
  let length = 0;
  let shift = 0;
  for (;;) {
    const byte = envelope[pos++] as number;
    length |= (byte & 0x7f) << shift;
    if (byte < 128) break;
    shift += 7;
  }
  return length;
}
