import { FRAME_BYTES } from "./audio-format.js";
import { copyPcm } from "./frame-copy.js";

export interface PlayoutMarkEvent {
  name: string;
  played: boolean;
}

/**
 * A session's bounded queue of 20 ms frames waiting to be sent, in one preallocated block.
 * Audio is copied in (any length; a remainder shorter than a frame waits in `partial`), and a
 * full queue drops the newest frame, which the caller counts. Marks sit at a position in the
 * stream: a mark is reached when every frame queued before it has been taken by the pacer.
 */
export class PlayoutQueue {
  private readonly memory: Uint8Array;
  private readonly frames: Uint8Array[] = [];
  private head = 0;
  private count = 0;
  private readonly partial: Uint8Array;
  private partialBytes = 0;
  /** Frames ever queued / ever taken: marks are positions on this count. */
  private queuedTotal = 0;
  private takenTotal = 0;
  private readonly marks: { name: string; position: number }[] = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError("capacity must be >= 1 frame");
    this.memory = new Uint8Array(FRAME_BYTES * (capacity + 1));
    for (let i = 0; i < capacity; i++)
      this.frames.push(this.memory.subarray(i * FRAME_BYTES, (i + 1) * FRAME_BYTES));
    this.partial = this.memory.subarray(capacity * FRAME_BYTES);
  }

  get depth(): number {
    return this.count;
  }

  get space(): number {
    return this.capacity - this.count;
  }

  get pendingMarks(): number {
    return this.marks.length;
  }

  /** Queues one whole frame copied from `source` at `offset`; false = queue full, dropped. */
  pushFrame(source: Uint8Array, offset: number): boolean {
    if (this.count === this.capacity) return false;
    const slot = this.frames[(this.head + this.count) % this.capacity] as Uint8Array;
    copyPcm(source, offset, slot);
    this.count++;
    this.queuedTotal++;
    return true;
  }

  /**
   * Queues PCM bytes of any (even) length, cutting 20 ms frames. Returns the frames dropped
   * because the queue was full.
   */
  write(bytes: Uint8Array): number {
    let offset = 0;
    let dropped = 0;
    if (this.partialBytes > 0) {
      const take = Math.min(FRAME_BYTES - this.partialBytes, bytes.length);
      copyPcm(bytes, 0, this.partial, this.partialBytes, take);
      this.partialBytes += take;
      offset = take;
      if (this.partialBytes < FRAME_BYTES) return 0;
      if (!this.pushFrame(this.partial, 0)) dropped++;
      this.partialBytes = 0;
    }
    while (bytes.length - offset >= FRAME_BYTES) {
      if (!this.pushFrame(bytes, offset)) dropped++;
      offset += FRAME_BYTES;
    }
    const rest = bytes.length - offset;
    if (rest > 0) {
      copyPcm(bytes, offset, this.partial, 0, rest);
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
   * Takes the next frame to send. The returned view stays valid until the next push: the pacer
   * copies it into the outgoing batch at once.
   */
  take(): Uint8Array | undefined {
    if (this.count === 0) return undefined;
    const frame = this.frames[this.head] as Uint8Array;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    this.takenTotal++;
    return frame;
  }

  /** Places a mark after everything queued so far (a waiting remainder is padded and queued). */
  mark(name: string): number {
    const dropped = this.flushPartial();
    this.marks.push({ name, position: this.queuedTotal });
    return dropped;
  }

  /** Marks whose frames have all been taken, removed from the queue, in order. */
  reachedMarks(out: PlayoutMarkEvent[]): void {
    while (this.marks.length > 0 && (this.marks[0] as { position: number }).position <= this.takenTotal) {
      const mark = this.marks.shift() as { name: string };
      out.push({ name: mark.name, played: true });
    }
  }

  /** Barge-in: drops every queued frame and the remainder; pending marks come back unplayed. */
  clear(out: PlayoutMarkEvent[]): number {
    const dropped = this.count;
    this.head = 0;
    this.count = 0;
    this.partialBytes = 0;
    this.queuedTotal = this.takenTotal;
    for (const mark of this.marks) out.push({ name: mark.name, played: false });
    this.marks.length = 0;
    return dropped;
  }
}
