import { describe, expect, it } from "vitest";
import { createAudioSource } from "../../../src/emulator/media/audio-source.js";
import { LevelMeter, SILENCE_DBFS } from "../../../src/emulator/media/level-meter.js";

const FRAME = 640;

function meterAfter(frames: number, fill: (frame: Uint8Array) => void): LevelMeter {
  const meter = new LevelMeter();
  const frame = new Uint8Array(FRAME);
  for (let i = 0; i < frames; i++) {
    fill(frame);
    meter.addFrame(frame, 0, FRAME);
  }
  return meter;
}

describe("LevelMeter (the media emulator's dBFS of caller and bot audio)", () => {
  it("reads a sine of amplitude A as 20 log10(A / sqrt 2) dBFS once settled", () => {
    for (const amplitude of [1, 0.3, 0.01]) {
      const tone = createAudioSource({ kind: "tone", frequencyHz: 440, amplitude });
      const meter = meterAfter(200, (frame) => tone.read(frame, 0));
      expect(meter.dbfs).toBeCloseTo(20 * Math.log10(amplitude / Math.SQRT2), 0);
    }
  });

  it("reads silence as the floor, and falls towards it within about a second after sound stops", () => {
    expect(new LevelMeter().dbfs).toBe(SILENCE_DBFS);
    const tone = createAudioSource({ kind: "tone", frequencyHz: 440, amplitude: 0.5 });
    const meter = meterAfter(100, (frame) => tone.read(frame, 0));
    for (let i = 0; i < 50; i++) meter.addSilence();
    expect(meter.dbfs).toBeLessThan(-25);
    expect(meterAfter(10, (frame) => frame.fill(0)).dbfs).toBe(SILENCE_DBFS);
  });

  it("reads negative samples by their magnitude (full-scale square wave = 0 dBFS)", () => {
    const meter = meterAfter(200, (frame) => {
      const view = new DataView(frame.buffer);
      for (let i = 0; i < FRAME / 2; i++) view.setInt16(2 * i, i % 2 ? 32767 : -32768, true);
    });
    expect(meter.dbfs).toBeCloseTo(0, 0);
  });
});
