import { SAMPLES_PER_FRAME } from "../media/audio-format.js";

/**
 * One speaker's audio waiting to be sent to the bot: queued PCM of any length, taken a 20 ms
 * frame per tick. A frame is "speaking" when any queued sample went into it (silence fed on
 * purpose included); after the queue runs dry the speaker is quiet.
 */
export class SpeakerFeed {
  private readonly chunks: Int16Array[] = [];
  private offset = 0;
  private queued = 0;

  constructor(readonly sourceId: number) {}

  /** Samples waiting. */
  get queuedSamples(): number {
    return this.queued;
  }

  push(samples: Int16Array): void {
    if (samples.length === 0) return;
    // A copy: the caller may reuse its buffer.
    this.chunks.push(Int16Array.from(samples));
    this.queued += samples.length;
  }

  clear(): void {
    this.chunks.length = 0;
    this.offset = 0;
    this.queued = 0;
  }

  /** Fills `frame` (320 samples) with the next frame, zero-padded; false when nothing was queued. */
  takeFrame(frame: Int16Array): boolean {
    if (this.queued === 0) return false;
    let at = 0;
    while (at < SAMPLES_PER_FRAME && this.chunks.length > 0) {
      const chunk = this.chunks[0] as Int16Array;
      const count = Math.min(SAMPLES_PER_FRAME - at, chunk.length - this.offset);
      frame.set(chunk.subarray(this.offset, this.offset + count), at);
      at += count;
      this.offset += count;
      this.queued -= count;
      if (this.offset === chunk.length) {
        this.chunks.shift();
        this.offset = 0;
      }
    }
    frame.fill(0, at);
    return true;
  }
}
