import { int64High, int64Low } from "./int64-parts.js";
import { copyFrameBetween, PcmCopier } from "./pcm-copy.js";
import { BODY_FIELD, MAX_FRAME_BATCH_BYTES, MAX_UNMIXED_BUFFERS, PCM_FRAME_BYTES } from "./protocol.js";
import type { PooledSendBuffer, SendBufferPool } from "./send-buffer-pool.js";
import {
  varint32Size,
  varint64PartsSize,
  varint64Size,
  WIRE_LEN,
  WIRE_VARINT,
  writeVarint32,
  writeVarint64,
  writeVarint64Parts,
} from "./wire.js";

/** Envelope tag + FrameBatch length varint fit in 6 bytes in front of the frames. */
const HEADER_RESERVE = 6;
/** Frames are written behind a 2-byte length and moved only when the length needs another size. */
const FRAME_LENGTH_RESERVE = 2;
const ENVELOPE_FRAMES_TAG = (BODY_FIELD.frames << 3) | WIRE_LEN;
const BATCH_FRAME_TAG = (1 << 3) | WIRE_LEN;
const BATCH_SENT_AT_TAG = (2 << 3) | WIRE_VARINT;
/** Worst case of one frame's fixed fields: tags, 5 varints, pcm with its length, is_silence. */
const FRAME_FIXED_MAX = FRAME_LENGTH_RESERVE + 1 + 5 * 2 + 5 + 11 + 3 + PCM_FRAME_BYTES + 2;
const UNMIXED_MAX = 1 + 2 + 1 + 5 + 3 + PCM_FRAME_BYTES + 11;
/** sent_at_us written by finish(): tag + a 10-byte varint at most. */
const TRAILER_MAX = 11;
/** A frame whose length needs more than its 2 reserved bytes moves by up to 3. */
const FRAME_SHIFT_MAX = 3;

export interface FrameBatchWriterOptions {
  /**
   * How many output buffers rotate. finish() returns a view into one of them that stays
   * intact until `ringSize` more batches are finished. ws copies client frames while masking
   * them, but a server socket writes the caller's bytes as they are, possibly later; the ring
   * covers that as long as a socket never holds more than ringSize - 1 unsent batches (callers
   * drop batches long before that, on bufferedAmount). Default 4.
   */
  ringSize?: number;
  /** Initial capacity of each buffer; grows by doubling when a batch needs more. Default 64 KiB. */
  initialCapacity?: number;
  /**
   * Splits the batch: before a frame that might not fit under `maxMessageBytes` (room is kept
   * for the frame with four unmixed buffers), the batch so far is finished and handed to
   * onFull, and a new batch with the same sent_at_us takes the frame. Without it, one batch
   * holds whatever is added (tests, tools). onFull must not call the writer; the bytes stay
   * intact as finish()'s do (see ringSize).
   */
  onFull?: (bytes: Uint8Array, frameCount: number, release: (() => void) | null) => void;
  /** Largest message onFull keeps batches under. Default MAX_FRAME_BATCH_BYTES (256 KiB). */
  maxMessageBytes?: number;
  /**
   * Batches are written into buffers of this pool instead of the ring, and each finished
   * batch's buffer belongs to the caller until it calls `finishedRelease` (onFull gets it as
   * `release`): a socket can write the bytes as they are, when it can, with no copy (see
   * BridgeClient.sendFrameBatch). Its buffers should hold maxMessageBytes (then a batch split
   * by onFull always fits one); a larger batch moves to a one-off buffer.
   */
  sendBuffers?: SendBufferPool;
}

/**
 * Writes an Envelope{frames: FrameBatch} in plain protobuf wire format, byte for byte what the
 * generated code writes for the same values (proto3 defaults omitted, fields in number order),
 * into reusable buffers: nothing is allocated per frame (PCM is copied without a view object,
 * see pcm-copy.ts), one view object per batch.
 *
 *   writer.begin(sentAtUs);
 *   writer.addFrame(session, context, sequence, ticks, pcm, pcmOffset, isSilence);
 *   writer.addUnmixed(speakerId, pcm, offset, senderTicks); // 0..4 times, after its frame
 *   const bytes = writer.finish();
 *
 * 64-bit ticks given as numbers are exact below 2^53 only; addFrameExact/addUnmixedExact
 * take them as uint32 halves (see int64-parts.ts), exact for any value: use those to forward
 * a platform timestamp read with FrameBatchReader (timestampTicksHigh/Low).
 *
 * A batch that could exceed the protocol's message limit (many sessions, a late tick) is
 * split into several messages when the writer has an onFull callback.
 */
export class FrameBatchWriter {
  private readonly ring: Uint8Array[];
  /** DataViews of the ring's buffers (PCM is copied through them, see pcm-copy.ts). */
  private readonly ringViews: DataView[];
  private ringIndex = 0;
  private buf: Uint8Array;
  private view: DataView;
  /** DataViews of the callers' PCM buffers. */
  private readonly copier = new PcmCopier();
  private pos = HEADER_RESERVE;
  private sentAtUs = 0;
  /** Where the open frame's reserved length starts, -1 = no open frame. */
  private frameStart = -1;
  private frameUnmixed = 0;
  private open = false;
  /** Frames in the batch being written. */
  frameCount = 0;
  /** Batches handed to onFull so far (split off because the next frame might not fit). */
  splitBatches = 0;
  private readonly onFull:
    | ((bytes: Uint8Array, frameCount: number, release: (() => void) | null) => void)
    | null;
  private readonly maxMessageBytes: number;
  private readonly pool: SendBufferPool | null;
  /** The pooled buffer being written (pool mode). */
  private held: PooledSendBuffer | null = null;
  /**
   * After finish() in pool mode: gives the finished batch's buffer back to the pool; call it
   * once the bytes are sent or dropped. null in ring mode (the ring needs no release).
   */
  finishedRelease: (() => void) | null = null;

  constructor(options: FrameBatchWriterOptions = {}) {
    this.onFull = options.onFull ?? null;
    this.pool = options.sendBuffers ?? null;
    this.maxMessageBytes = Math.floor(options.maxMessageBytes ?? MAX_FRAME_BATCH_BYTES);
    if (!(this.maxMessageBytes >= 4096)) throw new RangeError("maxMessageBytes must be at least 4096");
    // With a pool the batches live in its buffers: no ring.
    const ringSize = this.pool !== null ? 0 : Math.max(1, Math.floor(options.ringSize ?? 4));
    const capacity = Math.max(4096, Math.floor(options.initialCapacity ?? 64 * 1024));
    this.ring = Array.from({ length: ringSize }, () => Buffer.allocUnsafe(capacity));
    this.ringViews = this.ring.map((b) => new DataView(b.buffer, b.byteOffset, b.byteLength));
    this.buf = this.ring[0] ?? new Uint8Array(0);
    this.view = this.ringViews[0] ?? new DataView(new ArrayBuffer(0));
  }

  /** Starts a batch stamped with the sender's clock (µs). */
  begin(sentAtUs: number): void {
    if (this.pool !== null) {
      // A batch begun and never finished gives its buffer back here.
      this.held?.release();
      this.useHeld(this.pool.acquire(this.pool.bufferBytes));
    } else {
      this.buf = this.ring[this.ringIndex] as Uint8Array;
      this.view = this.ringViews[this.ringIndex] as DataView;
    }
    this.pos = HEADER_RESERVE;
    this.sentAtUs = sentAtUs;
    this.frameStart = -1;
    this.frameCount = 0;
    this.open = true;
  }

  /**
   * Appends one AudioFrame. pcm[pcmOffset, pcmOffset + 640) is copied in. activeSpeakers:
   * the first activeSpeakerCount entries are written (packed), default all of them.
   * timestampTicks is exact below 2^53; see addFrameExact for platform ticks.
   */
  addFrame(
    session: number,
    context: number,
    sequence: number,
    timestampTicks: number,
    pcm: Uint8Array,
    pcmOffset: number,
    isSilence: boolean,
    activeSpeakers?: ArrayLike<number> | null,
    activeSpeakerCount: number = activeSpeakers?.length ?? 0,
  ): void {
    this.writeFrame(
      session,
      context,
      sequence,
      int64High(timestampTicks),
      int64Low(timestampTicks),
      pcm,
      pcmOffset,
      isSilence,
      activeSpeakers,
      activeSpeakerCount,
    );
  }

  /**
   * addFrame with timestamp_ticks as the high and low 32 bits of its int64 (two's complement,
   * as FrameBatchReader.timestampTicksHigh/Low give them): exact for every value.
   */
  addFrameExact(
    session: number,
    context: number,
    sequence: number,
    timestampTicksHigh: number,
    timestampTicksLow: number,
    pcm: Uint8Array,
    pcmOffset: number,
    isSilence: boolean,
    activeSpeakers?: ArrayLike<number> | null,
    activeSpeakerCount: number = activeSpeakers?.length ?? 0,
  ): void {
    this.writeFrame(
      session,
      context,
      sequence,
      timestampTicksHigh >>> 0,
      timestampTicksLow >>> 0,
      pcm,
      pcmOffset,
      isSilence,
      activeSpeakers,
      activeSpeakerCount,
    );
  }

  private writeFrame(
    session: number,
    context: number,
    sequence: number,
    ticksHigh: number,
    ticksLow: number,
    pcm: Uint8Array,
    pcmOffset: number,
    isSilence: boolean,
    activeSpeakers: ArrayLike<number> | null | undefined,
    activeSpeakerCount: number,
  ): void {
    if (!this.open) throw new Error("FrameBatchWriter.addFrame() before begin()");
    if (pcmOffset < 0 || pcmOffset + PCM_FRAME_BYTES > pcm.length) {
      throw new RangeError(`pcm needs ${PCM_FRAME_BYTES} bytes at offset ${pcmOffset}`);
    }
    this.closeFrame();
    let speakersBytes = 0;
    for (let i = 0; i < activeSpeakerCount; i++) speakersBytes += varint32Size(activeSpeakers?.[i] as number);
    const frameMax = FRAME_FIXED_MAX + 1 + 5 + speakersBytes;
    if (
      this.onFull !== null &&
      this.frameCount > 0 &&
      this.pos + frameMax + FRAME_SHIFT_MAX + MAX_UNMIXED_BUFFERS * UNMIXED_MAX + TRAILER_MAX >
        this.maxMessageBytes
    ) {
      this.split();
    }
    this.ensure(frameMax);
    const buf = this.buf;
    buf[this.pos++] = BATCH_FRAME_TAG;
    this.frameStart = this.pos;
    this.frameUnmixed = 0;
    let p = this.pos + FRAME_LENGTH_RESERVE;
    if (session !== 0) {
      buf[p++] = 0x08;
      p = writeVarint32(buf, p, session);
    }
    if (context !== 0) {
      buf[p++] = 0x10;
      p = writeVarint64(buf, p, context | 0);
    }
    if (sequence !== 0) {
      buf[p++] = 0x18;
      p = writeVarint32(buf, p, sequence);
    }
    if (ticksHigh !== 0 || ticksLow !== 0) {
      buf[p++] = 0x20;
      p = writeVarint64Parts(buf, p, ticksHigh, ticksLow);
    }
    buf[p++] = 0x2a;
    p = writeVarint32(buf, p, PCM_FRAME_BYTES);
    this.copyPcm(pcm, pcmOffset, p);
    p += PCM_FRAME_BYTES;
    if (isSilence) {
      buf[p++] = 0x30;
      buf[p++] = 1;
    }
    if (activeSpeakerCount > 0) {
      buf[p++] = 0x3a;
      p = writeVarint32(buf, p, speakersBytes);
      for (let i = 0; i < activeSpeakerCount; i++) p = writeVarint32(buf, p, activeSpeakers?.[i] as number);
    }
    this.pos = p;
    this.frameCount++;
  }

  /** Finishes the batch so far for onFull and goes on in a new one with the same sent_at_us. */
  private split(): void {
    const frames = this.frameCount;
    const sentAtUs = this.sentAtUs;
    const bytes = this.finish();
    const release = this.finishedRelease;
    this.splitBatches++;
    this.begin(sentAtUs);
    (this.onFull as NonNullable<typeof this.onFull>)(bytes, frames, release);
  }

  /**
   * Appends an unmixed speaker buffer to the frame added last (at most four per frame).
   * The sender timestamp is exact below 2^53; see addUnmixedExact.
   */
  addUnmixed(speakerId: number, pcm: Uint8Array, pcmOffset: number, originalSenderTimestampTicks = 0): void {
    this.writeUnmixed(
      speakerId,
      pcm,
      pcmOffset,
      int64High(originalSenderTimestampTicks),
      int64Low(originalSenderTimestampTicks),
    );
  }

  /** addUnmixed with the sender timestamp as the high and low 32 bits of its int64 (exact). */
  addUnmixedExact(
    speakerId: number,
    pcm: Uint8Array,
    pcmOffset: number,
    senderTicksHigh: number,
    senderTicksLow: number,
  ): void {
    this.writeUnmixed(speakerId, pcm, pcmOffset, senderTicksHigh >>> 0, senderTicksLow >>> 0);
  }

  private writeUnmixed(
    speakerId: number,
    pcm: Uint8Array,
    pcmOffset: number,
    ticksHigh: number,
    ticksLow: number,
  ): void {
    if (this.frameStart < 0) throw new Error("FrameBatchWriter.addUnmixed() without a frame");
    if (this.frameUnmixed === MAX_UNMIXED_BUFFERS) {
      throw new RangeError(`a frame carries at most ${MAX_UNMIXED_BUFFERS} unmixed buffers`);
    }
    if (pcmOffset < 0 || pcmOffset + PCM_FRAME_BYTES > pcm.length) {
      throw new RangeError(`unmixed pcm needs ${PCM_FRAME_BYTES} bytes at offset ${pcmOffset}`);
    }
    this.ensure(UNMIXED_MAX);
    const buf = this.buf;
    const size =
      (speakerId !== 0 ? 1 + varint32Size(speakerId) : 0) +
      3 +
      PCM_FRAME_BYTES +
      (ticksHigh !== 0 || ticksLow !== 0 ? 1 + varint64PartsSize(ticksHigh, ticksLow) : 0);
    let p = this.pos;
    buf[p++] = 0x42;
    p = writeVarint32(buf, p, size);
    if (speakerId !== 0) {
      buf[p++] = 0x08;
      p = writeVarint32(buf, p, speakerId);
    }
    buf[p++] = 0x12;
    p = writeVarint32(buf, p, PCM_FRAME_BYTES);
    this.copyPcm(pcm, pcmOffset, p);
    p += PCM_FRAME_BYTES;
    if (ticksHigh !== 0 || ticksLow !== 0) {
      buf[p++] = 0x18;
      p = writeVarint64Parts(buf, p, ticksHigh, ticksLow);
    }
    this.pos = p;
    this.frameUnmixed++;
  }

  /**
   * Ends the batch and returns the encoded Envelope: a view valid until ringSize more batches
   * are finished (see FrameBatchWriterOptions.ringSize).
   */
  finish(): Uint8Array {
    if (!this.open) throw new Error("FrameBatchWriter.finish() before begin()");
    this.closeFrame();
    this.ensure(11);
    const buf = this.buf;
    if (this.sentAtUs !== 0) {
      buf[this.pos++] = BATCH_SENT_AT_TAG;
      this.pos = writeVarint64(buf, this.pos, this.sentAtUs);
    }
    const batchLength = this.pos - HEADER_RESERVE;
    const start = HEADER_RESERVE - 1 - varint32Size(batchLength);
    buf[start] = ENVELOPE_FRAMES_TAG;
    writeVarint32(buf, start + 1, batchLength);
    this.open = false;
    if (this.held !== null) {
      // The caller owns the buffer now, until it calls finishedRelease.
      this.finishedRelease = this.held.release;
      this.held = null;
    } else this.ringIndex = (this.ringIndex + 1) % this.ring.length;
    return buf.subarray(start, this.pos);
  }

  private useHeld(entry: PooledSendBuffer): void {
    this.held = entry;
    this.buf = entry.buffer;
    this.view = entry.dataView;
  }

  /** Writes the open frame's length, moving its content when the length is not 2 bytes long. */
  private closeFrame(): void {
    const start = this.frameStart;
    if (start < 0) return;
    this.frameStart = -1;
    const contentStart = start + FRAME_LENGTH_RESERVE;
    const length = this.pos - contentStart;
    const lengthBytes = varint32Size(length);
    if (lengthBytes !== FRAME_LENGTH_RESERVE) {
      const shift = lengthBytes - FRAME_LENGTH_RESERVE;
      if (shift > 0) this.ensure(shift);
      this.buf.copyWithin(contentStart + shift, contentStart, this.pos);
      this.pos += shift;
    }
    writeVarint32(this.buf, start, length);
  }

  /**
   * A source that is exactly one frame (a slot, a frame buffer) goes through set(), a native
   * copy that needs no view (about 30 ns); a range of a bigger buffer through the DataView loop.
   */
  private copyPcm(pcm: Uint8Array, pcmOffset: number, p: number): void {
    if (pcmOffset === 0 && pcm.length === PCM_FRAME_BYTES) this.buf.set(pcm, p);
    else copyFrameBetween(this.copier.viewOf(pcm.buffer), pcm.byteOffset + pcmOffset, this.view, p);
  }

  /** Makes room for `bytes` more bytes after pos (rare: doubles the current buffer). */
  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    let capacity = this.buf.length * 2;
    while (capacity < this.pos + bytes) capacity *= 2;
    const held = this.held;
    if (this.pool !== null && held !== null) {
      const larger = this.pool.acquire(capacity);
      larger.buffer.set(this.buf.subarray(0, this.pos));
      held.release();
      this.useHeld(larger);
      return;
    }
    const grown = Buffer.allocUnsafe(capacity);
    grown.set(this.buf.subarray(0, this.pos));
    this.ring[this.ringIndex] = grown;
    this.buf = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
    this.ringViews[this.ringIndex] = this.view;
  }
}

/**
 * Sets sent_at_us of a batch finish() wrote with `writtenUs` (its last field) to `sentAtUs`,
 * in place: the batch is stamped with a clock reading when it is handed to the connection
 * rather than when it was written ahead of its deadline. Only when both values take as many
 * varint bytes (any two clock readings within years of each other do); returns false, leaving
 * the bytes as they are, otherwise or when the batch does not end with a sent_at_us field.
 */
export function restampSentAt(bytes: Uint8Array, writtenUs: number, sentAtUs: number): boolean {
  if (writtenUs <= 0 || sentAtUs <= 0) return false;
  const size = varint64Size(writtenUs);
  if (varint64Size(sentAtUs) !== size || bytes.length < size + 1) return false;
  const at = bytes.length - size;
  if (bytes[at - 1] !== BATCH_SENT_AT_TAG) return false;
  writeVarint64(bytes, at, sentAtUs);
  return true;
}
