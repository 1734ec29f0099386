import { FRAME_BYTES } from "./audio-format.js";

/** A fixed-size piece of an arena slab: `words` is the whole slab, shared by its regions. */
export interface ArenaRegion {
  readonly words: Int32Array;
  /** The same memory as bytes and as doubles (one view each per slab too). */
  readonly bytes?: Uint8Array;
  readonly doubles?: Float64Array;
  /** Where the region starts in `words`, in bytes (a multiple of 64: regions start on a cache line). */
  readonly byteOffset: number;
  /** The region's size in bytes (what its owner may use from byteOffset). */
  readonly byteLength: number;
}

const CACHE_LINE = 64;

/**
 * Hands out fixed-size regions of large slabs, in the order asked for. Sessions are created in
 * the order the engine iterates them on each tick, so their frame memory lies in that order
 * in a few slabs: a tick walking the sessions streams through memory the hardware prefetches,
 * on a few pages, instead of missing on a separate buffer per session, and one Int32Array
 * serves every region of a slab (one object fewer per session on the per-frame path).
 *
 * `reuse` says whether a released region may go to another session. Only memory never lent
 * to handlers may be reused (a playout queue's frames): a handler that wrongly keeps a frame
 * view must never see another call's audio. Without reuse a slab is forgotten once full and
 * freed by the GC when none of its sessions is left.
 */
export class FrameArena {
  readonly regionBytes: number;
  private slab: Int32Array | undefined;
  private slabBytes: Uint8Array | undefined;
  private slabDoubles: Float64Array | undefined;
  private used = 0;
  private readonly free: ArenaRegion[] = [];

  constructor(
    regionBytes: number,
    readonly regionsPerSlab: number,
    readonly reuse: boolean,
  ) {
    if (!Number.isInteger(regionBytes) || regionBytes < 1) throw new RangeError("regionBytes must be >= 1");
    if (!Number.isInteger(regionsPerSlab) || regionsPerSlab < 1)
      throw new RangeError("regionsPerSlab must be >= 1");
    this.regionBytes = Math.ceil(regionBytes / CACHE_LINE) * CACHE_LINE;
  }

  allocate(): ArenaRegion {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    if (this.slab === undefined || this.used === this.regionsPerSlab) {
      this.slab = new Int32Array((this.regionBytes * this.regionsPerSlab) / 4);
      this.slabBytes = new Uint8Array(this.slab.buffer);
      this.slabDoubles = new Float64Array(this.slab.buffer);
      this.used = 0;
    }
    return {
      words: this.slab,
      bytes: this.slabBytes,
      doubles: this.slabDoubles,
      byteOffset: this.regionBytes * this.used++,
      byteLength: this.regionBytes,
    };
  }

  /** The region's owner is done with it (zeroed: nothing of its audio stays behind). */
  release(region: ArenaRegion): void {
    if (!this.reuse) return;
    const at = region.byteOffset >> 2;
    region.words.fill(0, at, at + this.regionBytes / 4);
    this.free.push(region);
  }
}

/**
 * A session's slot region: the received frame's PCM, then one cache line of the session's
 * per-frame doubles (SLOT_SCALAR_*). A double in an object field is a separate heap number
 * the CPU has to fetch as well; in the slab it sits on the line after the frame.
 */
export const SLOT_REGION_BYTES = FRAME_BYTES + 64;
/** Index in `doubles` of a slot region's first scalar. */
export function slotScalarsAt(region: ArenaRegion): number {
  return (region.byteOffset + FRAME_BYTES) / 8;
}
export const SLOT_SCALAR_LAST_TIMESTAMP_TICKS = 0;
export const SLOT_SCALAR_LAST_RECEIVED_AT_MS = 1;
export const SLOT_SCALAR_LAST_ARRIVAL_MS = 2;
/** Scalars a slot region holds (8 fit its line). */
export const SLOT_SCALARS = 3;

/** Sessions per slab: about 40 KB of received slots, about 550 KB of playout queues. */
const SESSIONS_PER_SLAB = 64;

/**
 * The engine's frame memory for its sessions: each session's received-frame slot (lent to
 * handlers, so never reused) and its playout queue's memory (reused).
 */
export class SessionMemory {
  readonly slots = new FrameArena(SLOT_REGION_BYTES, SESSIONS_PER_SLAB, false);
  readonly queues: FrameArena;

  constructor(
    /** Bytes one playout queue takes (PlayoutQueue.bytes(capacity)). */
    queueBytes: number,
  ) {
    this.queues = new FrameArena(queueBytes, SESSIONS_PER_SLAB, true);
  }
}
