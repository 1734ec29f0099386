/**
 * A frame refused alone (issue 17: one bad frame must cost no good one) names its place in its
 * session's stream when it can: the receiver gives that place up at once instead of waiting for
 * it. The reader says the frame's sequence when it was read, or when the frame was read to its
 * end (proto3 leaves a zero sequence out), and -1 when the frame broke before it.
 */
import { describe, expect, it } from "vitest";
import { FrameBatchReader } from "../../src/bridge/frame-batch-reader.js";
import { v1 } from "../../src/bridge/protocol.js";

function varint(value: number): number[] {
  const bytes: number[] = [];
  let v = value;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return bytes;
}

/** A FrameBatch (not an Envelope) of the given encoded frames. */
function batch(frames: Uint8Array[]): Uint8Array {
  return new Uint8Array(frames.flatMap((frame) => [0x0a, ...varint(frame.length), ...frame]));
}

const encode = (frame: Parameters<typeof v1.AudioFrame.encode>[0]): Uint8Array =>
  v1.AudioFrame.encode(frame).finish();

describe("FrameBatchReader: a refused frame's place", () => {
  it("gives the sequence read before the problem, or from a frame read to its end, else -1", () => {
    const pcm = new Uint8Array(640);
    const frames = [
      encode({ session: 1, context: 1, sequence: 7, pcm: pcm.subarray(0, 639) }),
      encode({ session: 2, context: 1, sequence: 0, pcm: pcm.subarray(0, 639) }), // 0: not on the wire
      encode({ session: 3, context: 1, sequence: 9, pcm }).subarray(0, -40), // pcm field cut short
      new Uint8Array([0x08, 4, 0x00, 0x18, 11]), // session 4, then a field 0 before the sequence
      encode({ session: 5, context: 1, sequence: 12, pcm }),
    ];
    const reader = new FrameBatchReader();
    expect(reader.reset(batch(frames))).toBe(true);
    expect(reader.invalidFrames.map((f) => [f.reason, f.session, f.sequence])).toEqual([
      ["bad_pcm_length", 1, 7],
      ["bad_pcm_length", 2, 0],
      ["truncated", 3, 9],
      ["bad_wire_type", 4, -1],
    ]);
    expect(reader.next()).toBe(true);
    expect([reader.session, reader.sequence]).toEqual([5, 12]);
    expect(reader.next()).toBe(false);
  });
});
