import { describe, expect, it } from "vitest";
import { FRAME_BYTES } from "../../src/media/audio-format.js";
import { type IncomingFrameView, ReceivedFrameSlot } from "../../src/media/received-frame.js";

/** A frame as the bridge reader presents it: PCM and unmixed buffers at offsets of one buffer. */
function viewOf(sequence: number, speakers: number[], unmixedIds: number[]): IncomingFrameView {
  const buffer = new Uint8Array(FRAME_BYTES * (1 + unmixedIds.length) + 3);
  // PCM starts at an odd offset, as inside a protobuf message.
  buffer.fill(sequence & 0xff, 3, 3 + FRAME_BYTES);
  unmixedIds.forEach((id, i) => {
    buffer.fill(id & 0xff, 3 + FRAME_BYTES * (i + 1), 3 + FRAME_BYTES * (i + 2));
  });
  return {
    sequence,
    timestampTicks: sequence * 200_000,
    isSilence: false,
    buffer,
    pcmOffset: 3,
    pcmLength: FRAME_BYTES,
    activeSpeakerCount: speakers.length,
    activeSpeaker: (i) => speakers[i] as number,
    unmixedCount: unmixedIds.length,
    unmixedSpeakerId: (i) => unmixedIds[i] as number,
    unmixedOffset: (i) => 3 + FRAME_BYTES * (i + 1),
    unmixedLength: () => FRAME_BYTES,
    unmixedTimestampTicks: (i) => 1000 + i,
    receivedAtMs: sequence * 20,
  };
}

describe("ReceivedFrameSlot", () => {
  it("shows each frame's own speakers and unmixed buffers as their counts change from frame to frame", () => {
    const slot = new ReceivedFrameSlot(true);
    const frames: [number[], number[]][] = [
      [[7, 8], [7]],
      [[9, 10], []],
      [[], []],
      [
        [1, 2, 3],
        [1, 2],
      ],
      [[4], [4]],
      [[], [5, 6, 7]],
      [[5, 6], [5]],
    ];
    frames.forEach(([speakers, unmixed], sequence) => {
      slot.fill(viewOf(sequence, speakers, unmixed));
      expect(slot.sequence).toBe(sequence);
      expect([...slot.activeSpeakers]).toEqual(speakers);
      expect(slot.unmixed.map((u) => u.speakerId)).toEqual(unmixed);
      for (const u of slot.unmixed) expect(u.pcm.every((b) => b === (u.speakerId & 0xff))).toBe(true);
      expect(slot.pcm.every((b) => b === (sequence & 0xff))).toBe(true);
    });
    slot.conceal(99, 0);
    expect(slot.activeSpeakers).toEqual([]);
    expect(slot.unmixed).toEqual([]);
    slot.fill(viewOf(100, [3, 4], [3]));
    expect([...slot.activeSpeakers]).toEqual([3, 4]);
    expect(slot.unmixed.map((u) => u.speakerId)).toEqual([3]);
  });
});
