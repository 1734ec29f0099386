import { PCM_FRAME_BYTES } from "../../bridge/protocol.js";

/** Frames in the first allocation: one second. */
const INITIAL_FRAMES = 50;

/**
 * What a session played out, up to `maxFrames` frames. It grows as frames are played (doubling,
 * so a frame is copied at most about twice in all) instead of taking the whole bound up front:
 * a 60 s bound allocated 1.9 MB per session however short its call.
 */
export class PlayoutRecording {
  private buffer: Buffer;
  private bytes = 0;
  private readonly maxBytes: number;

  constructor(maxFrames: number) {
    this.maxBytes = Math.max(1, maxFrames) * PCM_FRAME_BYTES;
    this.buffer = Buffer.allocUnsafe(Math.min(this.maxBytes, INITIAL_FRAMES * PCM_FRAME_BYTES));
  }

  /**
   * Appends the played frame at source[offset, offset + PCM_FRAME_BYTES); frames past the
   * bound are not recorded. Taken by offset, so the tick makes no subarray view per frame.
   */
  append(source: Uint8Array, offset: number): void {
    if (this.bytes + PCM_FRAME_BYTES > this.maxBytes) return;
    if (this.bytes + PCM_FRAME_BYTES > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.maxBytes, this.buffer.length * 2));
      this.buffer.copy(grown, 0, 0, this.bytes);
      this.buffer = grown;
    }
    const buffer = this.buffer;
    const at = this.bytes;
    for (let i = 0; i < PCM_FRAME_BYTES; i++) buffer[at + i] = source[offset + i] as number;
    this.bytes += PCM_FRAME_BYTES;
  }

  get length(): number {
    return this.bytes;
  }

  /** The recorded PCM (a copy of exactly the recorded bytes). */
  pcm(): Buffer {
    return Buffer.from(this.buffer.subarray(0, this.bytes));
  }
}
