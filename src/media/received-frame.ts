import { FRAME_BYTES, MAX_UNMIXED_SPEAKERS, SAMPLES_PER_FRAME } from "./audio-format.js";
import type { ReceivedAudioFrame, UnmixedSpeakerAudio } from "./bot-api.js";
import { copyFrameInto } from "./frame-copy.js";

/**
 * One received frame as the bridge decoded it, read in place (nothing copied yet). The worker
 * adapts the bridge's batch reader to this shape with one reused object.
 */
export interface IncomingFrameView {
  sequence: number;
  timestampTicks: number;
  isSilence: boolean;
  /** The buffer holding this frame's PCM, and where. */
  buffer: Uint8Array;
  pcmOffset: number;
  pcmLength: number;
  activeSpeakerCount: number;
  activeSpeaker(index: number): number;
  unmixedCount: number;
  unmixedSpeakerId(index: number): number;
  unmixedOffset(index: number): number;
  unmixedLength(index: number): number;
  unmixedTimestampTicks(index: number): number;
  /** When the batch carrying it arrived (performance.now() ms). */
  receivedAtMs: number;
}

/** Most active speakers kept per frame (the platform reports a handful). */
const MAX_ACTIVE_SPEAKERS = 16;

class UnmixedSlot implements UnmixedSpeakerAudio {
  speakerId = 0;
  originalSenderTimestampTicks = 0;
  constructor(
    readonly pcm: Uint8Array,
    readonly samples: Int16Array,
    /** Where `pcm` starts in the frame slot's memory. */
    readonly memoryOffset: number,
  ) {}
}

/**
 * A preallocated frame: PCM, speakers and unmixed buffers are copied into memory owned by the
 * slot, so the bridge's receive buffer can be released and nothing is allocated per frame.
 */
export class ReceivedFrameSlot implements ReceivedAudioFrame {
  sequence = 0;
  timestampTicks = 0;
  isSilence = false;
  concealed = false;
  receivedAtMs = 0;
  readonly pcm: Uint8Array;
  readonly samples: Int16Array;
  /** One of the preallocated arrays below, chosen by count (changing an array's length allocates). */
  activeSpeakers: number[];
  unmixed: UnmixedSpeakerAudio[];
  /** The slot's memory as 32-bit words, what frames are copied into (see frame-copy.ts). */
  private readonly memory: Int32Array;
  private readonly unmixedSlots: UnmixedSlot[] = [];
  private readonly speakersByCount: number[][] = [];
  private readonly unmixedByCount: UnmixedSlot[][] = [];

  constructor(withUnmixed: boolean) {
    const memory = new ArrayBuffer(FRAME_BYTES * (1 + (withUnmixed ? MAX_UNMIXED_SPEAKERS : 0)));
    this.memory = new Int32Array(memory);
    this.pcm = new Uint8Array(memory, 0, FRAME_BYTES);
    this.samples = new Int16Array(memory, 0, SAMPLES_PER_FRAME);
    if (withUnmixed) {
      for (let i = 0; i < MAX_UNMIXED_SPEAKERS; i++) {
        const offset = FRAME_BYTES * (i + 1);
        this.unmixedSlots.push(
          new UnmixedSlot(
            new Uint8Array(memory, offset, FRAME_BYTES),
            new Int16Array(memory, offset, SAMPLES_PER_FRAME),
            offset,
          ),
        );
      }
    }
    for (let n = 0; n <= MAX_ACTIVE_SPEAKERS; n++) this.speakersByCount.push(new Array<number>(n).fill(0));
    for (let n = 0; n <= this.unmixedSlots.length; n++)
      this.unmixedByCount.push(this.unmixedSlots.slice(0, n));
    this.activeSpeakers = this.speakersByCount[0] as number[];
    this.unmixed = this.unmixedByCount[0] as UnmixedSlot[];
  }

  /**
   * Copies a validated frame in. Returns how many unmixed buffers were skipped for a bad size
   * (or because the session did not ask for unmixed audio).
   */
  fill(view: IncomingFrameView): number {
    this.sequence = view.sequence;
    this.timestampTicks = view.timestampTicks;
    this.isSilence = view.isSilence;
    this.concealed = false;
    this.receivedAtMs = view.receivedAtMs;
    copyFrameInto(view.buffer, view.pcmOffset, this.memory, 0);
    const speakerCount = Math.min(view.activeSpeakerCount, MAX_ACTIVE_SPEAKERS);
    const speakers = this.speakersByCount[speakerCount] as number[];
    for (let i = 0; i < speakerCount; i++) speakers[i] = view.activeSpeaker(i);
    this.activeSpeakers = speakers;
    let kept = 0;
    let skipped = 0;
    for (let i = 0; i < view.unmixedCount; i++) {
      const slot = this.unmixedSlots[kept];
      const length = view.unmixedLength(i);
      if (slot === undefined || length !== FRAME_BYTES) {
        skipped++;
        continue;
      }
      const offset = view.unmixedOffset(i);
      copyFrameInto(view.buffer, offset, this.memory, slot.memoryOffset);
      slot.speakerId = view.unmixedSpeakerId(i);
      slot.originalSenderTimestampTicks = view.unmixedTimestampTicks(i);
      kept++;
    }
    this.unmixed = this.unmixedByCount[kept] as UnmixedSlot[];
    return skipped;
  }

  /** Turns this slot into silence standing in for a lost frame. */
  conceal(sequence: number, timestampTicks: number): void {
    this.sequence = sequence;
    this.timestampTicks = timestampTicks;
    this.isSilence = true;
    this.concealed = true;
    this.pcm.fill(0);
    this.activeSpeakers = this.speakersByCount[0] as number[];
    this.unmixed = this.unmixedByCount[0] as UnmixedSlot[];
  }
}
