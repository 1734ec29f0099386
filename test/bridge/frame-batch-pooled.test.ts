/**
 * FrameBatchWriter with `sendBuffers`: each batch is written into a pooled buffer that the
 * caller owns until it calls the batch's release, so a socket can write it later without a copy.
 */
import { describe, expect, it } from "vitest";
import { FrameBatchWriter } from "../../src/bridge/frame-batch-writer.js";
import { MAX_FRAME_BATCH_BYTES, v1 } from "../../src/bridge/protocol.js";
import { SendBufferPool } from "../../src/bridge/send-buffer-pool.js";

const SOURCE = v1.MediaContext.MEDIA_CONTEXT_AUDIO_SOURCE as number;

/** One 640-byte frame whose bytes all say `value`. */
const pcm = (value: number) => new Uint8Array(640).fill(value);

/** A tick of `sessions` frames, written by `writer`; returns what finish() gave. */
function writeTick(writer: FrameBatchWriter, sessions: number, value: number): Uint8Array {
  writer.begin(1_000_000 + value);
  for (let s = 1; s <= sessions; s++)
    writer.addFrame(s, SOURCE, value, value * 200_000, pcm(value), 0, false);
  return writer.finish();
}

describe("FrameBatchWriter with pooled send buffers", () => {
  it("writes the same bytes as the ring, keeps each batch intact until released, then reuses its buffer", () => {
    const pool = new SendBufferPool(MAX_FRAME_BATCH_BYTES);
    const pooled = new FrameBatchWriter({ sendBuffers: pool });
    const ring = new FrameBatchWriter({ ringSize: 1 });
    const held: { bytes: Uint8Array; copy: Uint8Array; release: () => void }[] = [];
    // Ten batches in flight at once (a socket that cannot drain): each stays as written.
    for (let t = 1; t <= 10; t++) {
      const bytes = writeTick(pooled, 20, t);
      expect(Buffer.from(bytes).equals(Buffer.from(writeTick(ring, 20, t)))).toBe(true);
      const release = pooled.finishedRelease;
      expect(release).not.toBeNull();
      held.push({ bytes, copy: Uint8Array.from(bytes), release: release as () => void });
    }
    for (const batch of held) expect(Buffer.from(batch.bytes).equals(Buffer.from(batch.copy))).toBe(true);
    expect(pool.created).toBe(10);
    expect(pool.inFlight).toBe(10);
    for (const batch of held) batch.release();
    expect(pool.inFlight).toBe(0);
    // Released buffers are written again: no new ones once the pool covers what is in flight.
    for (let t = 11; t <= 40; t++) {
      writeTick(pooled, 20, t);
      pooled.finishedRelease?.();
    }
    expect(pool.created).toBe(10);
  });

  it("hands each split message its own buffer and release through onFull", () => {
    const pool = new SendBufferPool(MAX_FRAME_BATCH_BYTES);
    const messages: { bytes: Uint8Array; release: (() => void) | null }[] = [];
    const writer = new FrameBatchWriter({
      sendBuffers: pool,
      onFull: (bytes, _frames, release) => messages.push({ bytes, release }),
    });
    const last = writeTick(writer, 1000, 7);
    messages.push({ bytes: last, release: writer.finishedRelease });
    // 1000 frames of ~680 bytes: three messages under the limit, in three different buffers.
    expect(messages.length).toBe(3);
    expect(new Set(messages.map((m) => m.bytes.buffer)).size).toBe(3);
    for (const m of messages) expect(m.bytes.length).toBeLessThanOrEqual(MAX_FRAME_BATCH_BYTES);
    expect(pool.inFlight).toBe(3);
    for (const m of messages) m.release?.();
    expect(pool.inFlight).toBe(0);
  });

  it("moves a batch larger than the pooled buffers (no onFull to split it) to a one-off buffer", () => {
    const pool = new SendBufferPool(8192);
    const pooled = new FrameBatchWriter({ sendBuffers: pool });
    const ring = new FrameBatchWriter({ ringSize: 1 });
    const bytes = writeTick(pooled, 100, 3);
    expect(bytes.length).toBeGreaterThan(8192 * 8);
    expect(Buffer.from(bytes).equals(Buffer.from(writeTick(ring, 100, 3)))).toBe(true);
    // The pooled buffers it outgrew went back; only the one-off is held.
    expect(pool.inFlight).toBe(1);
    pooled.finishedRelease?.();
    expect(pool.inFlight).toBe(0);
  });

  it("gives back the buffer of a batch begun and never finished", () => {
    const pool = new SendBufferPool(MAX_FRAME_BATCH_BYTES);
    const writer = new FrameBatchWriter({ sendBuffers: pool });
    writer.begin(1);
    writer.addFrame(1, SOURCE, 1, 1, pcm(1), 0, false);
    expect(pool.inFlight).toBe(1);
    writeTick(writer, 1, 2);
    writer.finishedRelease?.();
    expect(pool.inFlight).toBe(0);
    expect(pool.created).toBe(1);
  });
});
