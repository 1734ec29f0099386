import { describe, expect, it } from "vitest";
import { FRAME_BYTES, matchEcho, sourceFrame } from "./echo-match.js";

/** A source whose length is not whole frames (like caller-speech.wav), silent at the start. */
function makeSource(): Uint8Array {
  const bytes = new Uint8Array(FRAME_BYTES * 40 + 296);
  for (let i = FRAME_BYTES * 3; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 9)) & 0xff || 1;
  return bytes;
}

function render(source: Uint8Array, positions: (number | "silence")[]): Uint8Array {
  const out = new Uint8Array(positions.length * FRAME_BYTES);
  positions.forEach((p, j) => {
    if (p !== "silence") out.set(sourceFrame(source, p), j * FRAME_BYTES);
  });
  return out;
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

describe("matchEcho", () => {
  const source = makeSource();

  it("reads the looped source across its end", () => {
    const frame = sourceFrame(source, 40);
    expect(Array.from(frame.subarray(0, 296))).toEqual(Array.from(source.subarray(40 * FRAME_BYTES)));
    expect(Array.from(frame.subarray(296))).toEqual(Array.from(source.subarray(0, FRAME_BYTES - 296)));
  });

  it("an exact echo that starts in the source's silence and wraps around the loop matches every frame", () => {
    const result = matchEcho(source, render(source, range(1, 80)));
    expect(result).toEqual({
      frames: 80,
      firstSourceFrame: 1,
      matched: 80,
      skipped: 0,
      concealed: 0,
      mismatchAt: null,
    });
  });

  it("reports frames the echo skipped and silence where sound was", () => {
    const positions: (number | "silence")[] = [...range(5, 10), ...range(17, 5), "silence", ...range(23, 5)];
    const result = matchEcho(source, render(source, positions));
    expect(result.skipped).toBe(2);
    expect(result.concealed).toBe(1);
    expect(result.matched).toBe(20);
    expect(result.mismatchAt).toBeNull();
  });

  it("one changed sample is a mismatch at its frame", () => {
    const rendered = render(source, range(6, 20));
    rendered[12 * FRAME_BYTES + 100] = (rendered[12 * FRAME_BYTES + 100] as number) ^ 1;
    const result = matchEcho(source, rendered);
    expect(result.mismatchAt).toBe(12);
    expect(result.matched).toBe(12);
  });

  it("audio that is not in the source matches nothing", () => {
    const rendered = new Uint8Array(4 * FRAME_BYTES).fill(3);
    expect(matchEcho(source, rendered).mismatchAt).toBe(0);
    expect(matchEcho(source, new Uint8Array(3 * FRAME_BYTES)).firstSourceFrame).toBeNull();
  });
});
