import { FRAME_DURATION_MS, TICKS_PER_FRAME } from "./audio-format.js";
import { type IncomingFrameView, ReceivedFrameSlot } from "./received-frame.js";

/** Why a received frame did not reach the handlers. */
export type ReceiveDropReason = "late" | "duplicate";

export interface JitterBufferOptions {
  /**
   * Frames a missing one is waited for: a frame arriving up to `depth` positions early is held
   * until the gap before it fills or is declared lost. 0 = no reordering, every gap is a loss.
   */
  depth: number;
  /** Gaps longer than this (frames) are not filled with silence: the stream restarts after them. */
  maxConcealFrames: number;
  /** Gets every frame in sequence order, concealed ones included; the slot is reused afterwards. */
  onFrame: (frame: ReceivedFrameSlot) => void;
  onDrop?: (reason: ReceiveDropReason) => void;
  /** Frames given up on (each is concealed unless the gap exceeded maxConcealFrames). */
  onLost?: (frames: number, concealed: boolean) => void;
  /** Copy unmixed buffers too (the session asked for unmixed audio). */
  unmixed: boolean;
  /** Unmixed buffers skipped for a bad size. */
  onBadUnmixed?: (count: number) => void;
}

/**
 * Puts received frames back in sequence order and stands silence in for the lost ones, so
 * consumers see a continuous 20 ms stream. It waits for a missing frame only while fewer than
 * `depth` later frames are held (or until `expire` finds the oldest held frame `depth` frames
 * old), which bounds the delay reordering costs to depth × 20 ms. Preallocated: a
 * power-of-two ring of at least depth + 1 slots for held frames, one slot for frames that
 * pass straight through and one for concealment; nothing is allocated per frame.
 */
export class JitterBuffer {
  private readonly ring: ReceivedFrameSlot[] = [];
  private readonly present: boolean[] = [];
  private readonly silence: ReceivedFrameSlot;
  /**
   * Where the expected frame goes when nothing is held (nearly every frame): always the same
   * memory, so a session's received audio stays in cache instead of cycling through the ring.
   */
  private readonly direct: ReceivedFrameSlot;
  private readonly size: number;
  /** Sequence number expected next; -1 before the first frame. */
  private expected = -1;
  private held = 0;
  /** Timestamp of the last frame handed on, to stamp concealed frames. */
  private lastTimestampTicks = 0;
  /** Arrival time of the newest frame pushed. */
  private lastReceivedAtMs = 0;

  constructor(private readonly options: JitterBufferOptions) {
    if (!Number.isInteger(options.depth) || options.depth < 0) throw new RangeError("depth must be >= 0");
    // A power of two, so sequence % size stays continuous where the sequence wraps at 2^32.
    let size = 1;
    while (size < options.depth + 1) size *= 2;
    this.size = size;
    for (let i = 0; i < this.size; i++) {
      this.ring.push(new ReceivedFrameSlot(options.unmixed));
      this.present.push(false);
    }
    this.silence = new ReceivedFrameSlot(false);
    this.direct = new ReceivedFrameSlot(options.unmixed);
  }

  /** Frames currently held waiting for an earlier one. */
  get heldFrames(): number {
    return this.held;
  }

  push(view: IncomingFrameView): void {
    const sequence = view.sequence >>> 0;
    this.lastReceivedAtMs = view.receivedAtMs;
    if (this.expected < 0) this.expected = sequence;
    // Signed distance on the 32-bit sequence circle, so wrapping at 2^32 is seamless.
    const ahead = (sequence - this.expected) | 0;
    if (ahead === 0 && this.held === 0) {
      // In order with nothing held: handed on at once, no ring slot needed.
      const slot = this.direct;
      const skipped = slot.fill(view);
      if (skipped > 0) this.options.onBadUnmixed?.(skipped);
      this.expected = (sequence + 1) >>> 0;
      this.lastTimestampTicks = slot.timestampTicks;
      this.options.onFrame(slot);
      return;
    }
    if (ahead < 0) {
      this.options.onDrop?.("late");
      return;
    }
    if (ahead > this.options.depth) {
      if (ahead > this.options.maxConcealFrames + this.options.depth) {
        // A restart (or a huge loss): hand on what is held, then start over at this frame.
        this.drainHeld();
        const missing = (sequence - this.expected) | 0;
        if (missing > 0) this.options.onLost?.(missing, false);
        this.expected = sequence;
      } else {
        this.advance(ahead - this.options.depth);
      }
    }
    const index = sequence % this.size;
    if (this.present[index]) {
      this.options.onDrop?.("duplicate");
      return;
    }
    const slot = this.ring[index] as ReceivedFrameSlot;
    const skipped = slot.fill(view);
    if (skipped > 0) this.options.onBadUnmixed?.(skipped);
    this.present[index] = true;
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
    if (oldest !== undefined && nowMs - oldest.receivedAtMs >= this.options.depth * FRAME_DURATION_MS) {
      const gap = (oldest.sequence - this.expected) | 0;
      if (gap > 0) this.advance(gap);
    }
  }

  /** Starts over with a new stream (the session was created again): held frames are handed on first. */
  reset(): void {
    this.drainHeld();
    this.expected = -1;
  }

  /** Hands on everything held (end of the call), concealing gaps between held frames. */
  flush(): void {
    this.drainHeld();
  }

  private oldestHeld(): ReceivedFrameSlot | undefined {
    for (let step = 0; step < this.size; step++) {
      const index = (this.expected + step) % this.size;
      if (this.present[index]) return this.ring[index];
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
      const index = this.expected % this.size;
      if (this.present[index]) {
        if (run > 0) {
          // Conceal the missing run before this held frame.
          this.expected = (this.expected - run) >>> 0;
          this.concealRun(run);
          run = 0;
        }
        this.emit(index);
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
    for (let i = 0; i < count; i++) {
      this.lastTimestampTicks += TICKS_PER_FRAME;
      this.silence.conceal(this.expected, this.lastTimestampTicks);
      // Stands in for a frame that never arrived: it counts as received when it is given up on.
      this.silence.receivedAtMs = this.lastReceivedAtMs;
      this.expected = (this.expected + 1) >>> 0;
      this.options.onFrame(this.silence);
    }
  }

  /** Hands on consecutive present frames starting at the expected sequence. */
  private release(): void {
    for (;;) {
      const index = this.expected % this.size;
      if (!this.present[index]) return;
      this.emit(index);
    }
  }

  private emit(index: number): void {
    const slot = this.ring[index] as ReceivedFrameSlot;
    this.present[index] = false;
    this.held--;
    this.expected = (slot.sequence + 1) >>> 0;
    this.lastTimestampTicks = slot.timestampTicks;
    this.options.onFrame(slot);
  }
}
