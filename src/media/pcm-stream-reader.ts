import { FRAME_BYTES } from "./audio-format.js";
import type { Pcm } from "./bot-api.js";
import type { PlayoutQueue } from "./playout-queue.js";

const NO_BYTES = new Uint8Array(0);

/**
 * Feeds a playout queue from a source of PCM chunks (`call.stream()`), pulling the next chunk
 * only when the current one is used up and the queue has room: a source faster than real time
 * waits (back-pressure) instead of overflowing the queue. Chunks may have any length: bytes
 * that do not fill a frame wait in `carry` for the next chunk, and the stream's last partial
 * frame is padded with silence. A chunk is read in place (not copied) until it is used up, so
 * a source may reuse its buffer once it is asked for the next chunk.
 */
export class PcmStreamReader {
  framesQueued = 0;
  private readonly iterator: Iterator<unknown> | AsyncIterator<unknown>;
  private chunk: Uint8Array = NO_BYTES;
  private offset = 0;
  private readonly carry = new Uint8Array(FRAME_BYTES);
  private carryBytes = 0;
  private pulling = false;
  private done = false;
  private stopped = false;

  constructor(
    source: AsyncIterable<Pcm> | Iterable<Pcm>,
    /** A chunk arrived: the owner tops the queue up now rather than at the next tick. */
    private readonly onChunk: () => void,
    /** The source threw or gave something that is not PCM. */
    private readonly onError: (error: Error) => void,
  ) {
    const asyncIterator = (source as AsyncIterable<Pcm>)[Symbol.asyncIterator];
    const syncIterator = (source as Iterable<Pcm>)[Symbol.iterator];
    if (typeof asyncIterator === "function") this.iterator = asyncIterator.call(source);
    else if (typeof syncIterator === "function") this.iterator = syncIterator.call(source);
    else
      throw new TypeError(
        "stream(): the source must be an AsyncIterable or Iterable of Int16Array/Uint8Array",
      );
  }

  /** Queues whole frames while the queue has room; true once the source ended and all of it is queued. */
  fill(queue: PlayoutQueue): boolean {
    while (queue.space > 0) {
      const remaining = this.chunk.length - this.offset;
      if (this.carryBytes > 0 && remaining > 0) {
        const take = Math.min(FRAME_BYTES - this.carryBytes, remaining);
        copyBytes(this.chunk, this.offset, this.carry, this.carryBytes, take);
        this.carryBytes += take;
        this.offset += take;
        if (this.carryBytes === FRAME_BYTES) {
          queue.pushFrame(this.carry, 0);
          this.framesQueued++;
          this.carryBytes = 0;
        }
        continue;
      }
      if (remaining >= FRAME_BYTES) {
        queue.pushFrame(this.chunk, this.offset);
        this.offset += FRAME_BYTES;
        this.framesQueued++;
        continue;
      }
      if (remaining > 0) {
        copyBytes(this.chunk, this.offset, this.carry, 0, remaining);
        this.carryBytes = remaining;
        this.offset = this.chunk.length;
      }
      if (!this.done) {
        this.pull();
        return false;
      }
      if (this.carryBytes > 0) {
        this.carry.fill(0, this.carryBytes);
        queue.pushFrame(this.carry, 0);
        this.framesQueued++;
        this.carryBytes = 0;
      }
      return true;
    }
    return false;
  }

  /** clear() or the end of the call: no more pulls, and the source is told to finish. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.done) return;
    try {
      Promise.resolve(this.iterator.return?.()).catch(() => {});
    } catch {
      // A source whose return() throws has nothing left to release.
    }
  }

  private pull(): void {
    if (this.pulling || this.stopped) return;
    this.pulling = true;
    let next: unknown;
    try {
      next = this.iterator.next();
    } catch (error) {
      this.failed(error);
      return;
    }
    Promise.resolve(next as IteratorResult<unknown>).then(this.onResult, this.onFailure);
  }

  /** The source's answer to pull(); a field, so a pull allocates no closures. */
  private readonly onResult = (result: IteratorResult<unknown>): void => {
    if (result === null || typeof result !== "object") {
      // A hand-written iterator that breaks the protocol: fail this stream, never throw here
      // (nothing would catch it).
      this.failed(
        new TypeError("stream(): the source's next() gave something that is not an iterator result"),
      );
      return;
    }
    this.pulling = false;
    if (this.stopped) return;
    if (result.done) this.done = true;
    else {
      const value = result.value;
      if (value instanceof Uint8Array) this.chunk = value;
      else if (value instanceof Int16Array)
        this.chunk = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
      else {
        this.stopped = true;
        this.onError(
          new TypeError("stream(): the source gave a chunk that is not an Int16Array or Uint8Array"),
        );
        return;
      }
      this.offset = 0;
    }
    this.onChunk();
  };

  private readonly onFailure = (error: unknown): void => this.failed(error);

  private failed(error: unknown): void {
    this.pulling = false;
    if (this.stopped) return;
    this.stopped = true;
    this.onError(error instanceof Error ? error : new Error(String(error)));
  }
}

/** Copies `count` bytes without the subarray view `set()` would need (this runs on the media tick). */
function copyBytes(from: Uint8Array, fromAt: number, to: Uint8Array, toAt: number, count: number): void {
  for (let i = 0; i < count; i++) to[toAt + i] = from[fromAt + i] as number;
}
