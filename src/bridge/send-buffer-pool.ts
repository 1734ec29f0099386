/**
 * Buffers for outgoing frame batches that a socket writes as they are, later: a batch is
 * written into a buffer (FrameBatchWriter with `sendBuffers`), or a send copies the caller's
 * bytes into one, and the buffer comes back when the socket's write callback says it left.
 * After the first few ticks every batch reuses a buffer, so the per-tick path allocates no new
 * memory (new Buffers of this size are external memory, and churning them is what drives V8
 * into frequent full garbage collections).
 */
export class SendBufferPool {
  private readonly free: PooledSendBuffer[] = [];
  /** Buffers currently held by the socket. */
  inFlight = 0;
  /** Buffers created so far (grows until the pool covers what is in flight at once). */
  created = 0;

  /**
   * @param bufferBytes capacity of each buffer; larger messages get a one-off buffer
   * @param maxFree buffers kept for reuse beyond this are left to the garbage collector
   */
  constructor(
    readonly bufferBytes: number,
    private readonly maxFree = 16,
  ) {}

  /** A buffer holding a copy of `bytes`; call its `release` (the write callback) when written. */
  take(bytes: Uint8Array): PooledSendBuffer {
    const entry = this.acquire(bytes.length);
    entry.buffer.set(bytes, 0);
    return entry;
  }

  /** A buffer whose `view` is `length` bytes long, for the caller to fill; `release` when written. */
  acquire(length: number): PooledSendBuffer {
    let entry = length <= this.bufferBytes ? this.free.pop() : undefined;
    if (entry === undefined) {
      entry = new PooledSendBuffer(this, Math.max(this.bufferBytes, length));
      this.created++;
    }
    entry.hold();
    entry.view = entry.buffer.subarray(0, length);
    this.inFlight++;
    return entry;
  }

  /** @internal called by PooledSendBuffer.release */
  giveBack(entry: PooledSendBuffer): void {
    this.inFlight--;
    if (entry.buffer.length === this.bufferBytes && this.free.length < this.maxFree) this.free.push(entry);
  }
}

export class PooledSendBuffer {
  readonly buffer: Buffer;
  /** `buffer` as a DataView, made once (a writer copies PCM through it, see pcm-copy.ts). */
  readonly dataView: DataView;
  /** The copied bytes: what to send. */
  view: Buffer;
  private held = false;

  constructor(
    private readonly pool: SendBufferPool,
    bytes: number,
  ) {
    this.buffer = Buffer.allocUnsafe(bytes);
    this.dataView = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
    this.view = this.buffer;
  }

  /** The socket's write callback (bound once, so passing it allocates nothing). */
  readonly release = (): void => {
    if (!this.held) return;
    this.held = false;
    this.pool.giveBack(this);
  };

  /** @internal marks a reused buffer as held again */
  hold(): void {
    this.held = true;
  }
}
