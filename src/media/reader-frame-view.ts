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
  // Scalar fields are copied per frame (load() below) rather than read through getters: a
  // getter returning a double that V8 does not inline boxes it on every call.
  sequence = 0;
  timestampTicks = 0;
  isSilence = false;
  pcmOffset = 0;
  activeSpeakerCount = 0;
  unmixedCount = 0;
  buffer: Uint8Array = new Uint8Array(0);

  attach(reader: FrameBatchReader, receivedAtMs: number): void {
    this.reader = reader;
    this.receivedAtMs = receivedAtMs;
  }

  /** Takes the reader's current frame (after reader.next()). */
  load(): void {
    const r = this.reader as FrameBatchReader;
    this.sequence = r.sequence;
    this.timestampTicks = r.timestampTicks;
    this.isSilence = r.isSilence;
    this.pcmOffset = r.pcmOffset;
    this.activeSpeakerCount = r.activeSpeakerCount;
    this.unmixedCount = r.unmixedCount;
    this.buffer = r.buffer;
  }

  activeSpeaker(index: number): number {
    return (this.reader as FrameBatchReader).activeSpeakers[index] as number;
  }
  unmixedSpeakerId(index: number): number {
    return (this.reader as FrameBatchReader).unmixedSpeakerIds[index] as number;
  }
  unmixedOffset(index: number): number {
    return (this.reader as FrameBatchReader).unmixedPcmOffsets[index] as number;
  }
  unmixedLength(_index: number): number {
    // The reader refuses frames whose unmixed buffers are not exactly one frame.
    return FRAME_BYTES;
  }
  unmixedTimestampTicks(index: number): number {
    return (this.reader as FrameBatchReader).unmixedTimestampTicks[index] as number;
  }
}
