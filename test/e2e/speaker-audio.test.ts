/**
 * The e2e recording check itself: alignAndCompare finds a speaker's audio at any offset (also
 * across the loop point) after leading silence, and refuses one changed sample, a lost frame,
 * another speaker's audio and a silent file.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readPcm16kWav } from "../../src/media/wav-file.js";
import { alignAndCompare, FRAME_BYTES, writeSpeechLikeWav } from "./speaker-audio.js";

const dir = mkdtempSync(path.join(tmpdir(), "speaker-audio-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `silentFrames` of silence, then `frames` of the source from frame `from`, looping. */
function recording(source: Buffer, silentFrames: number, from: number, frames: number): Buffer {
  const out = Buffer.alloc((silentFrames + frames) * FRAME_BYTES);
  for (let i = 0; i < frames * FRAME_BYTES; i++)
    out[silentFrames * FRAME_BYTES + i] = source[(from * FRAME_BYTES + i) % source.length] as number;
  return out;
}

describe("alignAndCompare", () => {
  it("aligns after leading silence, across the loop point, and refuses any difference", async () => {
    const a = await readPcm16kWav(writeSpeechLikeWav(dir, 1, 2));
    const b = await readPcm16kWav(writeSpeechLikeWav(dir, 2, 2));
    const frames = a.length / FRAME_BYTES;
    expect(alignAndCompare(recording(a, 7, 30, 60), a)).toEqual({
      recordedFrom: 7 * FRAME_BYTES,
      sourceOffset: 30 * FRAME_BYTES,
      frames: 60,
    });
    // Starts 5 frames before the end of the file and goes on from its start.
    expect(alignAndCompare(recording(a, 0, frames - 5, 40), a).sourceOffset).toBe((frames - 5) * FRAME_BYTES);

    const changed = recording(a, 3, 10, 50);
    const at = 3 * FRAME_BYTES + 20 * FRAME_BYTES + 7;
    changed[at] = (changed[at] as number) ^ 1;
    expect(() => alignAndCompare(changed, a)).toThrow(/\(frame 20 of 50\) differs/);
    // A frame lost in the middle (the rest one frame early) is not the speaker's audio.
    const lost = Buffer.concat([recording(a, 0, 10, 20), recording(a, 0, 31, 20)]);
    expect(() => alignAndCompare(lost, a)).toThrow(/differs/);
    expect(() => alignAndCompare(recording(b, 2, 10, 20), a)).toThrow(/occurs 0 times/);
    expect(() => alignAndCompare(Buffer.alloc(10 * FRAME_BYTES), a)).toThrow(/silent/);
  });
});
