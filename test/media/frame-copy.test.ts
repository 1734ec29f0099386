import { describe, expect, it } from "vitest";
import { FRAME_BYTES } from "../../src/media/audio-format.js";
import { copyFrameInto, copyPcm, dataViewOf } from "../../src/media/frame-copy.js";
import { youngBytesAllocated } from "./gc-counter.js";

/** Bytes that differ at every position (and are not all small), so a misplaced byte shows. */
function pattern(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return bytes;
}

describe("frame copies", () => {
  it("copyPcm copies any range between any offsets, touching nothing else", () => {
    // Odd offsets and byteOffsets, lengths not a multiple of 4, a whole-view source.
    const backing = pattern(4000, 1);
    const source = backing.subarray(3, 3000);
    for (const [from, to, length] of [
      [0, 0, FRAME_BYTES],
      [1, 5, FRAME_BYTES],
      [7, 2, 333],
      [13, 0, 3],
      [0, 9, source.length - 2000],
    ] as const) {
      const target = new Uint8Array(new ArrayBuffer(2100), 1, 2090).fill(0xee);
      copyPcm(source, from, target, to, length);
      expect(Buffer.from(target.subarray(to, to + length))).toEqual(
        Buffer.from(source.subarray(from, from + length)),
      );
      expect(target.subarray(0, to).every((b) => b === 0xee)).toBe(true);
      expect(target.subarray(to + length).every((b) => b === 0xee)).toBe(true);
    }
    const whole = pattern(FRAME_BYTES, 2);
    const target = new Uint8Array(FRAME_BYTES * 3);
    copyPcm(whole, 0, target, FRAME_BYTES);
    expect(Buffer.from(target.subarray(FRAME_BYTES, 2 * FRAME_BYTES))).toEqual(Buffer.from(whole));
  });

  it("copyPcm refuses ranges that do not fit before writing anything", () => {
    const source = pattern(100, 3);
    const target = new Uint8Array(100);
    expect(() => copyPcm(source, 50, target, 0, 51)).toThrow(RangeError);
    expect(() => copyPcm(source, 0, target, 60, 41)).toThrow(RangeError);
    expect(() => copyPcm(source, -1, target, 0, 10)).toThrow(RangeError);
    expect(target.every((b) => b === 0)).toBe(true);
  });

  it("copyFrameInto moves a frame from any source offset into 4-aligned word memory", () => {
    const source = new Uint8Array(pattern(3 * FRAME_BYTES + 7, 4).buffer, 0);
    const memory = new ArrayBuffer(3 * FRAME_BYTES);
    const words = new Int32Array(memory);
    const bytes = new Uint8Array(memory);
    for (const from of [0, 1, 2, 3, 5, FRAME_BYTES + 7]) {
      bytes.fill(0);
      copyFrameInto(source, from, words, FRAME_BYTES);
      expect(Buffer.from(bytes.subarray(FRAME_BYTES, 2 * FRAME_BYTES))).toEqual(
        Buffer.from(source.subarray(from, from + FRAME_BYTES)),
      );
      expect(bytes.subarray(0, FRAME_BYTES).every((b) => b === 0)).toBe(true);
      expect(bytes.subarray(2 * FRAME_BYTES).every((b) => b === 0)).toBe(true);
    }
    expect(() => copyFrameInto(source, 0, words, 2)).toThrow(/4-aligned/);
    expect(() => copyFrameInto(source, 0, words, 2 * FRAME_BYTES + 4)).toThrow(RangeError);
    expect(() => copyFrameInto(source, source.length - FRAME_BYTES + 1, words, 0)).toThrow(RangeError);
  });

  it("keeps one DataView per buffer", () => {
    const a = new ArrayBuffer(8);
    const b = new ArrayBuffer(8);
    const c = new ArrayBuffer(8);
    const first = dataViewOf(a);
    dataViewOf(b);
    dataViewOf(c);
    expect(dataViewOf(a)).toBe(first);
    expect(dataViewOf(b).buffer).toBe(b);
  });

  it("allocates nothing per copy when hundreds of buffers take turns", async () => {
    // What a tick does with 500 sessions: a frame from one received batch into each slot,
    // and each slot's whole view into its own queue at a rotating position.
    const sessions = 500;
    const batch = pattern(sessions * (FRAME_BYTES + 9), 5);
    const slots = Array.from({ length: sessions }, () => new ArrayBuffer(FRAME_BYTES));
    const slotWords = slots.map((m) => new Int32Array(m));
    const slotPcm = slots.map((m) => new Uint8Array(m));
    const queues = Array.from({ length: sessions }, () => new Uint8Array(FRAME_BYTES * 10));
    const work = (ticks: number) => (_attempt?: number) => {
      for (let t = 0; t < ticks; t++) {
        for (let s = 0; s < sessions; s++) {
          copyFrameInto(batch, s * (FRAME_BYTES + 9) + 3, slotWords[s] as Int32Array, 0);
          copyPcm(slotPcm[s] as Uint8Array, 0, queues[s] as Uint8Array, (t % 10) * FRAME_BYTES);
        }
      }
    };
    work(40)();
    const bytes = await youngBytesAllocated(work(20));
    // 20,000 frames, two copies each: a DataView or a view object per copy would be > 1 MB.
    expect(bytes / (20 * sessions)).toBeLessThan(2);
    expect(Buffer.from((queues[7] as Uint8Array).subarray(0, FRAME_BYTES))).toEqual(
      Buffer.from(batch.subarray(7 * (FRAME_BYTES + 9) + 3, 7 * (FRAME_BYTES + 9) + 3 + FRAME_BYTES)),
    );
  });
});
