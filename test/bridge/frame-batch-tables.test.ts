/**
 * FrameBatchReader records each good frame's fields during reset() and next() only loads them:
 * batches larger than its initial tables, many active speakers, rewinding, a new buffer per
 * batch and copies to unaligned targets must all read exactly what the generated code wrote.
 */
import { describe, expect, it } from "vitest";
import { encodeEnvelope } from "../../src/bridge/codec.js";
import { FrameBatchReader } from "../../src/bridge/frame-batch-reader.js";
import { PcmCopier } from "../../src/bridge/pcm-copy.js";
import type { pb } from "../../src/bridge/protocol.js";

function pcmOf(seed: number): Uint8Array {
  return Uint8Array.from({ length: 640 }, (_, i) => (seed * 131 + i * 7 + (i >> 3)) & 0xff);
}

interface Expected {
  session: number;
  sequence: number;
  timestampTicks: number;
  isSilence: boolean;
  speakers: number[];
  /** PCM as base64: deep equality of many typed arrays is slow in the test runner. */
  pcm: string;
  unmixed: { id: number; ts: number; pcm: string }[];
}

const b64 = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");

function makeBatch(frames: number, seed: number): { bytes: Uint8Array; expected: Expected[] } {
  const expected: Expected[] = [];
  const messages: pb.IAudioFrame[] = [];
  for (let i = 0; i < frames; i++) {
    const n = seed * 1000 + i;
    const e: Expected = {
      session: 1 + (n % 700),
      sequence: n * 3 + 1,
      timestampTicks: 638_000_000_000_000 + n * 200_000,
      isSilence: n % 7 === 0,
      speakers: Array.from({ length: (n * 5) % 11 }, (_, k) => 1000 + k + n),
      pcm: b64(pcmOf(n)),
      unmixed: Array.from({ length: n % 5 }, (_, u) => ({
        id: 50 + u,
        ts: n * 10 + u,
        pcm: b64(pcmOf(n + u + 1)),
      })),
    };
    expected.push(e);
    messages.push({
      session: e.session,
      context: 1,
      sequence: e.sequence,
      timestampTicks: e.timestampTicks,
      pcm: pcmOf(n),
      isSilence: e.isSilence,
      activeSpeakers: e.speakers,
      unmixed: e.unmixed.map((u, k) => ({
        speakerId: u.id,
        pcm: pcmOf(n + k + 1),
        originalSenderTimestampTicks: u.ts,
      })),
    });
  }
  const envelope = encodeEnvelope({ frames: { frames: messages, sentAtUs: 5 } });
  // Inside a bigger buffer at an odd offset, like a slice of a socket's read buffer.
  const host = new Uint8Array(envelope.length + 21);
  host.set(envelope, 21);
  return { bytes: host.subarray(21), expected };
}

function headerLength(bytes: Uint8Array): number {
  let p = 1;
  while ((bytes[p] as number) >= 0x80) p++;
  return p + 1;
}

function readAll(reader: FrameBatchReader): Expected[] {
  const out: Expected[] = [];
  const target = new Uint8Array(640 + 5);
  while (reader.next()) {
    reader.copyPcm(target, 5);
    out.push({
      session: reader.session,
      sequence: reader.sequence,
      timestampTicks: reader.timestampTicks,
      isSilence: reader.isSilence,
      speakers: Array.from(reader.activeSpeakers.subarray(0, reader.activeSpeakerCount)),
      pcm: b64(target.subarray(5)),
      unmixed: Array.from({ length: reader.unmixedCount }, (_, u) => {
        const pcm = new Uint8Array(641);
        reader.copyUnmixedPcm(u, pcm, 1);
        return {
          id: reader.unmixedSpeakerIds[u] as number,
          ts: reader.unmixedTimestampTicks[u] as number,
          pcm: b64(pcm.subarray(1)),
        };
      }),
    });
  }
  return out;
}

describe("FrameBatchReader frame tables", () => {
  it("reads batches larger than its initial tables, twice over with rewind, one buffer after another", () => {
    const reader = new FrameBatchReader();
    for (const [frames, seed] of [
      [3, 1],
      [300, 2],
      [65, 3],
      [400, 4],
      [1, 5],
    ] as const) {
      const { bytes, expected } = makeBatch(frames, seed);
      expect(reader.reset(bytes, headerLength(bytes))).toBe(true);
      expect(reader.frameCount).toBe(frames);
      expect(readAll(reader)).toEqual(expected);
      reader.rewind();
      expect(readAll(reader)).toEqual(expected);
      expect(reader.next()).toBe(false);
    }
  });

  it("copies refuse targets that are too small and unmixed buffers the frame does not have", () => {
    const { bytes } = makeBatch(2, 9);
    const reader = new FrameBatchReader();
    expect(reader.reset(bytes, headerLength(bytes))).toBe(true);
    expect(reader.next()).toBe(true);
    const target = new Uint8Array(640).fill(0xaa);
    expect(() => reader.copyPcm(target, 1)).toThrow(RangeError);
    expect(target.every((b) => b === 0xaa)).toBe(true); // nothing written before the refusal
    expect(() => reader.copyUnmixedPcm(reader.unmixedCount, target)).toThrow(RangeError);
    expect(() => reader.copyUnmixedPcm(-1, target)).toThrow(RangeError);
  });
});

describe("PcmCopier", () => {
  it("copies exactly one frame between any offsets, including across views of one buffer", () => {
    const copier = new PcmCopier(2);
    const backing = new Uint8Array(4096);
    for (let i = 0; i < backing.length; i++) backing[i] = (i * 37 + 11) & 0xff;
    for (const [from, to] of [
      [0, 2000],
      [1, 2003],
      [7, 1500],
      [13, 2999],
    ] as const) {
      const source = backing.subarray(from % 5, 1400);
      const target = new Uint8Array(3000 + 640 + 9).subarray(9);
      target.fill(1);
      copier.copyFrame(source, from, target, to);
      expect(Buffer.from(target.subarray(to, to + 640))).toEqual(
        Buffer.from(source.subarray(from, from + 640)),
      );
      expect(target[to - 1]).toBe(1);
      expect(target[to + 640]).toBe(1);
    }
    expect(() => copier.copyFrame(new Uint8Array(639), 0, new Uint8Array(640), 0)).toThrow(RangeError);
    expect(() => copier.copyFrame(new Uint8Array(640), 0, new Uint8Array(640), -1)).toThrow(RangeError);
  });
});
