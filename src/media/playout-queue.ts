import { FRAME_BYTES } from "./audio-format.js";
import type { ArenaRegion } from "./frame-arena.js";
import { copyFrameInto, copyPcm } from "./frame-copy.js";

export interface PlayoutMarkEvent {
  name: string;
  played: boolean;
}

export interface PlayoutQueueOptions {
  /**
   * Live audio (an echo, a relayed stream) may wait at most about this many frames once a
   * window is over: a backlog that stands longer is trimmed to it (default 2 = 40 ms).
   */
  liveTargetFrames?: number;
  /** Ticks over which the smallest depth is taken before trimming (default 10 = 200 ms). */
  liveWindowTicks?: number;
  /**
   * The target adapts: it starts at 0 and rises a frame, up to liveTargetFrames, each time live
   * audio runs out (an underrun) or a burst is trimmed; after LIVE_TARGET_RELAX_TICKS without
   * either it comes down a frame (default false: the target is liveTargetFrames throughout).
   */
  adaptiveLiveTarget?: boolean;
}

const DEFAULT_LIVE_TARGET_FRAMES = 2;
const DEFAULT_LIVE_WINDOW_TICKS = 10;
/**
 * A live backlog is trimmed only when its window's smallest depth is more than this above the
 * target. The far end's clock and ours are independent, so where its frames land against our
 * render moves with load: a stream whose arrivals usually dip the queue to the target can go
 * a whole window without a dip, then dip again. Trimming that one frame each time would drop
 * audio (an audible gap) to save 20 ms it will need again; a backlog of two frames or more
 * above the target (a burst, a stall) is still trimmed, and the window after a trim trims
 * without this margin, so a burst ends at the target. The one frame of slack is dropped when
 * its frame is quiet (QUIET_PEAK): 20 ms of silence dropped in a pause is not heard.
 */
const LIVE_TRIM_HYSTERESIS_FRAMES = 1;
/**
 * An adaptive live target comes down a frame after this many ticks (10 s) without an underrun or
 * a trimmed burst. Coming down trims nothing by itself: the frame above the new target stands
 * as slack until it is quiet (see LIVE_TRIM_HYSTERESIS_FRAMES).
 */
const LIVE_TARGET_RELAX_TICKS = 500;
/**
 * The frame of slack is dropped after this many windows (1 s) even if it never gets quiet (a
 * tone, music): live audio is sent as soon as it is queued (MediaEngine.sendLiveNow), so a
 * frame standing that long is a leftover of a burst, 20 ms of delay for the rest of the call.
 */
const LIVE_SLACK_MAX_WINDOWS = 5;
/** A frame whose samples all stay within ±this (about -50 dBFS) is quiet enough to drop unheard. */
const QUIET_PEAK = 100;

const EMPTY_WORDS = new Int32Array(0);
const EMPTY_BYTES = new Uint8Array(0);

/** Memory of a queue's own (no arena). */
function ownMemory(capacity: number): ArenaRegion {
  const bytes = PlayoutQueue.bytes(capacity);
  return { words: new Int32Array(bytes / 4), byteOffset: 0, byteLength: bytes };
}

/**
 * The bookkeeping words (slot per position, free stack, live flags, tick queued at), up to a
 * whole cache line.
 */
function bookkeepingBytes(capacity: number): number {
  return Math.ceil((4 * (4 * capacity + 1)) / 64) * 64;
}

/**
 * A session's bounded queue of 20 ms frames waiting to be sent, in one preallocated block.
 * Queue positions map to frames of memory through a free list, last freed first: a queue that
 * drains every tick (an echo) keeps reusing the same two frames of memory, which stay in
 * cache, instead of cycling through all of them. Audio is copied in (any length; a remainder
 * shorter than a frame waits in `partial`).
 * Marks sit at a position in the stream: a mark is reached when every frame queued before it
 * has been taken by the pacer (or trimmed).
 *
 * Two kinds of audio share the queue. Buffered audio (prompts, files, `send()`) is never
 * dropped to save latency: a full queue refuses the newest frame, which the caller counts.
 * Live audio (`write(bytes, true)`: an echo, audio produced as it is heard) must stay real
 * time: a full queue drops its oldest live frame for the new one, and a live backlog that
 * stands (the queue never got shallower than the target during a whole window) is trimmed
 * from the head down to the target. Taking the window's smallest depth leaves ordinary
 * arrival jitter alone: trimming only what was never needed cannot cause an underrun.
 *
 * A live frame is also dropped once it has waited more than `capacity` ticks (200 ms at the
 * default 10 frames): while frames are taken every tick none can wait that long (a full queue
 * drops its oldest live frame), so such a frame stood while nothing was sent (send status
 * inactive, the media host away for a reconnect) and is older than live audio may be by the
 * time it could be sent. Buffered audio waits whatever the time (a paused prompt resumes).
 */
export class PlayoutQueue {
  /** The memory holding this queue (maybe a slab shared with other queues' regions). */
  private memory: Uint8Array;
  /** `memory` as 32-bit words: ranges of larger buffers are copied in through it. */
  private words: Int32Array;
  /**
   * A view of each frame of memory (capacity + 1: every position filled and one lent out),
   * made the first time the frame is taken: a drained-every-tick queue only ever needs two.
   */
  private frames: (Uint8Array | undefined)[];
  /**
   * Bookkeeping lives in `words` after the frames (one object fewer each, and on the cache
   * lines next to each other): from `slotAtAt`, the memory frame holding each ring position's
   * audio; from `freeAt`, the memory frames holding nothing, a stack (the last freed is used
   * first); from `liveAt`, 1 where the frame at that ring position is live audio; from
   * `queuedAtAt`, the tick (see `ticks`) the frame at that ring position was queued at.
   */
  private slotAtAt = 0;
  private freeAt = 0;
  private liveAt = 0;
  private queuedAtAt = 0;
  /** endTick() calls so far, wrapping at 2^31: the age of queued frames in ticks. */
  private ticks = 0;
  /** Byte offset in `memory` of memory frame 0. */
  private framesAt = 0;
  private freeCount = 0;
  /**
   * The memory frame take() returned last, -1 for none. It is not reused before the next
   * take(), so the caller can copy it out even if a callback queues audio meanwhile.
   */
  private lent = -1;
  private head = 0;
  private count = 0;
  private partialOffset = 0;
  private partial: Uint8Array;
  private partialBytes = 0;
  /** Frames ever queued / ever taken or trimmed: marks are positions on this count. */
  private queuedTotal = 0;
  private takenTotal = 0;
  private readonly marks: { name: string; position: number }[] = [];
  private markCount = 0;
  private readonly liveTarget: number;
  private readonly windowTicks: number;
  private windowLength: number;
  private windowElapsed = 0;
  /** Smallest depth seen in the window (capacity + 1 = none yet: an integer keeps it a Smi). */
  private windowMin: number;
  /** Live frames a full queue dropped for newer ones since the last `takeTrimmed()`. */
  private trimmed = 0;
  /** The last window trimmed a burst: this one trims any excess (see LIVE_TRIM_HYSTERESIS_FRAMES). */
  private trimming = false;
  /** Windows in a row that ended with live slack above the target (see LIVE_SLACK_MAX_WINDOWS). */
  private slackWindows = 0;
  private readonly adaptive: boolean;
  /** The live target now: liveTarget, or between 0 and it when adaptive. */
  private target: number;
  private ticksSinceRaise = 0;
  /** The last take() gave live audio: an empty queue at the next one is an underrun. */
  private tookLive = false;
  private underran = false;

  /**
   * Bytes a queue of `capacity` frames takes: its bookkeeping words first, then (from a
   * cache line) capacity + 1 frames and the partial frame. An echo's queue only ever uses
   * frames 0 and 1, on the lines right after the bookkeeping.
   */
  static bytes(capacity: number): number {
    return bookkeepingBytes(capacity) + (capacity + 2) * FRAME_BYTES;
  }

  constructor(
    readonly capacity: number,
    options: PlayoutQueueOptions = {},
    /** Memory of PlayoutQueue.bytes(capacity) for the queue (an arena's region); its own if absent. */
    region?: ArenaRegion,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError("capacity must be >= 1 frame");
    const target = options.liveTargetFrames ?? DEFAULT_LIVE_TARGET_FRAMES;
    const window = options.liveWindowTicks ?? DEFAULT_LIVE_WINDOW_TICKS;
    if (!Number.isInteger(target) || target < 0) throw new RangeError("liveTargetFrames must be >= 0");
    if (!Number.isInteger(window) || window < 1) throw new RangeError("liveWindowTicks must be >= 1");
    this.liveTarget = target;
    this.adaptive = options.adaptiveLiveTarget === true;
    this.target = this.adaptive ? 0 : target;
    this.windowTicks = window;
    this.windowLength = window;
    this.windowMin = capacity + 1;
    this.words = EMPTY_WORDS;
    this.memory = EMPTY_BYTES;
    this.frames = [];
    this.partial = EMPTY_BYTES;
    this.attach(region ?? ownMemory(capacity));
  }

  /**
   * The queue's owner gives its memory back (the call ended): the queue empties and moves to
   * memory of its own, so a late call on it can never touch the region's next owner.
   */
  detach(): void {
    const out: PlayoutMarkEvent[] = [];
    this.clear(out);
    this.attach(ownMemory(this.capacity));
  }

  private attach(region: ArenaRegion): void {
    const capacity = this.capacity;
    const base = region.byteOffset;
    if (
      (base & 3) !== 0 ||
      region.byteLength < PlayoutQueue.bytes(capacity) ||
      base + PlayoutQueue.bytes(capacity) > region.words.byteLength
    )
      throw new RangeError("the playout queue's region does not fit its memory");
    this.words = region.words;
    const bytes = region.bytes;
    this.memory =
      bytes !== undefined &&
      bytes.buffer === region.words.buffer &&
      bytes.byteOffset === region.words.byteOffset
        ? bytes
        : new Uint8Array(region.words.buffer, region.words.byteOffset, region.words.byteLength);
    // Bookkeeping words, then capacity + 1 frames (see `frames`) and the partial frame.
    this.slotAtAt = base >> 2;
    this.freeAt = this.slotAtAt + capacity;
    this.liveAt = this.freeAt + capacity + 1;
    this.queuedAtAt = this.liveAt + capacity;
    this.framesAt = base + bookkeepingBytes(capacity);
    this.frames = new Array<Uint8Array | undefined>(capacity + 1).fill(undefined);
    this.lent = -1;
    this.head = 0;
    this.count = 0;
    this.freeAll();
    this.partialOffset = this.framesAt + (capacity + 1) * FRAME_BYTES;
    this.partial = this.memory.subarray(this.partialOffset, this.partialOffset + FRAME_BYTES);
    this.partialBytes = 0;
  }

  get depth(): number {
    return this.count;
  }

  /** The depth live audio is trimmed back to now (frames). */
  get liveTargetFrames(): number {
    return this.target;
  }

  /**
   * The last frame taken was live audio and nothing has been queued since: the stream's next
   * frame has not come yet (see MediaEngine.render: such a queue's tick waits for it).
   */
  get awaitingLive(): boolean {
    return this.tookLive && this.count === 0;
  }

  get space(): number {
    return this.capacity - this.count;
  }

  /** marks.length, kept as a field: it is read every tick, the array's memory stays cold. */
  get pendingMarks(): number {
    return this.markCount;
  }

  /**
   * Queues one whole frame copied from `source` at `offset`; false = not queued (the queue is
   * full of buffered audio, or of anything for a buffered frame).
   */
  pushFrame(source: Uint8Array, offset: number, live = false): boolean {
    if (this.count === this.capacity) {
      // Live audio makes room by dropping its own oldest frame; never a buffered one.
      if (!live || this.words[this.liveAt + this.head] === 0) return false;
      this.dropHead();
      this.trimmed++;
    }
    const index = (this.head + this.count) % this.capacity;
    // Never empty here: capacity + 1 frames, at most capacity - 1 queued and one lent.
    const words = this.words;
    const slot = words[this.freeAt + --this.freeCount] as number;
    words[this.slotAtAt + index] = slot;
    const at = this.framesAt + slot * FRAME_BYTES;
    // A whole 640-byte view (a received slot's pcm) is one native copy; a range of a larger
    // buffer (a file, a longer send) is read through a DataView (see frame-copy.ts).
    if (source === this.partial)
      this.memory.copyWithin(at, this.partialOffset, this.partialOffset + FRAME_BYTES);
    else if (offset === 0 && source.length === FRAME_BYTES) this.memory.set(source, at);
    else copyFrameInto(source, offset, this.words, at);
    words[this.liveAt + index] = live ? 1 : 0;
    words[this.queuedAtAt + index] = this.ticks;
    this.count++;
    this.queuedTotal++;
    return true;
  }

  /**
   * Queues PCM bytes of any (even) length, cutting 20 ms frames; `live` as in pushFrame.
   * Returns the frames of `bytes` that were not queued (the queue was full).
   */
  write(bytes: Uint8Array, live = false): number {
    let offset = 0;
    let dropped = 0;
    if (this.partialBytes > 0) {
      const take = Math.min(FRAME_BYTES - this.partialBytes, bytes.length);
      copyPcm(bytes, 0, this.memory, this.partialOffset + this.partialBytes, take);
      this.partialBytes += take;
      offset = take;
      if (this.partialBytes < FRAME_BYTES) return 0;
      if (!this.pushFrame(this.partial, 0, live)) dropped++;
      this.partialBytes = 0;
    }
    while (bytes.length - offset >= FRAME_BYTES) {
      if (!this.pushFrame(bytes, offset, live)) dropped++;
      offset += FRAME_BYTES;
    }
    const rest = bytes.length - offset;
    if (rest > 0) {
      copyPcm(bytes, offset, this.memory, this.partialOffset, rest);
      this.partialBytes = rest;
    }
    return dropped;
  }

  /** Pads a waiting remainder with silence into a whole frame; returns frames dropped (0 or 1). */
  flushPartial(): number {
    if (this.partialBytes === 0) return 0;
    this.partial.fill(0, this.partialBytes);
    this.partialBytes = 0;
    return this.pushFrame(this.partial, 0) ? 0 : 1;
  }

  /**
   * Takes the next frame to send. The returned view (a whole 640-byte view, preallocated)
   * stays valid until the next take(): the pacer copies it into the outgoing batch at once.
   */
  take(): Uint8Array | undefined {
    if (this.count === 0) {
      // Only an adaptive target reads it (see adaptTarget).
      if (this.adaptive) this.underran ||= this.tookLive;
      this.tookLive = false;
      return undefined;
    }
    this.tookLive = this.words[this.liveAt + this.head] === 1;
    const slot = this.words[this.slotAtAt + this.head] as number;
    if (this.lent >= 0) this.words[this.freeAt + this.freeCount++] = this.lent;
    this.lent = slot;
    let frame = this.frames[slot];
    if (frame === undefined) {
      const at = this.framesAt + slot * FRAME_BYTES;
      frame = this.memory.subarray(at, at + FRAME_BYTES);
      this.frames[slot] = frame;
    }
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    this.takenTotal++;
    return frame;
  }

  /**
   * Once per clock tick, after take(): drops live frames too old to send (see the class), ends
   * the live window when it is over, trimming a live backlog that stood above the target
   * during all of it. Returns the frames dropped.
   */
  endTick(): number {
    this.ticks = (this.ticks + 1) & 0x7fff_ffff;
    const stale = this.count > 0 ? this.dropStaleLive() : 0;
    if (this.adaptive) this.adaptTarget();
    if (this.count < this.windowMin) this.windowMin = this.count;
    if (++this.windowElapsed < this.windowLength) return stale;
    const over = this.windowMin - this.target;
    const excess =
      over > (this.trimming ? 0 : LIVE_TRIM_HYSTERESIS_FRAMES) ||
      (over > 0 && (this.headIsQuietLive() || this.slackWindows + 1 >= LIVE_SLACK_MAX_WINDOWS))
        ? over
        : 0;
    this.slackWindows = over > 0 && excess === 0 ? this.slackWindows + 1 : 0;
    this.restartWindow(this.windowTicks);
    let trimmed = 0;
    while (trimmed < excess && this.count > 0 && this.words[this.liveAt + this.head] === 1) {
      this.dropHead();
      trimmed++;
    }
    // A burst was cut: the next window finishes it. A quiet frame's drop is no burst.
    this.trimming = trimmed > 0 && over > LIVE_TRIM_HYSTERESIS_FRAMES;
    if (this.adaptive && this.trimming) this.raiseTarget();
    return stale + trimmed;
  }

  /** Drops the live frames at the head that have waited more than `capacity` ticks. */
  private dropStaleLive(): number {
    const words = this.words;
    let dropped = 0;
    while (
      this.count > 0 &&
      words[this.liveAt + this.head] === 1 &&
      ((this.ticks - (words[this.queuedAtAt + this.head] as number)) & 0x7fff_ffff) > this.capacity
    ) {
      this.dropHead();
      dropped++;
    }
    return dropped;
  }

  /** Adaptive target, once per tick: up after an underrun, down after a long calm. */
  private adaptTarget(): void {
    if (this.underran) {
      this.underran = false;
      this.raiseTarget();
    } else if (++this.ticksSinceRaise >= LIVE_TARGET_RELAX_TICKS) {
      if (this.target > 0) this.target--;
      this.ticksSinceRaise = 0;
    }
  }

  private raiseTarget(): void {
    if (this.target < this.liveTarget) this.target++;
    this.ticksSinceRaise = 0;
  }

  /**
   * The media clock skipped ticks: the live audio due meanwhile arrives in a burst and would
   * stand in the queue. The window restarts with the next tick and ends after `ticks`, so the
   * backlog is trimmed that soon rather than a full window later.
   */
  expediteTrim(ticks = 2): void {
    this.restartWindow(Math.max(1, Math.min(ticks, this.windowTicks)));
  }

  /** Live frames a full queue dropped for newer ones since the previous call. */
  takeTrimmed(): number {
    const trimmed = this.trimmed;
    this.trimmed = 0;
    return trimmed;
  }

  /** Places a mark after everything queued so far (a waiting remainder is padded and queued). */
  mark(name: string): number {
    const dropped = this.flushPartial();
    this.marks.push({ name, position: this.queuedTotal });
    this.markCount = this.marks.length;
    return dropped;
  }

  /** Marks whose frames have all been taken, removed from the queue, in order. */
  reachedMarks(out: PlayoutMarkEvent[]): void {
    while (this.marks.length > 0 && (this.marks[0] as { position: number }).position <= this.takenTotal) {
      const mark = this.marks.shift() as { name: string };
      out.push({ name: mark.name, played: true });
    }
    this.markCount = this.marks.length;
  }

  /** Barge-in: drops every queued frame and the remainder; pending marks come back unplayed. */
  clear(out: PlayoutMarkEvent[]): number {
    const dropped = this.count;
    // Emptied on purpose: the next empty take() is no underrun.
    this.tookLive = false;
    this.head = 0;
    this.count = 0;
    this.freeAll();
    this.partialBytes = 0;
    this.queuedTotal = this.takenTotal;
    for (const mark of this.marks) out.push({ name: mark.name, played: false });
    this.marks.length = 0;
    this.markCount = 0;
    this.restartWindow(this.windowTicks);
    return dropped;
  }

  /** The next frame to send is live audio and quiet (see QUIET_PEAK). */
  private headIsQuietLive(): boolean {
    if (this.count === 0 || this.words[this.liveAt + this.head] !== 1) return false;
    const at = this.framesAt + (this.words[this.slotAtAt + this.head] as number) * FRAME_BYTES;
    const memory = this.memory;
    // Little-endian 16-bit samples, read as bytes: no view object, nothing allocated.
    for (let i = at; i < at + FRAME_BYTES; i += 2) {
      const sample = (((memory[i] as number) | ((memory[i + 1] as number) << 8)) << 16) >> 16;
      if (sample > QUIET_PEAK || sample < -QUIET_PEAK) return false;
    }
    return true;
  }

  private dropHead(): void {
    this.words[this.freeAt + this.freeCount++] = this.words[this.slotAtAt + this.head] as number;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    this.takenTotal++;
  }

  /** Every memory frame but the lent one is free; frame 0 is used first. */
  private freeAll(): void {
    this.freeCount = 0;
    for (let slot = this.capacity; slot >= 0; slot--) {
      if (slot !== this.lent) this.words[this.freeAt + this.freeCount++] = slot;
    }
  }

  private restartWindow(length: number): void {
    this.windowLength = length;
    this.windowElapsed = 0;
    this.windowMin = this.capacity + 1;
  }
}
