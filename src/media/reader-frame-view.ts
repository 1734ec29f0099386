import type { FrameBatchReader } from "../bridge/frame-batch-reader.js";
import { FRAME_BYTES } from "./audio-format.js";
import type { IncomingFrameView } from "./received-frame.js";

/**
 * Presents the bridge reader's current frame as an IncomingFrameView: one object reused for
 * every frame of every batch, reading the reader's fields in place.
 */
export class ReaderFrameView implements IncomingFrameView {
  private reader: FrameBatchReader | undefined;
  receivedAtMs = 0;
  readonly pcmLength = FRAME_BYTES;

  attach(reader: FrameBatchReader, receivedAtMs: number): void {
    this.reader = reader;
    this.receivedAtMs = receivedAtMs;
  }

  private get r(): FrameBatchReader {
    return this.reader as FrameBatchReader;
  }
  get sequence(): number {
    return this.r.sequence;
  }
  get timestampTicks(): number {
    return this.r.timestampTicks;
  }
  get isSilence(): boolean {
    return this.r.isSilence;
  }
  get buffer(): Uint8Array {
    return this.r.buffer;
  }
  get pcmOffset(): number {
    return this.r.pcmOffset;
  }
  get activeSpeakerCount(): number {
    return this.r.activeSpeakerCount;
  }
  activeSpeaker(index: number): number {
    return this.r.activeSpeakers[index] as number;
  }
  get unmixedCount(): number {
    return this.r.unmixedCount;
  }
  unmixedSpeakerId(index: number): number {
    return this.r.unmixedSpeakerIds[index] as number;
  }
  unmixedOffset(index: number): number {
    return this.r.unmixedPcmOffsets[index] as number;
  }
  unmixedLength(_index: number): number {
    // The reader refuses frames whose unmixed buffers are not exactly one frame.
    return FRAME_BYTES;
  }
  unmixedTimestampTicks(index: number): number {
    return this.r.unmixedTimestampTicks[index] as number;
  }
}
