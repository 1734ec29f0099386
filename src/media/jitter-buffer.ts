import { FRAME_DURATION_MS, MAX_UNMIXED_SPEAKERS, TICKS_PER_FRAME } from "./audio-format.js";
import {
  type ArenaRegion,
  SLOT_REGION_BYTES,
  SLOT_SCALAR_LAST_RECEIVED_AT_MS,
  SLOT_SCALAR_LAST_TIMESTAMP_TICKS,
  SLOT_SCALARS,
  slotScalarsAt,
} from "./frame-arena.js";
import {
  type IncomingFrameView,
  ReceivedFrameSlot,
  receivedPcmBytes,
  StoredFrame,
} from "./received-frame.js";

/**
 * Why a received frame did not reach the handlers: `duplicate`, its sequence number was already
 * received (it is held, or was handed on within the delivered-frame history, see JitterBuffer);
 * `late`, its place was given up on (concealed, or skipped by a restart) or is older than
 * that history.
 */
export type ReceiveDropReason = "late" | "duplicate";

export interface JitterBufferOptions {
  /**
   * Frames a missing one is waited for: a frame arriving up to `depth` positions early is held
   * until the gap before it fills or is declared lost. 0 = no reordering, every gap is a loss.
   */
  depth: number;
  /** Gaps longer than this (frames) are not filled with silence: the stream restarts after them. */
  maxConcealFrames: number;
  /**
   * Gets every frame in sequence order, concealed ones included. It is always the same slot,
   * refilled for each frame: valid only during the call.
   */
  onFrame: (frame: ReceivedFrameSlot) => void;
  onDrop?: (reason: ReceiveDropReason) => void;
  /** Frames given up on (each is concealed unless the gap exceeded maxConcealFrames). */
  onLost?: (frames: number, concealed: boolean) => void;
  /** Copy unmixed buffers too (the session asked for unmixed audio). */
  unmixed: boolean;
  /** Unmixed buffers skipped for a bad size. */
  onBadUnmixed?: (count: number) => void;
  /**
   * Where the slot's PCM lives (one frame: sessions without unmixed audio only), e.g. an
   * arena region next to the other sessions' slots; the slot shares the buffer's memory
   * otherwise. The ring of held frames always has memory of its own.
   */
  slotRegion?: ArenaRegion;
}

/** Nothing to keep for sessions without unmixed audio. */
const NO_TICKS = new Float64Array(0);

/**
 * Puts received frames back in sequence order and stands silence in for the lost ones, so
 * consumers see a continuous 20 ms stream. It waits for a missing frame while the frames
 * arriving after it are at most `depth` sequence numbers ahead of it (up to `depth` frames
 * held): the first one further ahead (with no other loss, the depth + 1-th later frame), or
 * `expire` finding the oldest held frame `depth` frame periods old, declares it lost. That
 * bounds the delay reordering costs to depth × 20 ms.
 *
 * Preallocated in one ArrayBuffer: the slot handed to `onFrame` and a power-of-two ring of at
 * least depth + 1 stored frames (plain records, no views). A frame that arrives in order with
 * nothing held (nearly every frame) is copied straight into the slot, whose memory stays in
 * cache; a held frame is copied into the ring and, when its turn comes, into the slot (one
 * native copy). Concealment is the slot zeroed. Nothing is allocated per frame.
 *
 * A bit per sequence number remembers which of the last `historyFrames` positions were handed
 * on as received frames (not concealed), so that a frame behind `expected` is told apart: a
 * duplicate of a frame already handed on, or a late one whose place was concealed.
 *
 * A frame that arrived but was refused for its content (`refuse`) is not waited for: its place
 * is concealed as soon as its turn comes. Waiting for it would hold the frames after it for up
 * to `depth` periods and then hand them on together, a burst that live audio trims.
 */
export class JitterBuffer {
  private readonly ring: StoredFrame[] = [];
  /** 1 at a ring index whose held entry stands for a refused frame (conceal it, see refuse). */
  private readonly refusedAt: Uint8Array;
  private readonly slot: ReceivedFrameSlot;
  private readonly size: number;
  /** Sequence number expected next; -1 before the first frame. */
  private expected = -1;
  /** The furthest sequence number pushed and taken (held or handed on): see refuse. */
  private newest = 0;
  private held = 0;
  /**
   * Consecutive frames far behind `expected` (more than maxConcealFrames + depth): two in a row
   * are a sender that started its sequence over, not a straggler (see push).
   */
  private farBehindRun = 0;
  private farBehindNext = 0;
  /**
   * Bit `sequence % historyFrames` is set when that sequence was handed on as a received frame
   * and cleared when its place was concealed or skipped: valid for the historyFrames positions
   * before `expected` (every position passed writes its bit).
   */
  private readonly delivered: Int32Array;
  /** A power of two, at least 32 and more than maxConcealFrames + depth. */
  private readonly historyFrames: number;
  /**
   * Doubles kept in the slot region's scalars (see frame-arena.ts), or its own array without a
   * region: at `scalarsAt` + SLOT_SCALAR_LAST_TIMESTAMP_TICKS the timestamp of the last frame
   * handed on (to stamp concealed frames), + SLOT_SCALAR_LAST_RECEIVED_AT_MS the arrival time
   * of the newest frame pushed.
   */
  private readonly scalars: Float64Array;
  private readonly scalarsAt: number;
  /** From the options, kept here: the per-frame path reads no other object for them. */
  private readonly depth: number;
  private readonly onFrame: (frame: ReceivedFrameSlot) => void;

  constructor(private readonly options: JitterBufferOptions) {
    if (!Number.isInteger(options.depth) || options.depth < 0) throw new RangeError("depth must be >= 0");
    // A power of two, so sequence % size stays continuous where the sequence wraps at 2^32.
    let size = 1;
    while (size < options.depth + 1) size *= 2;
    this.size = size;
    this.refusedAt = new Uint8Array(size);
    this.depth = options.depth;
    this.onFrame = options.onFrame;
    // Covers every frame the buffer treats as behind rather than as a restart (see push).
    let history = 32;
    while (history <= options.maxConcealFrames + options.depth) history *= 2;
    this.historyFrames = history;
    this.delivered = new Int32Array(history / 32);
    const unmixed = options.unmixed;
    const region = options.slotRegion;
    if (region !== undefined && unmixed)
      throw new RangeError("a slot region holds one frame: not for sessions with unmixed audio");
    if (region !== undefined && region.byteLength < SLOT_REGION_BYTES)
      throw new RangeError(`a slot region takes ${SLOT_REGION_BYTES} bytes, not ${region.byteLength}`);
    // The slot first in the buffer's own memory, unless it has a region elsewhere.
    const slotBytes = region === undefined ? receivedPcmBytes(unmixed) : 0;
    const frameBytes = StoredFrame.bytes(unmixed);
    const ticksPerFrame = unmixed ? MAX_UNMIXED_SPEAKERS : 0;
    // The slot, the ring, then the ring's unmixed timestamps (8-aligned: every size is).
    const ticksAt = slotBytes + size * frameBytes;
    const memory = new ArrayBuffer(ticksAt + 8 * size * ticksPerFrame);
    const words = new Int32Array(memory, 0, ticksAt / 4);
    const ticks = unmixed ? new Float64Array(memory, ticksAt, size * ticksPerFrame) : NO_TICKS;
    if (region === undefined || region.doubles === undefined) {
      this.scalars = new Float64Array(SLOT_SCALARS);
      this.scalarsAt = 0;
    } else {
      this.scalars = region.doubles;
      this.scalarsAt = slotScalarsAt(region);
    }
    this.slot =
      region === undefined
        ? new ReceivedFrameSlot(unmixed, words, 0)
        : new ReceivedFrameSlot(false, region.words, region.byteOffset);
    for (let i = 0; i < size; i++)
      this.ring.push(new StoredFrame(unmixed, words, slotBytes + i * frameBytes, ticks, i * ticksPerFrame));
  }

  /** Frames currently held waiting for an earlier one. */
  get heldFrames(): number {
    return this.held;
  }

  push(view: IncomingFrameView): void {
    const sequence = view.sequence >>> 0;
    const scalars = this.scalars;
    const at = this.scalarsAt;
    scalars[at + SLOT_SCALAR_LAST_RECEIVED_AT_MS] = view.receivedAtMs;
    if (this.expected < 0) this.expected = sequence;
    // Signed distance on the 32-bit sequence circle, so wrapping at 2^32 is seamless.
    const ahead = (sequence - this.expected) | 0;
    if (ahead === 0 && this.held === 0) {
      // In order with nothing held: straight into the slot and handed on.
      const slot = this.slot;
      const skipped = slot.fill(view);
      if (skipped > 0) this.options.onBadUnmixed?.(skipped);
      this.newest = sequence;
      this.expected = (sequence + 1) >>> 0;
      this.markDelivered(sequence, true);
      scalars[at + SLOT_SCALAR_LAST_TIMESTAMP_TICKS] = slot.timestampTicks;
      this.onFrame(slot);
      return;
    }
    if (ahead < 0) {
      if (!this.restartsBehind(sequence, ahead)) {
        this.options.onDrop?.(this.wasDelivered(sequence, -ahead) ? "duplicate" : "late");
        return;
      }
      // The stream started over behind us: hand on what is held, go on from this frame. The
      // history named the old stream's frames: none of the new one's was handed on yet.
      this.drainHeld();
      this.delivered.fill(0);
      this.expected = sequence;
      this.push(view);
      return;
    }
    this.farBehindRun = 0;
    if (ahead > this.depth) {
      if (ahead > this.options.maxConcealFrames + this.depth) {
        // A restart (or a huge loss): hand on what is held, then start over at this frame.
        this.drainHeld();
        const missing = (sequence - this.expected) | 0;
        if (missing > 0) {
          this.options.onLost?.(missing, false);
          this.forgetRun(this.expected, missing);
        }
        this.expected = sequence;
      } else {
        this.advance(ahead - this.depth);
      }
    }
    const index = sequence % this.size;
    const frame = this.ring[index] as StoredFrame;
    if (frame.held) {
      if (this.refusedAt[index] === 0) {
        this.options.onDrop?.("duplicate");
        return;
      }
      // A good copy of a refused frame: it takes the place (already counted as held).
      this.refusedAt[index] = 0;
      this.held--;
    }
    const skipped = frame.store(view);
    if (skipped > 0) this.options.onBadUnmixed?.(skipped);
    frame.held = true;
    this.held++;
    if (((sequence - this.newest) | 0) > 0) this.newest = sequence;
    this.release();
  }

  /**
   * A frame of `sequence` arrived but was refused for its content (its session and sequence were
   * read, its audio is unusable): its place is lost now, so it is concealed as soon as its turn
   * comes instead of being waited for like a frame that never arrived. It moves the stream on as
   * a good frame there would. Not reported to onLost: it is counted where it was refused, under
   * its reason. Ignored before the stream's first frame (the stream starts with a good one),
   * behind `expected`, and beyond what the sender can have sent by now: the frame after the
   * newest good one, plus one per frame period since a frame last arrived. A broken frame's
   * sequence is not taken at its word further than that: a refused message of stray frames
   * must not conceal the stream ahead of its own frames (which would then come late).
   */
  refuse(sequence: number, receivedAtMs: number): void {
    if (this.expected < 0) return;
    const at = sequence >>> 0;
    const ahead = (at - this.expected) | 0;
    if (ahead < 0) return;
    const sinceMs = receivedAtMs - (this.scalars[this.scalarsAt + SLOT_SCALAR_LAST_RECEIVED_AT_MS] as number);
    const plausible = 1 + Math.max(0, Math.floor(sinceMs / FRAME_DURATION_MS));
    if (((at - this.newest) | 0) > plausible) return;
    if (ahead > this.options.maxConcealFrames + this.depth) return;
    if (ahead > this.depth) this.advance(ahead - this.depth);
    const index = at % this.size;
    const frame = this.ring[index] as StoredFrame;
    if (frame.held) return;
    // A placeholder in the ring: held like a frame (expire, drainHeld and advance see it), emit
    // conceals it.
    frame.sequence = at;
    frame.receivedAtMs = receivedAtMs;
    frame.held = true;
    this.refusedAt[index] = 1;
    this.held++;
    this.release();
  }

  /**
   * Gives up on a missing frame once the oldest held frame has waited `depth` frame periods
   * (the stream may have paused right after a loss). Called from the media clock.
   */
  expire(nowMs: number): void {
    if (this.held === 0) return;
    const oldest = this.oldestHeld();
    if (oldest !== undefined && nowMs - oldest.receivedAtMs >= this.depth * FRAME_DURATION_MS) {
      const gap = (oldest.sequence - this.expected) | 0;
      if (gap > 0) this.advance(gap);
    }
  }

  /**
   * Whether a frame `-ahead` frames behind is the second in a row of a sequence that started
   * over (far behind, consecutive): a forward jump that large restarts the stream at once, a
   * backward one needs two frames, so that one straggler seconds late is only dropped.
   */
  private restartsBehind(sequence: number, ahead: number): boolean {
    if (-ahead <= this.options.maxConcealFrames + this.depth) {
      this.farBehindRun = 0;
      return false;
    }
    this.farBehindRun = this.farBehindRun > 0 && sequence === this.farBehindNext ? this.farBehindRun + 1 : 1;
    this.farBehindNext = (sequence + 1) >>> 0;
    if (this.farBehindRun < 2) return false;
    this.farBehindRun = 0;
    return true;
  }

  /** Starts over with a new stream (the session was created again): held frames are handed on first. */
  reset(): void {
    this.drainHeld();
    this.delivered.fill(0);
    this.expected = -1;
  }

  /** Hands on everything held (end of the call), concealing gaps between held frames. */
  flush(): void {
    this.drainHeld();
  }

  private oldestHeld(): StoredFrame | undefined {
    for (let step = 0; step < this.size; step++) {
      const frame = this.ring[(this.expected + step) % this.size] as StoredFrame;
      if (frame.held) return frame;
    }
    return undefined;
  }

  private drainHeld(): void {
    while (this.held > 0) {
      const oldest = this.oldestHeld();
      if (oldest === undefined) break;
      const gap = (oldest.sequence - this.expected) | 0;
      if (gap > 0) this.concealRun(gap);
      this.release();
    }
  }

  /** Moves `count` positions forward: held frames are handed on, missing ones concealed. */
  private advance(count: number): void {
    let run = 0;
    for (let step = 0; step < count; step++) {
      const frame = this.ring[this.expected % this.size] as StoredFrame;
      if (frame.held) {
        if (run > 0) {
          // Conceal the missing run before this held frame.
          this.expected = (this.expected - run) >>> 0;
          this.concealRun(run);
          run = 0;
        }
        this.emit(frame);
      } else {
        run++;
        this.expected = (this.expected + 1) >>> 0;
      }
    }
    if (run > 0) {
      this.expected = (this.expected - run) >>> 0;
      this.concealRun(run);
    }
    this.release();
  }

  private concealRun(count: number): void {
    this.options.onLost?.(count, true);
    const scalars = this.scalars;
    for (let i = 0; i < count; i++) {
      // Stands in for a frame that never arrived: it counts as received when it is given up on.
      this.concealExpected(scalars[this.scalarsAt + SLOT_SCALAR_LAST_RECEIVED_AT_MS] as number);
    }
  }

  /** Hands on silence in place of the expected frame, received at `receivedAtMs`. */
  private concealExpected(receivedAtMs: number): void {
    const slot = this.slot;
    const scalars = this.scalars;
    const ticksAt = this.scalarsAt + SLOT_SCALAR_LAST_TIMESTAMP_TICKS;
    const timestampTicks = (scalars[ticksAt] as number) + TICKS_PER_FRAME;
    scalars[ticksAt] = timestampTicks;
    slot.conceal(this.expected, timestampTicks);
    this.markDelivered(this.expected, false);
    slot.receivedAtMs = receivedAtMs;
    this.expected = (this.expected + 1) >>> 0;
    this.onFrame(slot);
  }

  /** Hands on consecutive held frames starting at the expected sequence. */
  private release(): void {
    for (;;) {
      const frame = this.ring[this.expected % this.size] as StoredFrame;
      if (!frame.held) return;
      this.emit(frame);
    }
  }

  private emit(frame: StoredFrame): void {
    frame.held = false;
    this.held--;
    const index = frame.sequence % this.size;
    if (this.refusedAt[index] === 1) {
      this.refusedAt[index] = 0;
      this.expected = frame.sequence;
      this.concealExpected(frame.receivedAtMs);
      return;
    }
    this.expected = (frame.sequence + 1) >>> 0;
    this.markDelivered(frame.sequence, true);
    this.scalars[this.scalarsAt + SLOT_SCALAR_LAST_TIMESTAMP_TICKS] = frame.timestampTicks;
    this.slot.load(frame);
    this.onFrame(this.slot);
  }

  /** Records whether `sequence` was handed on as a received frame (false: concealed or skipped). */
  private markDelivered(sequence: number, delivered: boolean): void {
    const bit = sequence & (this.historyFrames - 1);
    const word = bit >>> 5;
    const mask = 1 << (bit & 31);
    const words = this.delivered;
    words[word] = delivered ? (words[word] as number) | mask : (words[word] as number) & ~mask;
  }

  /** Whether `sequence`, `behind` positions before `expected`, was handed on as a received frame. */
  private wasDelivered(sequence: number, behind: number): boolean {
    if (behind > this.historyFrames) return false;
    const bit = sequence & (this.historyFrames - 1);
    return ((this.delivered[bit >>> 5] as number) & (1 << (bit & 31))) !== 0;
  }

  /** `count` positions from `from` were skipped (a restart): none of them was handed on. */
  private forgetRun(from: number, count: number): void {
    if (count >= this.historyFrames) {
      this.delivered.fill(0);
      return;
    }
    for (let i = 0; i < count; i++) this.markDelivered((from + i) >>> 0, false);
  }
}
