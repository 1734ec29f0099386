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
const FRAME_WORDS = FRAME_BYTES / 4;

/** Bytes a frame's PCM takes in an owner's memory: the mixed frame, then the unmixed buffers. */
export function receivedPcmBytes(withUnmixed: boolean): number {
  return FRAME_BYTES * (1 + (withUnmixed ? MAX_UNMIXED_SPEAKERS : 0));
}

class UnmixedSlot implements UnmixedSpeakerAudio {
  speakerId = 0;
  originalSenderTimestampTicks = 0;
  constructor(
    readonly pcm: Uint8Array,
    readonly samples: Int16Array,
  ) {}
}

/**
 * A received frame kept without any view object (a frame the jitter buffer holds until the
 * gap before it fills): its PCM and kept unmixed buffers at `byteOffset` of the owner's
 * memory, laid out as in a ReceivedFrameSlot, its speakers and unmixed speaker ids in the
 * words after them, the unmixed timestamps in `ticks`.
 */
export class StoredFrame {
  sequence = 0;
  timestampTicks = 0;
  isSilence = false;
  receivedAtMs = 0;
  speakerCount = 0;
  unmixedCount = 0;
  /** Waiting in the jitter buffer's ring. */
  held = false;
  private readonly maxUnmixed: number;
  private readonly speakersAt: number;
  private readonly unmixedIdsAt: number;

  /** Bytes one stored frame takes in the owner's memory (a multiple of 8). */
  static bytes(withUnmixed: boolean): number {
    return (
      receivedPcmBytes(withUnmixed) + 4 * (MAX_ACTIVE_SPEAKERS + (withUnmixed ? MAX_UNMIXED_SPEAKERS : 0))
    );
  }

  constructor(
    withUnmixed: boolean,
    /** The owner's memory as 32-bit words. */
    readonly words: Int32Array,
    /** Where the frame starts in it, in bytes (a multiple of 4). */
    readonly byteOffset: number,
    /** Unmixed timestamps, MAX_UNMIXED_SPEAKERS from `ticksAt` (unused without unmixed audio). */
    private readonly ticks: Float64Array,
    private readonly ticksAt: number,
  ) {
    this.maxUnmixed = withUnmixed ? MAX_UNMIXED_SPEAKERS : 0;
    this.speakersAt = (byteOffset + receivedPcmBytes(withUnmixed)) >> 2;
    this.unmixedIdsAt = this.speakersAt + MAX_ACTIVE_SPEAKERS;
  }

  /**
   * Copies a validated frame in. Returns how many unmixed buffers were skipped for a bad size
   * (or because the session did not ask for unmixed audio).
   */
  store(view: IncomingFrameView): number {
    this.sequence = view.sequence;
    this.timestampTicks = view.timestampTicks;
    this.isSilence = view.isSilence;
    this.receivedAtMs = view.receivedAtMs;
    const words = this.words;
    copyFrameInto(view.buffer, view.pcmOffset, words, this.byteOffset);
    const speakerCount = Math.min(view.activeSpeakerCount, MAX_ACTIVE_SPEAKERS);
    for (let i = 0; i < speakerCount; i++) words[this.speakersAt + i] = view.activeSpeaker(i);
    this.speakerCount = speakerCount;
    let kept = 0;
    let skipped = 0;
    for (let i = 0; i < view.unmixedCount; i++) {
      if (kept === this.maxUnmixed || view.unmixedLength(i) !== FRAME_BYTES) {
        skipped++;
        continue;
      }
      kept++;
      copyFrameInto(view.buffer, view.unmixedOffset(i), words, this.byteOffset + FRAME_BYTES * kept);
      words[this.unmixedIdsAt + kept - 1] = view.unmixedSpeakerId(i);
      this.ticks[this.ticksAt + kept - 1] = view.unmixedTimestampTicks(i);
    }
    this.unmixedCount = kept;
    return skipped;
  }

  /** Active speaker i (< speakerCount); ids are unsigned 32-bit, stored in int32 words. */
  speaker(i: number): number {
    return (this.words[this.speakersAt + i] as number) >>> 0;
  }

  /** Speaker id of kept unmixed buffer i (< unmixedCount). */
  unmixedSpeakerId(i: number): number {
    return (this.words[this.unmixedIdsAt + i] as number) >>> 0;
  }

  unmixedTimestampTicks(i: number): number {
    return this.ticks[this.ticksAt + i] as number;
  }
}

/**
 * The frame handlers get (one per session, reused for every frame): PCM, speakers and unmixed
 * buffers are copied into memory owned by the session's jitter buffer, so the bridge's receive
 * buffer can be released and nothing is allocated per frame. The speaker and unmixed arrays
 * are made the first time a count occurs (changing an array's length allocates), then reused.
 */
export class ReceivedFrameSlot implements ReceivedAudioFrame {
  sequence = 0;
  timestampTicks = 0;
  isSilence = false;
  concealed = false;
  receivedAtMs = 0;
  readonly pcm: Uint8Array;
  readonly samples: Int16Array;
  activeSpeakers: number[];
  unmixed: UnmixedSpeakerAudio[];
  private readonly unmixedSlots: UnmixedSlot[] = [];
  private readonly speakersByCount: (number[] | undefined)[];
  private readonly unmixedByCount: (UnmixedSlot[] | undefined)[];
  /**
   * Lengths of the arrays in activeSpeakers and unmixed, kept beside the frame's other fields:
   * reading an array's length touches the array, another cache line per frame that is cold
   * when a thousand sessions take turns (perf: 3 % of the worker thread at 1000 calls).
   */
  private speakersLength = 0;
  private unmixedLength = 0;

  constructor(
    withUnmixed: boolean,
    /** The owner's memory as 32-bit words, what frames are copied into (see frame-copy.ts). */
    readonly words: Int32Array = new Int32Array(receivedPcmBytes(withUnmixed) / 4),
    /** Where the slot's PCM starts in it, in bytes (a multiple of 4). */
    readonly byteOffset = 0,
  ) {
    const memory = words.buffer;
    const at = words.byteOffset + byteOffset;
    this.pcm = new Uint8Array(memory, at, FRAME_BYTES);
    this.samples = new Int16Array(memory, at, SAMPLES_PER_FRAME);
    if (withUnmixed) {
      for (let i = 1; i <= MAX_UNMIXED_SPEAKERS; i++) {
        const offset = at + FRAME_BYTES * i;
        this.unmixedSlots.push(
          new UnmixedSlot(
            new Uint8Array(memory, offset, FRAME_BYTES),
            new Int16Array(memory, offset, SAMPLES_PER_FRAME),
          ),
        );
      }
    }
    const noSpeakers: number[] = [];
    const noUnmixed: UnmixedSlot[] = [];
    this.speakersByCount = [noSpeakers];
    this.unmixedByCount = [noUnmixed];
    this.activeSpeakers = noSpeakers;
    this.unmixed = noUnmixed;
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
    copyFrameInto(view.buffer, view.pcmOffset, this.words, this.byteOffset);
    const speakerCount = Math.min(view.activeSpeakerCount, MAX_ACTIVE_SPEAKERS);
    const speakers = this.speakersOf(speakerCount);
    for (let i = 0; i < speakerCount; i++) speakers[i] = view.activeSpeaker(i);
    this.activeSpeakers = speakers;
    let kept = 0;
    let skipped = 0;
    for (let i = 0; i < view.unmixedCount; i++) {
      const slot = this.unmixedSlots[kept];
      if (slot === undefined || view.unmixedLength(i) !== FRAME_BYTES) {
        skipped++;
        continue;
      }
      kept++;
      copyFrameInto(view.buffer, view.unmixedOffset(i), this.words, this.byteOffset + FRAME_BYTES * kept);
      slot.speakerId = view.unmixedSpeakerId(i);
      slot.originalSenderTimestampTicks = view.unmixedTimestampTicks(i);
    }
    this.unmixed = this.unmixedOf(kept);
    return skipped;
  }

  /**
   * Takes a stored frame: one native copy of its PCM and unmixed buffers when it is in the
   * same memory, else a word loop (the slot is in an arena slab, the ring in the jitter
   * buffer's own memory; a held frame is the rare case).
   */
  load(frame: StoredFrame): void {
    this.sequence = frame.sequence;
    this.timestampTicks = frame.timestampTicks;
    this.isSilence = frame.isSilence;
    this.concealed = false;
    this.receivedAtMs = frame.receivedAtMs;
    const from = frame.byteOffset >> 2;
    const kept = frame.unmixedCount;
    const to = this.byteOffset >> 2;
    const count = FRAME_WORDS * (1 + kept);
    if (frame.words === this.words) this.words.copyWithin(to, from, from + count);
    else {
      const source = frame.words;
      const target = this.words;
      for (let i = 0; i < count; i++) target[to + i] = source[from + i] as number;
    }
    const speakers = this.speakersOf(frame.speakerCount);
    for (let i = 0; i < speakers.length; i++) speakers[i] = frame.speaker(i);
    this.activeSpeakers = speakers;
    for (let i = 0; i < kept; i++) {
      const slot = this.unmixedSlots[i] as UnmixedSlot;
      slot.speakerId = frame.unmixedSpeakerId(i);
      slot.originalSenderTimestampTicks = frame.unmixedTimestampTicks(i);
    }
    this.unmixed = this.unmixedOf(kept);
  }

  /** Turns this slot into silence standing in for a lost frame. */
  conceal(sequence: number, timestampTicks: number): void {
    this.sequence = sequence;
    this.timestampTicks = timestampTicks;
    this.isSilence = true;
    this.concealed = true;
    this.pcm.fill(0);
    this.activeSpeakers = this.speakersOf(0);
    this.unmixed = this.unmixedOf(0);
  }

  private speakersOf(count: number): number[] {
    // Counts rarely change from frame to frame: the current array, without a lookup.
    if (this.speakersLength === count) return this.activeSpeakers;
    let speakers = this.speakersByCount[count];
    if (speakers === undefined) {
      speakers = new Array<number>(count).fill(0);
      this.speakersByCount[count] = speakers;
    }
    this.speakersLength = count;
    return speakers;
  }

  private unmixedOf(count: number): UnmixedSlot[] {
    if (this.unmixedLength === count) return this.unmixed as UnmixedSlot[];
    let unmixed = this.unmixedByCount[count];
    if (unmixed === undefined) {
      unmixed = this.unmixedSlots.slice(0, count);
      this.unmixedByCount[count] = unmixed;
    }
    this.unmixedLength = count;
    return unmixed;
  }
}
