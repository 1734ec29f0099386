/**
 * Protocol rule: a FrameBatch message is at most MAX_FRAME_BATCH_BYTES (256 KiB); a sender
 * splits a tick's frames over several messages. FrameBatchWriter does it with onFull.
 */
import { describe, expect, it } from "vitest";
import { EnvelopeDecoder } from "../../src/bridge/codec.js";
import { FrameBatchWriter } from "../../src/bridge/frame-batch-writer.js";
import { DEFAULT_MAX_MESSAGE_BYTES, MAX_FRAME_BATCH_BYTES, v1 } from "../../src/bridge/protocol.js";
import { youngBytesAllocated } from "../media/gc-counter.js";

const SOURCE = v1.MediaContext.MEDIA_CONTEXT_AUDIO_SOURCE as number;

interface Sent {
  bytes: Uint8Array;
  frames: number;
}

function splittingWriter(maxMessageBytes?: number) {
  const sent: Sent[] = [];
  const writer = new FrameBatchWriter({
    maxMessageBytes,
    onFull: (bytes, frames) => sent.push({ bytes: Uint8Array.from(bytes), frames }),
  });
  /** Ends the tick: what finish() returns is the last message. */
  const end = () => {
    if (writer.frameCount > 0)
      sent.push({ bytes: Uint8Array.from(writer.finish()), frames: writer.frameCount });
    return sent;
  };
  return { writer, sent, end };
}

/** Every frame of the messages as [session, sequence, first pcm byte], and each message's sent_at. */
function read(messages: Sent[]) {
  const decoder = new EnvelopeDecoder();
  const frames: [number, number, number][] = [];
  const sentAt: number[] = [];
  for (const message of messages) {
    expect(decoder.decode(message.bytes)).toBe("frames");
    const reader = decoder.frames;
    expect(reader.invalidFrames).toEqual([]);
    expect(reader.frameCount).toBe(message.frames);
    sentAt.push(reader.sentAtUs);
    while (reader.next())
      frames.push([reader.session, reader.sequence, reader.buffer[reader.pcmOffset] as number]);
  }
  return { frames, sentAt };
}

describe("FrameBatchWriter splits a tick into messages under the limit", () => {
  it("the limits: 256 KiB per FrameBatch, receivers take 1 MiB", () => {
    expect(MAX_FRAME_BATCH_BYTES).toBe(256 * 1024);
    expect(DEFAULT_MAX_MESSAGE_BYTES).toBe(1024 * 1024);
  });

  it("a late tick of 1000 sessions (three frames each, 2 MB in all) goes out in messages of at most 256 KiB, every frame once, in order", () => {
    const { writer, end } = splittingWriter();
    const pcm = new Uint8Array(640 * 3);
    for (let i = 0; i < 3; i++) pcm.fill(i + 1, i * 640, (i + 1) * 640);
    writer.begin(1_764_201_600_000_000);
    const expected: [number, number, number][] = [];
    for (let tick = 0; tick < 3; tick++) {
      for (let s = 1; s <= 1000; s++) {
        writer.addFrame(s, SOURCE, 100 + tick, 638_999_999_999_800_000, pcm, tick * 640, false, [s, 7]);
        expected.push([s, 100 + tick, tick + 1]);
      }
    }
    const sent = end();
    const total = sent.reduce((n, m) => n + m.bytes.length, 0);
    expect(total).toBeGreaterThan(2_000_000);
    expect(sent.length).toBeGreaterThanOrEqual(Math.ceil(total / MAX_FRAME_BATCH_BYTES));
    for (const message of sent) expect(message.bytes.length).toBeLessThanOrEqual(MAX_FRAME_BATCH_BYTES);
    // Full messages are nearly full: splitting keeps room for one worst-case frame only.
    for (const message of sent.slice(0, -1))
      expect(message.bytes.length).toBeGreaterThan(MAX_FRAME_BATCH_BYTES - 4096);
    const { frames, sentAt } = read(sent);
    expect(frames).toEqual(expected);
    // Every part of the tick carries the tick's send time.
    expect(new Set(sentAt)).toEqual(new Set([1_764_201_600_000_000]));
    expect(writer.splitBatches).toBe(sent.length - 1);
  });

  it("frames with four unmixed buffers each stay under a small limit too", () => {
    const limit = 16 * 1024;
    const { writer, end } = splittingWriter(limit);
    const pcm = new Uint8Array(640).fill(9);
    writer.begin(5);
    for (let s = 1; s <= 40; s++) {
      writer.addFrame(s, SOURCE, 1, 200_000, pcm, 0, false, [1, 2, 3, 4]);
      for (let u = 0; u < 4; u++) writer.addUnmixed(u + 1, pcm, 0, 200_000 - u);
    }
    const sent = end();
    expect(sent.length).toBeGreaterThan(4);
    for (const message of sent) expect(message.bytes.length).toBeLessThanOrEqual(limit);
    const decoder = new EnvelopeDecoder();
    let unmixed = 0;
    for (const message of sent) {
      decoder.decode(message.bytes);
      while (decoder.frames.next()) unmixed += decoder.frames.unmixedCount;
    }
    expect(unmixed).toBe(160);
    expect(read(sent).frames.map((f) => f[0])).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  it("without onFull a batch is not split (tests and tools)", () => {
    const writer = new FrameBatchWriter();
    writer.begin(1);
    const pcm = new Uint8Array(640);
    for (let s = 1; s <= 500; s++) writer.addFrame(s, SOURCE, 1, 0, pcm, 0, false);
    expect(writer.finish().length).toBeGreaterThan(MAX_FRAME_BATCH_BYTES);
    expect(writer.splitBatches).toBe(0);
  });

  it("refuses a limit too small for one frame", () => {
    expect(() => new FrameBatchWriter({ maxMessageBytes: 1000, onFull: () => {} })).toThrow(RangeError);
  });

  it("splitting allocates nothing per frame", async () => {
    let messages = 0;
    const writer = new FrameBatchWriter({ maxMessageBytes: 32 * 1024, onFull: () => messages++ });
    const pcm = new Uint8Array(640).fill(1);
    const tick = (t: number) => {
      writer.begin(t);
      for (let s = 1; s <= 500; s++) writer.addFrame(s, SOURCE, t, t * 200_000, pcm, 0, false);
      writer.finish();
      messages++;
    };
    for (let t = 1; t <= 200; t++) tick(t);
    const bytes = await youngBytesAllocated((attempt) => {
      for (let t = 0; t < 20; t++) tick(1000 + attempt * 20 + t);
    });
    expect(messages).toBeGreaterThan(200 * 10);
    // One view per message (about 50 frames each).
    expect(bytes / (500 * 20)).toBeLessThan(4);
  });
});
