/**
 * PCM16K helpers for tests: make audio to feed (tones, silence) and measure what a handler
 * rendered (level, whether it is a tone of a given frequency). 16 kHz mono Int16Array
 * throughout, the platform's only format.
 */
import { SAMPLE_RATE_HZ } from "../media/audio-format.js";
import { readPcm16kWav } from "../media/wav-file.js";

/** Samples in `ms` milliseconds of 16 kHz audio. */
export function samplesIn(ms: number): number {
  if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`duration must be >= 0 ms, got ${ms}`);
  return Math.round((ms * SAMPLE_RATE_HZ) / 1000);
}

/** `ms` of silence. */
export function silence(ms: number): Int16Array {
  return new Int16Array(samplesIn(ms));
}

export interface ToneOptions {
  /** Peak amplitude, 0..32767 (default 8000, about -12 dBFS). */
  amplitude?: number;
  /** Phase of the first sample, radians (default 0). */
  phase?: number;
}

/** A sine of `hz` for `ms`. */
export function tone(hz: number, ms: number, options: ToneOptions = {}): Int16Array {
  const amplitude = options.amplitude ?? 8000;
  if (!(hz > 0 && hz < SAMPLE_RATE_HZ / 2))
    throw new RangeError(`tone frequency must be in (0, 8000) Hz, got ${hz}`);
  if (!(amplitude >= 0 && amplitude <= 32767))
    throw new RangeError(`amplitude must be 0..32767, got ${amplitude}`);
  const samples = new Int16Array(samplesIn(ms));
  const step = (2 * Math.PI * hz) / SAMPLE_RATE_HZ;
  const phase = options.phase ?? 0;
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(amplitude * Math.sin(phase + step * i));
  return samples;
}

/** Root mean square of the samples (0 for none). */
export function rms(samples: Int16Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    const sample = samples[i] as number;
    sum += sample * sample;
  }
  return Math.sqrt(sum / samples.length);
}

/** Level in dBFS (a full-scale square wave is 0; digital silence is -Infinity). */
export function levelDbfs(samples: Int16Array): number {
  const level = rms(samples);
  return level === 0 ? Number.NEGATIVE_INFINITY : 20 * Math.log10(level / 32768);
}

/**
 * How much of the samples' energy is at `hz` (0..1, Goertzel over the whole span): about 1 for
 * a pure tone of that frequency, about 0 for silence, another tone or noise.
 */
export function toneRatio(samples: Int16Array, hz: number): number {
  const n = samples.length;
  if (n === 0) return 0;
  const coefficient = 2 * Math.cos((2 * Math.PI * hz) / SAMPLE_RATE_HZ);
  let previous = 0;
  let beforePrevious = 0;
  let energy = 0;
  for (let i = 0; i < n; i++) {
    const sample = samples[i] as number;
    energy += sample * sample;
    const current = sample + coefficient * previous - beforePrevious;
    beforePrevious = previous;
    previous = current;
  }
  if (energy === 0) return 0;
  const power =
    previous * previous + beforePrevious * beforePrevious - coefficient * previous * beforePrevious;
  // A sine of amplitude A over n samples: power ≈ (A·n/2)², energy ≈ A²·n/2.
  return Math.min(1, (2 * power) / (n * energy));
}

/** True when at least `minRatio` (default 0.8) of the samples' energy is a tone of `hz`. */
export function isTone(samples: Int16Array, hz: number, minRatio = 0.8): boolean {
  return toneRatio(samples, hz) >= minRatio;
}

/**
 * Where two PCM buffers first differ: the sample index, the shorter length when one is a
 * prefix of the other, -1 when they are identical. Fast on long buffers (a test runner's deep
 * equality on a 5-second Int16Array takes about a second): `expect(firstDifference(a, b)).toBe(-1)`.
 */
export function firstDifference(actual: Int16Array, expected: Int16Array): number {
  const length = Math.min(actual.length, expected.length);
  for (let i = 0; i < length; i++) if (actual[i] !== expected[i]) return i;
  return actual.length === expected.length ? -1 : length;
}

/**
 * A 16 kHz mono 16-bit WAV file's samples, read with the bot's own WAV reader (the same
 * checks as `play()`): what to feed with `feed`, or to compare with what a handler played.
 */
export async function readWavSamples(path: string): Promise<Int16Array> {
  const pcm = await readPcm16kWav(path);
  // A copy: the file's bytes may start at an odd offset of a pooled buffer.
  const samples = new Int16Array(pcm.byteLength >> 1);
  new Uint8Array(samples.buffer).set(pcm.subarray(0, samples.byteLength));
  return samples;
}
