import { BridgeProtocolError, type BridgeProtocolReason } from "./bridge-protocol-error.js";
import { MAX_UNMIXED_BUFFERS, PCM_FRAME_BYTES } from "./protocol.js";
import { WIRE_LEN, WIRE_VARINT, WireCursor } from "./wire.js";

/** A frame of the batch that was refused (the rest of the batch is still usable). */
export interface InvalidFrame {
  reason: BridgeProtocolReason;
  /** Session of the frame when it could be read before the problem, else 0. */
  session: number;
  message: string;
}

const copyBytes = Buffer.prototype.copy;

/**
 * Reads the frames of an encoded FrameBatch in place, without allocating per frame.
 *
 * `reset()` validates the whole batch once (structure, pcm lengths, sessions, unmixed count)
 * and remembers where each good frame lies; `next()` then positions the reader on each good
 * frame in order and exposes its fields. PCM is never copied: `pcmOffset` is where the
 * frame's 640 bytes start inside `buffer`, or use `copyPcm()`. Everything read is valid only
 * until the next `reset()` (the buffer belongs to the socket that received it).
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
  /** 100-ns platform ticks; exact below 2^53 (about 28 years of ticks). */
  timestampTicks = 0;
  isSilence = false;
  /** Offset of the frame's 640 PCM bytes inside `buffer`. */
  pcmOffset = 0;
  activeSpeakerCount = 0;
  /** Active speaker source ids; the first activeSpeakerCount entries are current. */
  activeSpeakers: Uint32Array = new Uint32Array(16);
  unmixedCount = 0;
  readonly unmixedSpeakerIds = new Uint32Array(MAX_UNMIXED_BUFFERS);
  readonly unmixedPcmOffsets = new Int32Array(MAX_UNMIXED_BUFFERS);
  readonly unmixedTimestampTicks = new Float64Array(MAX_UNMIXED_BUFFERS);

  private readonly cursor = new WireCursor();
  private readonly frameCursor = new WireCursor();
  private starts = new Int32Array(64);
  private ends = new Int32Array(64);
  private nextIndex = 0;

  /**
   * Positions the reader on the FrameBatch encoded in buffer[start, end). Returns false when
   * the batch structure is broken (see `error`); bad frames inside a sound batch are skipped.
   */
  reset(buffer: Uint8Array, start = 0, end: number = buffer.length): boolean {
    this.buffer = buffer;
    this.sentAtUs = 0;
    this.frameCount = 0;
    this.nextIndex = 0;
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
        if (problem === null) this.remember(frameStart, frameEnd);
        else
          this.invalidFrames.push({
            reason: problem,
            session: this.session,
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
    // Validated in reset(): cannot fail now.
    this.parseFrame(this.starts[i] as number, this.ends[i] as number);
    return true;
  }

  /** Starts the iteration over from the first frame. */
  rewind(): void {
    this.nextIndex = 0;
  }

  /** Copies the current frame's 640 PCM bytes into target at targetOffset (no allocation). */
  copyPcm(target: Uint8Array, targetOffset = 0): void {
    copyBytes.call(this.buffer, target, targetOffset, this.pcmOffset, this.pcmOffset + PCM_FRAME_BYTES);
  }

  /** Copies unmixed buffer i's 640 PCM bytes into target at targetOffset. */
  copyUnmixedPcm(i: number, target: Uint8Array, targetOffset = 0): void {
    const offset = this.unmixedPcmOffsets[i] as number;
    copyBytes.call(this.buffer, target, targetOffset, offset, offset + PCM_FRAME_BYTES);
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

  private remember(start: number, end: number): void {
    if (this.frameCount === this.starts.length) {
      // Rare: more frames in one batch than ever before; grow once.
      const starts = new Int32Array(this.starts.length * 2);
      const ends = new Int32Array(this.ends.length * 2);
      starts.set(this.starts);
      ends.set(this.ends);
      this.starts = starts;
      this.ends = ends;
    }
    this.starts[this.frameCount] = start;
    this.ends[this.frameCount] = end;
    this.frameCount++;
  }

  private clearFrame(): void {
    this.session = 0;
    this.context = 0;
    this.sequence = 0;
    this.timestampTicks = 0;
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
            break;
          case 4:
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
    let timestamp = 0;
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
        timestamp = c.int64;
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
    this.unmixedTimestampTicks[i] = timestamp;
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
