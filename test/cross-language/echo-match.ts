/**
 * Checks that audio played back by the far end (the frames a media platform was sent) is the
 * audio it delivered, echoed sample for sample on the same timeline: every rendered 20 ms frame
 * is the next frame of the looped source, aligned by the first frame that is not silence.
 * Frames the echo path skipped (trimmed or dropped, each counted by a metric) and frames
 * concealed as silence are reported, never matched loosely.
 */

export const FRAME_BYTES = 640;

export interface EchoMatch {
  /** Frames of the rendered audio examined. */
  frames: number;
  /** Source frame index (from the start of the call's source) of the first rendered frame. */
  firstSourceFrame: number | null;
  /** Rendered frames equal, byte for byte, to the source frame expected at their place. */
  matched: number;
  /** Source frames the rendered audio skipped over (the echo path dropped them). */
  skipped: number;
  /** Rendered frames of silence where the source had sound (a concealed loss). */
  concealed: number;
  /** Index of the first rendered frame that matches nothing, or null. */
  mismatchAt: number | null;
}

/** Source frame n of a looped PCM buffer (as a fake platform's WAV source reads it). */
export function sourceFrame(source: Uint8Array, n: number, into: Uint8Array = new Uint8Array(FRAME_BYTES)) {
  let offset = (n * FRAME_BYTES) % source.length;
  let written = 0;
  while (written < FRAME_BYTES) {
    const count = Math.min(FRAME_BYTES - written, source.length - offset);
    into.set(source.subarray(offset, offset + count), written);
    written += count;
    offset = (offset + count) % source.length;
  }
  return into;
}

function isSilent(frame: Uint8Array): boolean {
  for (let i = 0; i < frame.length; i++) if (frame[i] !== 0) return false;
  return true;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

/**
 * @param source the looped source PCM (16-bit mono) the far end delivered from the call's start
 * @param rendered the PCM the far end was sent, frames back to back
 * @param options searchFrames: how far into the source the first echoed frame may be;
 *   maxSkip: the longest run of source frames a gap may skip
 */
export function matchEcho(
  source: Uint8Array,
  rendered: Uint8Array,
  options: { searchFrames?: number; maxSkip?: number } = {},
): EchoMatch {
  if (source.length < FRAME_BYTES) throw new RangeError("source holds less than one frame");
  if (rendered.length % FRAME_BYTES !== 0) throw new RangeError("rendered audio is not whole 20 ms frames");
  const searchFrames = options.searchFrames ?? 3000;
  const maxSkip = options.maxSkip ?? 50;
  const frames = rendered.length / FRAME_BYTES;
  const result: EchoMatch = {
    frames,
    firstSourceFrame: null,
    matched: 0,
    skipped: 0,
    concealed: 0,
    mismatchAt: null,
  };
  const frame = (j: number) => rendered.subarray(j * FRAME_BYTES, (j + 1) * FRAME_BYTES);
  const first = Array.from({ length: frames }, (_, j) => j).find((j) => !isSilent(frame(j)));
  if (first === undefined) return result;
  const scratch = new Uint8Array(FRAME_BYTES);
  let at = -1;
  for (let k = 0; k < searchFrames; k++) {
    if (equal(sourceFrame(source, k, scratch), frame(first))) {
      at = k;
      break;
    }
  }
  if (at < 0) {
    result.mismatchAt = first;
    return result;
  }
  // The rendered frames before the first sound are the source's own silence just before it.
  let position = at - first;
  if (position < 0) {
    result.mismatchAt = 0;
    return result;
  }
  result.firstSourceFrame = position;
  for (let j = 0; j < frames; j++, position++) {
    const got = frame(j);
    if (equal(sourceFrame(source, position, scratch), got)) {
      result.matched++;
      continue;
    }
    // Silence where the source had sound stands in for that frame (a concealed loss); looking
    // ahead for it would find any silent stretch of the source instead.
    if (isSilent(got)) {
      result.concealed++;
      continue;
    }
    let skip = 1;
    while (skip <= maxSkip && !equal(sourceFrame(source, position + skip, scratch), got)) skip++;
    if (skip <= maxSkip) {
      result.skipped += skip;
      position += skip;
      result.matched++;
    } else {
      result.mismatchAt = j;
      return result;
    }
  }
  return result;
}
