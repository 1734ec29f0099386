/**
 * Audio for the end-to-end tests: speech-like noise WAVs each speaker sends, and the check that
 * a recorded file holds exactly what a speaker sent.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { pcm16kWavHeader } from "../../src/media/wav-writer.js";

/** One 20 ms frame of 16 kHz mono PCM16. */
export const FRAME_BYTES = 640;

/**
 * Writes `seconds` of speech-like noise (seeded white noise under a syllable-rate envelope, never
 * a silent frame) as a 16 kHz mono WAV; the seed makes each speaker's samples their own.
 */
export function writeSpeechLikeWav(dir: string, seed: number, seconds: number): string {
  let state = seed >>> 0 || 1;
  const next = () => {
    // xorshift32: a deterministic noise source of our own.
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x1_0000_0000;
  };
  const samples = seconds * 16_000;
  const pcm = Buffer.alloc(samples * 2);
  const syllableHz = 3 + (seed % 5);
  for (let i = 0; i < samples; i++) {
    const envelope = 1500 + 6000 * Math.abs(Math.sin((Math.PI * syllableHz * i) / 16_000));
    const value = Math.round(envelope * (2 * next() - 1));
    pcm.writeInt16LE(value === 0 ? 1 : value, 2 * i);
  }
  const file = path.join(dir, `speaker-${seed}.wav`);
  writeFileSync(file, Buffer.concat([pcm16kWavHeader(pcm.length), pcm]));
  return file;
}

export interface Alignment {
  /** Byte offset in the recording of the speaker's first frame (silence before it). */
  recordedFrom: number;
  /** Byte offset in the source WAV's PCM that the recording's first audible frame is. */
  sourceOffset: number;
  /** Frames compared. */
  frames: number;
}

/**
 * Checks that `recorded` (a speaker's file: silence until first heard, then their audio) is,
 * from its first non-silent frame to its end, byte for byte the looped `source` starting at one
 * offset, and returns where. The offset is found from the data alone: the first audible 640-byte
 * frame of the recording must occur exactly once in the source (looped, so a frame across the
 * loop point is found as well); noise makes a second occurrence practically impossible and the
 * uniqueness is checked, not assumed. Every byte after it is then compared, with no tolerance.
 * Throws an Error saying what differs.
 */
export function alignAndCompare(recorded: Buffer, source: Buffer): Alignment {
  let recordedFrom = -1;
  for (let at = 0; at + FRAME_BYTES <= recorded.length; at += FRAME_BYTES) {
    if (recorded.subarray(at, at + FRAME_BYTES).some((byte) => byte !== 0)) {
      recordedFrom = at;
      break;
    }
  }
  if (recordedFrom < 0) throw new Error("the recording is silent");
  const first = recorded.subarray(recordedFrom, recordedFrom + FRAME_BYTES);
  const looped = Buffer.concat([source, source.subarray(0, FRAME_BYTES)]);
  const matches: number[] = [];
  for (let at = looped.indexOf(first); at >= 0; at = looped.indexOf(first, at + 1)) {
    if (at % 2 === 0 && at < source.length) matches.push(at);
  }
  if (matches.length !== 1)
    throw new Error(`the recording's first frame occurs ${matches.length} times in the source, not once`);
  const sourceOffset = matches[0] as number;
  const span = recorded.length - recordedFrom;
  if (span % FRAME_BYTES !== 0) throw new Error(`the recording's span (${span} bytes) is not whole frames`);
  for (let i = 0; i < span; i++) {
    const got = recorded[recordedFrom + i];
    const want = source[(sourceOffset + i) % source.length];
    if (got !== want)
      throw new Error(
        `byte ${i} of the recorded span (frame ${Math.floor(i / FRAME_BYTES)} of ${span / FRAME_BYTES}) differs: ${got} != ${want}`,
      );
  }
  return { recordedFrom, sourceOffset, frames: span / FRAME_BYTES };
}
