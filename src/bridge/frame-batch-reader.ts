import { BridgeProtocolError, type BridgeProtocolReason } from "./bridge-protocol-error.js";
import { int64ToNumber } from "./int64-parts.js";
import { copyFrameBetween, PcmCopier } from "./pcm-copy.js";
import { MAX_UNMIXED_BUFFERS, PCM_FRAME_BYTES } from "./protocol.js";
import { WIRE_LEN, WIRE_VARINT, WireCursor } from "./wire.js";

/** A frame of the batch that was refused (the rest of the batch is still usable). */
export interface InvalidFrame {
  reason: BridgeProtocolReason;
  /** Session of the frame when it could be read before the problem, else 0. */
  session: number;
  /**
   * Sequence of the frame when it is known: read before the problem, or absent (0) from a frame
   * read to its end; else -1. With a session, it names the place in the stream the frame leaves
   * empty, which its receiver gives up on at once (see the .proto's AudioFrame).
   */
  sequence: number;
  message: string;
}

/** Frames a batch holds before the per-frame tables grow (they double, then stay). */
const INITIAL_FRAMES = 64;

/**
 * Reads the frames of an encoded FrameBatch in place, without allocating per frame.
 *
 * `reset()` parses and validates the whole batch once (structure, pcm lengths, sessions,
 * unmixed count) and records each good frame's fields in preallocated tables; `next()` then
 * loads the next good frame's fields from them, without parsing again. PCM is never copied:
 * `pcmOffset` is where the frame's 640 bytes start inside `buffer`, or use `copyPcm()`.
 * Everything read is valid only until the next `reset()` (the buffer belongs to the socket
 * that received it).
 *
 * Frames that break the rules are skipped and listed in `invalidFrames` (one bad session's
 * frame must not cost the other sessions theirs); a batch whose own structure is broken is
 * refused as a whole (`reset()` returns false, `error` says why).
 */
export class FrameBatchReader {
  /** The buffer the current batch lives in. */
  buffer: Uint8Array = new Uint8Array(0);
  /** FrameBatch.sent_at_us of the current batch (sender's clock, µs). */
  sentAtUs = 0;
  /** Good frames in the batch. */
  frameCount = 0;
  /** Refused frames of the batch (allocated only when a frame is bad). */
  readonly invalidFrames: InvalidFrame[] = [];
  /** Why the last reset() returned false. */
  error: BridgeProtocolError | null = null;

  // Current frame (after next()).
  session = 0;
  context = 0;
  sequence = 0;
  /**
   * 100-ns platform ticks as the nearest number: exact below 2^53 only. The real platform's
   * ticks (DateTime-style, about 6.39e17) are above it; timestampTicksHigh/Low are exact.
   */
  timestampTicks = 0;
  /** High 32 bits (unsigned, two's complement) of the frame's int64 timestamp_ticks. */
  timestampTicksHigh = 0;
  /** Low 32 bits (unsigned) of the frame's int64 timestamp_ticks. */
  timestampTicksLow = 0;
  isSilence = false;
  /** Offset of the frame's 640 PCM bytes inside `buffer`. */
  pcmOffset = 0;
  activeSpeakerCount = 0;
  /** Active speaker source ids; the first activeSpeakerCount entries are current. */
  activeSpeakers: Uint32Array = new Uint32Array(16);
  unmixedCount = 0;
  readonly unmixedSpeakerIds = new Uint32Array(MAX_UNMIXED_BUFFERS);
  readonly unmixedPcmOffsets = new Int32Array(MAX_UNMIXED_BUFFERS);
  /** Unmixed buffers' original_sender_timestamp_ticks as nearest numbers (exact below 2^53). */
  readonly unmixedTimestampTicks = new Float64Array(MAX_UNMIXED_BUFFERS);
  /** The same, exact: high and low 32 bits of each int64 (see timestampTicksHigh). */
  readonly unmixedTimestampTicksHigh = new Uint32Array(MAX_UNMIXED_BUFFERS);
  readonly unmixedTimestampTicksLow = new Uint32Array(MAX_UNMIXED_BUFFERS);

  private readonly cursor = new WireCursor();
  private readonly frameCursor = new WireCursor();
  /** The frame parseFrame() read last had its sequence read, or was read to its end. */
  private sequenceKnown = false;
  private nextIndex = 0;
  private readonly copier = new PcmCopier();
  /** DataView of `buffer`'s ArrayBuffer, made on the first copy from a new buffer. */
  private bufferView: DataView | null = null;

  // Fields of the good frames, recorded by reset(), indexed by frame.
  private capacity = INITIAL_FRAMES;
  private sessions = new Uint32Array(INITIAL_FRAMES);
  private contexts = new Int32Array(INITIAL_FRAMES);
  private sequences = new Uint32Array(INITIAL_FRAMES);
  private timestampsHigh = new Uint32Array(INITIAL_FRAMES);
  private timestampsLow = new Uint32Array(INITIAL_FRAMES);
  private silences = new Uint8Array(INITIAL_FRAMES);
  private pcmOffsets = new Int32Array(INITIAL_FRAMES);
  /** Frame i's active speakers are speakerPool[speakerStarts[i], speakerStarts[i] + speakerCounts[i]). */
  private speakerStarts = new Int32Array(INITIAL_FRAMES);
  private speakerCounts = new Int32Array(INITIAL_FRAMES);
  private speakerPool = new Uint32Array(INITIAL_FRAMES * 4);
  private speakerPoolUsed = 0;
  private unmixedCounts = new Uint8Array(INITIAL_FRAMES);
  /** Frame i's unmixed buffer u is at index i * MAX_UNMIXED_BUFFERS + u. */
  private unmixedIds = new Uint32Array(INITIAL_FRAMES * MAX_UNMIXED_BUFFERS);
  private unmixedOffsets = new Int32Array(INITIAL_FRAMES * MAX_UNMIXED_BUFFERS);
  private unmixedTimestampsHigh = new Uint32Array(INITIAL_FRAMES * MAX_UNMIXED_BUFFERS);
  private unmixedTimestampsLow = new Uint32Array(INITIAL_FRAMES * MAX_UNMIXED_BUFFERS);

  /**
   * Positions the reader on the FrameBatch encoded in buffer[start, end). Returns false when
   * the batch structure is broken (see `error`); bad frames inside a sound batch are skipped.
   */
  reset(buffer: Uint8Array, start = 0, end: number = buffer.length): boolean {
    if (buffer.buffer !== this.buffer.buffer || buffer.byteOffset !== this.buffer.byteOffset)
      this.bufferView = null;
    this.buffer = buffer;
    this.sentAtUs = 0;
    this.frameCount = 0;
    this.nextIndex = 0;
    this.speakerPoolUsed = 0;
    this.error = null;
    if (this.invalidFrames.length > 0) this.invalidFrames.length = 0;
    const c = this.cursor;
    c.reset(buffer, start, end);
    while (c.pos < c.end) {
      if (!c.varint()) return this.structural();
      const field = c.lo >>> 3;
      const wireType = c.lo & 7;
      if (field === 1 && wireType === WIRE_LEN) {
        if (!c.length()) return this.structural();
        const frameStart = c.pos;
        const frameEnd = c.pos + c.lo;
        c.pos = frameEnd;
        const problem = this.parseFrame(frameStart, frameEnd);
        if (problem === null) this.remember();
        else
          this.invalidFrames.push({
            reason: problem,
            session: this.session,
            sequence: this.sequenceKnown ? this.sequence : -1,
            message: this.problemText(problem),
          });
      } else if (field === 2 && wireType === WIRE_VARINT) {
        if (!c.varint()) return this.structural();
        this.sentAtUs = c.int64;
      } else if (field === 0) {
        c.failure = "bad_wire_type";
        return this.structural();
      } else if (!c.skip(wireType)) {
        return this.structural();
      }
    }
    this.clearFrame();
    return true;
  }

  /** Moves to the next good frame; false when there is none. */
  next(): boolean {
    if (this.nextIndex >= this.frameCount) return false;
    const i = this.nextIndex++;
    this.session = this.sessions[i] as number;
    this.context = this.contexts[i] as number;
    this.sequence = this.sequences[i] as number;
    const high = this.timestampsHigh[i] as number;
    const low = this.timestampsLow[i] as number;
    this.timestampTicksHigh = high;
    this.timestampTicksLow = low;
    this.timestampTicks = int64ToNumber(high, low);
    this.isSilence = this.silences[i] === 1;
    this.pcmOffset = this.pcmOffsets[i] as number;
    const speakers = this.speakerCounts[i] as number;
    if (speakers > this.activeSpeakers.length) this.activeSpeakers = new Uint32Array(speakers * 2);
    const from = this.speakerStarts[i] as number;
    for (let k = 0; k < speakers; k++) this.activeSpeakers[k] = this.speakerPool[from + k] as number;
    this.activeSpeakerCount = speakers;
    const unmixed = this.unmixedCounts[i] as number;
    const base = i * MAX_UNMIXED_BUFFERS;
    for (let u = 0; u < unmixed; u++) {
      this.unmixedSpeakerIds[u] = this.unmixedIds[base + u] as number;
      this.unmixedPcmOffsets[u] = this.unmixedOffsets[base + u] as number;
      const uHigh = this.unmixedTimestampsHigh[base + u] as number;
      const uLow = this.unmixedTimestampsLow[base + u] as number;
      this.unmixedTimestampTicksHigh[u] = uHigh;
      this.unmixedTimestampTicksLow[u] = uLow;
      this.unmixedTimestampTicks[u] = int64ToNumber(uHigh, uLow);
    }
    this.unmixedCount = unmixed;
    return true;
  }

  /** Starts the iteration over from the first frame. */
  rewind(): void {
    this.nextIndex = 0;
  }

  /** Copies the current frame's 640 PCM bytes into target at targetOffset (no allocation). */
  copyPcm(target: Uint8Array, targetOffset = 0): void {
    this.copyOut(this.pcmOffset, target, targetOffset);
  }

  /** Copies unmixed buffer i (< unmixedCount) of the current frame into target at targetOffset. */
  copyUnmixedPcm(i: number, target: Uint8Array, targetOffset = 0): void {
    if (!(i >= 0 && i < this.unmixedCount))
      throw new RangeError(`the frame has ${this.unmixedCount} unmixed buffers, not ${i + 1}`);
    this.copyOut(this.unmixedPcmOffsets[i] as number, target, targetOffset);
  }

  private copyOut(offset: number, target: Uint8Array, targetOffset: number): void {
    if (targetOffset < 0 || targetOffset + PCM_FRAME_BYTES > target.length) {
      throw new RangeError(`${PCM_FRAME_BYTES} bytes do not fit at ${targetOffset} in ${target.length}`);
    }
    const buffer = this.buffer;
    if (this.bufferView === null)
      this.bufferView = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    const copier = this.copier;
    copyFrameBetween(this.bufferView, offset, copier.viewOf(target.buffer), target.byteOffset + targetOffset);
  }

  /** A view of the current frame's PCM (allocates a view object; not for per-frame hot paths). */
  pcm(): Uint8Array {
    return this.buffer.subarray(this.pcmOffset, this.pcmOffset + PCM_FRAME_BYTES);
  }

  private structural(): false {
    const c = this.cursor;
    this.error = new BridgeProtocolError(
      c.failure,
      c.failure === "truncated"
        ? `frame batch truncated at byte ${c.failureAt}`
        : `frame batch has a bad field at byte ${c.failureAt}`,
    );
    this.frameCount = 0;
    this.clearFrame();
    return false;
  }

  /** Records the frame parseFrame() just read as good frame number frameCount. */
  private remember(): void {
    const i = this.frameCount;
    if (i === this.capacity) this.grow();
    this.sessions[i] = this.session;
    this.contexts[i] = this.context;
    this.sequences[i] = this.sequence;
    this.timestampsHigh[i] = this.timestampTicksHigh;
    this.timestampsLow[i] = this.timestampTicksLow;
    this.silences[i] = this.isSilence ? 1 : 0;
    this.pcmOffsets[i] = this.pcmOffset;
    const speakers = this.activeSpeakerCount;
    if (this.speakerPoolUsed + speakers > this.speakerPool.length) {
      const pool = new Uint32Array(Math.max(this.speakerPool.length * 2, this.speakerPoolUsed + speakers));
      pool.set(this.speakerPool.subarray(0, this.speakerPoolUsed));
      this.speakerPool = pool;
    }
    this.speakerStarts[i] = this.speakerPoolUsed;
    this.speakerCounts[i] = speakers;
    for (let k = 0; k < speakers; k++)
      this.speakerPool[this.speakerPoolUsed++] = this.activeSpeakers[k] as number;
    const unmixed = this.unmixedCount;
    this.unmixedCounts[i] = unmixed;
    const base = i * MAX_UNMIXED_BUFFERS;
    for (let u = 0; u < unmixed; u++) {
      this.unmixedIds[base + u] = this.unmixedSpeakerIds[u] as number;
      this.unmixedOffsets[base + u] = this.unmixedPcmOffsets[u] as number;
      this.unmixedTimestampsHigh[base + u] = this.unmixedTimestampTicksHigh[u] as number;
      this.unmixedTimestampsLow[base + u] = this.unmixedTimestampTicksLow[u] as number;
    }
    this.frameCount = i + 1;
  }

  /** Rare: more frames in one batch than ever before; the tables double once. */
  private grow(): void {
    const n = this.capacity * 2;
    const u = MAX_UNMIXED_BUFFERS;
    this.sessions = grown(this.sessions, new Uint32Array(n));
    this.contexts = grown(this.contexts, new Int32Array(n));
    this.sequences = grown(this.sequences, new Uint32Array(n));
    this.timestampsHigh = grown(this.timestampsHigh, new Uint32Array(n));
    this.timestampsLow = grown(this.timestampsLow, new Uint32Array(n));
    this.silences = grown(this.silences, new Uint8Array(n));
    this.pcmOffsets = grown(this.pcmOffsets, new Int32Array(n));
    this.speakerStarts = grown(this.speakerStarts, new Int32Array(n));
    this.speakerCounts = grown(this.speakerCounts, new Int32Array(n));
    this.unmixedCounts = grown(this.unmixedCounts, new Uint8Array(n));
    this.unmixedIds = grown(this.unmixedIds, new Uint32Array(n * u));
    this.unmixedOffsets = grown(this.unmixedOffsets, new Int32Array(n * u));
    this.unmixedTimestampsHigh = grown(this.unmixedTimestampsHigh, new Uint32Array(n * u));
    this.unmixedTimestampsLow = grown(this.unmixedTimestampsLow, new Uint32Array(n * u));
    this.capacity = n;
  }

  private clearFrame(): void {
    this.session = 0;
    this.context = 0;
    this.sequence = 0;
    this.timestampTicks = 0;
    this.timestampTicksHigh = 0;
    this.timestampTicksLow = 0;
    this.isSilence = false;
    this.pcmOffset = 0;
    this.activeSpeakerCount = 0;
    this.unmixedCount = 0;
  }

  private problemText(reason: BridgeProtocolReason): string {
    switch (reason) {
      case "bad_pcm_length":
        return `frame pcm must be ${PCM_FRAME_BYTES} bytes`;
      case "too_many_unmixed":
        return `frame has more than ${MAX_UNMIXED_BUFFERS} unmixed buffers`;
      case "zero_session":
        return "frame has no session";
      case "truncated":
        return `frame truncated at byte ${this.frameCursor.failureAt}`;
      default:
        return `frame has a bad field at byte ${this.frameCursor.failureAt}`;
    }
  }

  /** Parses one AudioFrame into the current-frame fields; returns why it is bad, or null. */
  private parseFrame(start: number, end: number): BridgeProtocolReason | null {
    this.clearFrame();
    this.sequenceKnown = false;
    const c = this.frameCursor;
    c.reset(this.buffer, start, end);
    let pcmLength = -1;
    while (c.pos < c.end) {
      if (!c.varint()) return c.failure;
      const field = c.lo >>> 3;
      const wireType = c.lo & 7;
      if (wireType === WIRE_VARINT && field >= 1 && field <= 7 && field !== 5) {
        if (!c.varint()) return c.failure;
        switch (field) {
          case 1:
            this.session = c.uint32;
            break;
          case 2:
            this.context = c.lo | 0;
            break;
          case 3:
            this.sequence = c.uint32;
            this.sequenceKnown = true;
            break;
          case 4:
            this.timestampTicksHigh = c.hi;
            this.timestampTicksLow = c.lo;
            this.timestampTicks = c.int64;
            break;
          case 6:
            this.isSilence = c.lo !== 0 || c.hi !== 0;
            break;
          case 7:
            this.pushSpeaker(c.uint32);
            break;
        }
      } else if (wireType === WIRE_LEN && (field === 5 || field === 7 || field === 8)) {
        if (!c.length()) return c.failure;
        const payloadStart = c.pos;
        const payloadEnd = c.pos + c.lo;
        if (field === 5) {
          this.pcmOffset = payloadStart;
          pcmLength = c.lo;
          c.pos = payloadEnd;
        } else if (field === 7) {
          // Packed active speakers.
          while (c.pos < payloadEnd) {
            const outer = c.end;
            c.end = payloadEnd;
            const ok = c.varint();
            c.end = outer;
            if (!ok) return c.failure;
            this.pushSpeaker(c.uint32);
          }
        } else {
          if (this.unmixedCount === MAX_UNMIXED_BUFFERS) return "too_many_unmixed";
          const problem = this.parseUnmixed(payloadStart, payloadEnd);
          if (problem !== null) return problem;
          c.pos = payloadEnd;
        }
      } else if (field === 0) {
        c.failure = "bad_wire_type";
        return c.failure;
      } else if (!c.skip(wireType)) {
        return c.failure;
      }
    }
    // Read to its end: a sequence not on the wire is 0 (proto3 leaves zero values out).
    this.sequenceKnown = true;
    if (pcmLength !== PCM_FRAME_BYTES) return "bad_pcm_length";
    if (this.session === 0) return "zero_session";
    return null;
  }

  private parseUnmixed(start: number, end: number): BridgeProtocolReason | null {
    const c = this.frameCursor;
    const outerPos = c.pos;
    const outerEnd = c.end;
    c.pos = start;
    c.end = end;
    const i = this.unmixedCount;
    let speaker = 0;
    let pcmOffset = -1;
    let pcmLength = -1;
    let timestampHigh = 0;
    let timestampLow = 0;
    while (c.pos < c.end) {
      if (!c.varint()) return c.failure;
      const field = c.lo >>> 3;
      const wireType = c.lo & 7;
      if (field === 1 && wireType === WIRE_VARINT) {
        if (!c.varint()) return c.failure;
        speaker = c.uint32;
      } else if (field === 2 && wireType === WIRE_LEN) {
        if (!c.length()) return c.failure;
        pcmOffset = c.pos;
        pcmLength = c.lo;
        c.pos += c.lo;
      } else if (field === 3 && wireType === WIRE_VARINT) {
        if (!c.varint()) return c.failure;
        timestampHigh = c.hi;
        timestampLow = c.lo;
      } else if (field === 0) {
        c.failure = "bad_wire_type";
        return c.failure;
      } else if (!c.skip(wireType)) {
        return c.failure;
      }
    }
    if (pcmLength !== PCM_FRAME_BYTES) return "bad_pcm_length";
    this.unmixedSpeakerIds[i] = speaker;
    this.unmixedPcmOffsets[i] = pcmOffset;
    this.unmixedTimestampTicksHigh[i] = timestampHigh;
    this.unmixedTimestampTicksLow[i] = timestampLow;
    this.unmixedTimestampTicks[i] = int64ToNumber(timestampHigh, timestampLow);
    this.unmixedCount = i + 1;
    c.pos = outerPos;
    c.end = outerEnd;
    return null;
  }

  private pushSpeaker(id: number): void {
    if (this.activeSpeakerCount === this.activeSpeakers.length) {
      const grown = new Uint32Array(this.activeSpeakers.length * 2);
      grown.set(this.activeSpeakers);
      this.activeSpeakers = grown;
    }
    this.activeSpeakers[this.activeSpeakerCount++] = id;
  }
}

function grown<T extends { set(source: ArrayLike<number>): void }>(from: ArrayLike<number>, to: T): T {
  to.set(from);
  return to;
}
