import { readFileSync, statSync } from "node:fs";
import { PCM_FRAME_BYTES, PCM_FRAME_SAMPLES } from "../../bridge/protocol.js";

/** Where a session's (or a speaker's) far-end audio comes from. */
export type AudioSourceSpec =
  | { kind: "tone"; frequencyHz: number; amplitude?: number }
  | { kind: "wav"; path: string; loop?: boolean }
  | { kind: "pcm"; pcm: Uint8Array; loop?: boolean }
  | { kind: "silence" };

/** Produces one 20 ms frame of PCM16K at a time into a caller's buffer. */
export interface AudioSource {
  /** Writes 640 bytes at target[offset]; returns false when a non-looping source has ended. */
  read(target: Uint8Array, offset: number): boolean;
}

export class AudioSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AudioSourceError";
  }
}

export function createAudioSource(spec: AudioSourceSpec): AudioSource {
  switch (spec.kind) {
    case "tone":
      return new ToneSource(spec.frequencyHz, spec.amplitude ?? 0.3);
    case "wav":
      return new PcmSource(readWavPcm16k(spec.path), spec.loop ?? true);
    case "pcm":
      return new PcmSource(spec.pcm, spec.loop ?? true);
    case "silence":
      return {
        read(target, offset) {
          target.fill(0, offset, offset + PCM_FRAME_BYTES);
          return true;
        },
      };
  }
}

/** A sine wave; phase carries over between frames so there is no click every 20 ms. */
class ToneSource implements AudioSource {
  private phase = 0;
  private readonly step: number;
  private readonly amplitude: number;

  constructor(frequencyHz: number, amplitude: number) {
    if (!(frequencyHz > 0 && frequencyHz < 8000))
      throw new AudioSourceError("tone frequency must be in (0, 8000) Hz");
    this.step = (2 * Math.PI * frequencyHz) / 16_000;
    this.amplitude = Math.max(0, Math.min(1, amplitude)) * 32767;
  }

  read(target: Uint8Array, offset: number): boolean {
    for (let i = 0; i < PCM_FRAME_SAMPLES; i++) {
      const sample = Math.round(Math.sin(this.phase) * this.amplitude);
      this.phase += this.step;
      target[offset + 2 * i] = sample & 0xff;
      target[offset + 2 * i + 1] = (sample >> 8) & 0xff;
    }
    this.phase %= 2 * Math.PI;
    return true;
  }
}

/** Plays PCM16K bytes frame by frame, looped or once (the last partial frame padded with zeros). */
class PcmSource implements AudioSource {
  private position = 0;

  constructor(
    private readonly pcm: Uint8Array,
    private readonly loop: boolean,
  ) {
    if (pcm.length < 2) throw new AudioSourceError("PCM source is empty");
  }

  read(target: Uint8Array, offset: number): boolean {
    for (let written = 0; written < PCM_FRAME_BYTES; ) {
      if (this.position >= this.pcm.length) {
        if (!this.loop) {
          target.fill(0, offset + written, offset + PCM_FRAME_BYTES);
          return written > 0;
        }
        this.position = 0;
      }
      const n = Math.min(PCM_FRAME_BYTES - written, this.pcm.length - this.position);
      target.set(this.pcm.subarray(this.position, this.position + n), offset + written);
      this.position += n;
      written += n;
    }
    return true;
  }
}

/**
 * Checks a source by making it once and loads a WAV file's PCM, so a bad file fails here (at
 * start, or in the control request that names it) and sessions made from the result cannot.
 * Throws an AudioSourceError.
 */
export function prepareAudioSource(spec: AudioSourceSpec): AudioSourceSpec {
  const prepared: AudioSourceSpec =
    spec.kind === "wav" ? { kind: "pcm", pcm: readWavPcm16k(spec.path), loop: spec.loop ?? true } : spec;
  createAudioSource(prepared);
  return prepared;
}

/** 20 minutes of 16 kHz 16-bit audio (plus headers): larger files are refused, not read. */
export const MAX_WAV_BYTES = 40 * 1024 * 1024;

/** Reads a RIFF/WAVE file and returns its data chunk; only 16 kHz mono 16-bit PCM is accepted. */
export function readWavPcm16k(path: string): Uint8Array {
  let file: Buffer;
  try {
    // Checked first: a device or a FIFO would never end, a huge file would exhaust memory.
    const stat = statSync(path);
    if (!stat.isFile()) throw new AudioSourceError(`${path} is not a regular file`);
    if (stat.size > MAX_WAV_BYTES)
      throw new AudioSourceError(`${path} is larger than ${MAX_WAV_BYTES} bytes (${stat.size})`);
    file = readFileSync(path);
  } catch (error) {
    if (error instanceof AudioSourceError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code;
    throw new AudioSourceError(`cannot read ${path}: ${why ?? (error as Error).message}`);
  }
  if (
    file.length < 12 ||
    file.toString("ascii", 0, 4) !== "RIFF" ||
    file.toString("ascii", 8, 12) !== "WAVE"
  ) {
    throw new AudioSourceError(`${path} is not a RIFF/WAVE file`);
  }
  let format: { tag: number; channels: number; rate: number; bits: number } | undefined;
  let offset = 12;
  while (offset + 8 <= file.length) {
    const id = file.toString("ascii", offset, offset + 4);
    const size = file.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === "fmt " && size >= 16 && body + 16 <= file.length) {
      format = {
        tag: file.readUInt16LE(body),
        channels: file.readUInt16LE(body + 2),
        rate: file.readUInt32LE(body + 4),
        bits: file.readUInt16LE(body + 14),
      };
    } else if (id === "data") {
      if (!format) throw new AudioSourceError(`${path}: data chunk before fmt chunk`);
      if (format.tag !== 1 || format.channels !== 1 || format.rate !== 16_000 || format.bits !== 16) {
        throw new AudioSourceError(
          `${path} must be 16 kHz mono 16-bit PCM, got format ${format.tag}, ${format.channels} ch, ` +
            `${format.rate} Hz, ${format.bits} bit`,
        );
      }
      const end = Math.min(file.length, body + size);
      return new Uint8Array(file.buffer, file.byteOffset + body, (end - body) & ~1);
    }
    offset = body + size + (size & 1);
  }
  throw new AudioSourceError(`${path} has no data chunk`);
}

/**
 * Echo matching: the emulator hides the frame's sequence number in the least significant bit
 * of the first 32 samples (16 bits of sequence, then their complement as a check). That is
 * -90 dB, inaudible, and survives any processing that copies samples unchanged (an echo bot).
 */
const MARK_BITS = 16;

export function writeWatermark(pcm: Uint8Array, offset: number, sequence: number): void {
  const value = sequence & 0xffff;
  for (let i = 0; i < MARK_BITS; i++) {
    const bit = (value >>> i) & 1;
    const lo = offset + 2 * i;
    pcm[lo] = ((pcm[lo] as number) & 0xfe) | bit;
    const check = offset + 2 * (i + MARK_BITS);
    pcm[check] = ((pcm[check] as number) & 0xfe) | (bit ^ 1);
  }
}

/** The 16-bit sequence hidden in a frame, or -1 when the frame carries no valid watermark. */
export function readWatermark(pcm: Uint8Array, offset: number): number {
  let value = 0;
  for (let i = 0; i < MARK_BITS; i++) {
    const bit = (pcm[offset + 2 * i] as number) & 1;
    const check = (pcm[offset + 2 * (i + MARK_BITS)] as number) & 1;
    if (bit === check) return -1;
    value |= bit << i;
  }
  return value;
}
