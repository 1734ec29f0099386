import { describe, expect, it } from "vitest";
import {
  firstDifference,
  isTone,
  levelDbfs,
  rms,
  silence,
  tone,
  toneRatio,
} from "../../src/testing/index.js";

describe("audio helpers", () => {
  it("measure level: a full-scale sine is -3 dBFS, silence -Infinity", () => {
    expect(levelDbfs(tone(1000, 100, { amplitude: 32767 }))).toBeCloseTo(-3.01, 1);
    expect(rms(silence(100))).toBe(0);
    expect(levelDbfs(silence(20))).toBe(Number.NEGATIVE_INFINITY);
  });

  it("tell a tone of a frequency from another tone, a mix and noise", () => {
    const a = tone(437, 200);
    expect(toneRatio(a, 437)).toBeGreaterThan(0.95);
    expect(isTone(a, 437)).toBe(true);
    expect(isTone(a, 600)).toBe(false);
    const mix = a.map((sample, i) => sample + (tone(1200, 200)[i] as number));
    expect(toneRatio(mix, 437)).toBeGreaterThan(0.4);
    expect(toneRatio(mix, 437)).toBeLessThan(0.6);
    let seed = 1;
    const noise = Int16Array.from({ length: 3200 }, () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return (seed % 16000) - 8000;
    });
    expect(isTone(noise, 437)).toBe(false);
  });

  it("firstDifference finds the first differing sample, or the shorter length", () => {
    const a = Int16Array.of(1, 2, 3);
    expect(firstDifference(a, Int16Array.of(1, 2, 3))).toBe(-1);
    expect(firstDifference(a, Int16Array.of(1, 5, 3))).toBe(1);
    expect(firstDifference(a, Int16Array.of(1, 2))).toBe(2);
  });
});
