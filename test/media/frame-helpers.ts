import { FRAME_BYTES, SAMPLES_PER_FRAME } from "../../src/media/audio-format.js";
import type { IncomingFrameView } from "../../src/media/received-frame.js";

/** A frame whose samples all encode its sequence number, to check order and content. */
export function pcmFor(sequence: number, seed = 0): Uint8Array {
  const samples = new Int16Array(SAMPLES_PER_FRAME);
  for (let i = 0; i < SAMPLES_PER_FRAME; i++) samples[i] = ((sequence * 7 + i + seed) % 30000) - 15000;
  return new Uint8Array(samples.buffer);
}

/** A test IncomingFrameView over plain values (what the engine adapts the bridge reader to). */
export class TestFrameView implements IncomingFrameView {
  sequence = 0;
  timestampTicks = 0;
  isSilence = false;
  buffer: Uint8Array = new Uint8Array(FRAME_BYTES);
  pcmOffset = 0;
  pcmLength = FRAME_BYTES;
  speakers: number[] = [];
  unmixed: { speakerId: number; pcm: Uint8Array; ticks?: number }[] = [];
  receivedAtMs = 0;
  private offsets: number[] = [];

  set(
    sequence: number,
    options: {
      pcm?: Uint8Array;
      receivedAtMs?: number;
      speakers?: number[];
      unmixed?: TestFrameView["unmixed"];
    } = {},
  ): this {
    this.sequence = sequence >>> 0;
    this.timestampTicks = sequence * 200_000;
    const pcm = options.pcm ?? pcmFor(sequence);
    this.unmixed = options.unmixed ?? [];
    // Like the bridge reader: the frame's PCM and its unmixed buffers live in one buffer.
    this.buffer = Buffer.concat([pcm, ...this.unmixed.map((u) => u.pcm)]);
    this.pcmLength = pcm.length;
    this.offsets = [];
    let offset = pcm.length;
    for (const u of this.unmixed) {
      this.offsets.push(offset);
      offset += u.pcm.length;
    }
    this.receivedAtMs = options.receivedAtMs ?? performance.now();
    this.speakers = options.speakers ?? [];
    return this;
  }
  get activeSpeakerCount(): number {
    return this.speakers.length;
  }
  activeSpeaker(index: number): number {
    return this.speakers[index] as number;
  }
  get unmixedCount(): number {
    return this.unmixed.length;
  }
  unmixedSpeakerId(index: number): number {
    return this.unmixed[index]?.speakerId ?? 0;
  }
  unmixedOffset(index: number): number {
    return this.offsets[index] ?? 0;
  }
  unmixedLength(index: number): number {
    return this.unmixed[index]?.pcm.length ?? 0;
  }
  unmixedTimestampTicks(index: number): number {
    return this.unmixed[index]?.ticks ?? 0;
  }
}

/** `frames` frames of distinct, recognizable audio. */
export function tone(frames: number, seed = 0): Buffer {
  return Buffer.concat(Array.from({ length: frames }, (_, i) => pcmFor(i, seed)));
}
