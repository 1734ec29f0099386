import { describe, expect, it } from "vitest";
import { FrameBatchWriter } from "../../../src/bridge/frame-batch-writer.js";
import { FrameLedger } from "../../../src/emulator/media/frame-ledger.js";
import { connectedSession, delayShares, rampPcm, runTicks } from "./session-driver.js";

const TICKS = 20_000;

/** Share of frames that arrive after a frame with a higher sequence number. */
function outOfOrderShare(sequences: number[]): number {
  let highest = 0;
  let late = 0;
  for (const s of sequences) {
    if (s < highest) late++;
    highest = Math.max(highest, s);
  }
  return late / sequences.length;
}

describe("media emulator impairments", () => {
  it("loss removes a frame's audio instead of shifting the audio that follows", () => {
    const session = connectedSession({
      impairments: { loss: 0.3 },
      source: { kind: "pcm", pcm: rampPcm(2000), loop: false },
    });
    const frames = runTicks(session, 1000);
    expect(frames.length).toBeGreaterThan(600);
    expect(frames.length).toBeLessThan(800);
    // Frame n (sequence n) carries the n-th 20 ms of the source, whatever was lost before it.
    expect(frames.filter((f) => f.marker !== f.sequence - 1)).toEqual([]);
    expect(session.snapshot().framesLost).toBe(1000 - frames.length);
  });

  it("silence replaces a frame's audio; the source still advances", () => {
    const session = connectedSession({
      impairments: { silence: 0.3 },
      source: { kind: "pcm", pcm: rampPcm(2000), loop: false },
    });
    const frames = runTicks(session, 1000);
    expect(frames).toHaveLength(1000);
    const silent = frames.filter((f) => f.isSilence);
    expect(silent.length).toBeGreaterThan(200);
    expect(silent.every((f) => f.marker === 0)).toBe(true);
    expect(frames.filter((f) => !f.isSilence && f.marker !== f.sequence - 1)).toEqual([]);
  });

  it("loss does not stall the jitter delay line or a reordered frame", () => {
    const jittered = runTicks(connectedSession({ impairments: { loss: 0.3, jitterMs: 40 } }), TICKS);
    expect(Math.max(...delayShares(jittered).keys())).toBe(2);
    const reordered = runTicks(connectedSession({ impairments: { loss: 0.3, reorder: 0.3 } }), TICKS);
    expect(Math.max(...delayShares(reordered).keys())).toBe(1);
  });

  it("jitter holds frames 0..round(jitterMs / 20) whole ticks, in order, with the documented distribution", () => {
    // One tick: a draw of 0 or 1, and a frame after a 1 waits at least 0: half and half.
    for (const jitterMs of [10, 20, 29]) {
      const shares = delayShares(runTicks(connectedSession({ impairments: { jitterMs } }), TICKS));
      expect([...shares.keys()].sort()).toEqual([0, 1]);
      expect(shares.get(0)).toBeCloseTo(0.5, 1);
    }
    expect([
      ...delayShares(runTicks(connectedSession({ impairments: { jitterMs: 9 } }), 100)).keys(),
    ]).toEqual([0]);
    // Two ticks: P(delay <= d) = product over j >= 0 of (d + j + 1) / 3: 2/9, 4/9, 3/9.
    const frames = runTicks(connectedSession({ impairments: { jitterMs: 40 } }), TICKS);
    const shares = delayShares(frames);
    expect(shares.get(0)).toBeCloseTo(2 / 9, 1);
    expect(shares.get(1)).toBeCloseTo(4 / 9, 1);
    expect(shares.get(2)).toBeCloseTo(3 / 9, 1);
    expect(frames.map((f) => f.sequence)).toEqual(frames.map((_, i) => i + 1));
    // The configured maximum is reached, never passed.
    expect(
      Math.max(...delayShares(runTicks(connectedSession({ impairments: { jitterMs: 100 } }), TICKS)).keys()),
    ).toBe(5);
  });

  it("reorders the configured share of frames, each one by one place", () => {
    for (const reorder of [0.05, 0.2, 0.5]) {
      const session = connectedSession({ impairments: { reorder } });
      const frames = runTicks(session, TICKS);
      expect(frames).toHaveLength(TICKS);
      expect(Math.abs(outOfOrderShare(frames.map((f) => f.sequence)) - reorder)).toBeLessThan(0.015);
      expect(session.snapshot().framesReordered / TICKS).toBeCloseTo(reorder, 1);
      expect(Math.max(...delayShares(frames).keys())).toBe(1);
    }
    expect(() => connectedSession({ impairments: { reorder: 0.6 } })).toThrow(
      /reorder must be a number in \[0, 0.5\]/,
    );
  });

  it("frames held back when the far end pauses are still delivered", () => {
    const session = connectedSession({ impairments: { jitterMs: 100 } });
    const frames = runTicks(session, 60, (tick) => {
      if (tick === 51) session.paused = true;
    });
    expect(frames.map((f) => f.sequence)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it("unmixed buffers keep the speakers they were produced with while jitter holds them", () => {
    const session = connectedSession({
      unmixedAudio: true,
      impairments: { jitterMs: 100 },
      speakers: [
        { id: 101, source: { kind: "tone", frequencyHz: 300 } },
        { id: 202, source: { kind: "tone", frequencyHz: 500 } },
      ],
    });
    const frames = runTicks(session, 60, (tick) => {
      if (tick === 30) session.setSpeakers([{ id: 303, source: { kind: "silence" } }]);
    });
    for (const f of frames) {
      const expected = f.sequence < 30 ? [101, 202] : [303];
      expect({ sequence: f.sequence, speakers: f.speakers, unmixed: f.unmixed }).toEqual({
        sequence: f.sequence,
        speakers: expected,
        unmixed: expected,
      });
    }
    expect(frames.some((f) => f.sequence < 30 && f.tick >= 30)).toBe(true);
  });

  it("refuses speaker ids that are not uint32 instead of wrapping them", () => {
    const session = connectedSession();
    expect(() => session.setSpeakers([{ id: 2 ** 33, source: { kind: "silence" } }])).toThrow(
      /speaker id must be an integer in \[0, 4294967295\]/,
    );
    expect(() => session.setSpeakers([{ id: 1.5, source: { kind: "silence" } }])).toThrow(RangeError);
  });

  it("counts a frame as sent only when its message was sent, else as dropped", () => {
    const session = connectedSession();
    const writer = new FrameBatchWriter();
    const ledger = new FrameLedger();
    for (let tick = 1; tick <= 10; tick++) {
      writer.begin(tick);
      session.writeSourceFrame(writer, tick * 20, ledger);
      writer.finish();
      ledger.settle(tick > 4);
    }
    expect(session.snapshot()).toMatchObject({ framesSent: 6, framesDropped: 4 });
  });
});
