/** The level reported for digital silence (a meter's floor), dBFS. */
export const SILENCE_DBFS = -96;

/**
 * The short-term level of 16-bit PCM frames in dBFS (0 = a full-scale square wave), smoothed
 * over about 150 ms (an exponential average of each 20 ms frame's mean square). Allocates
 * nothing: it is fed from the media clock's tick.
 */
export class LevelMeter {
  private meanSquare = 0;

  /** One frame of PCM16 little-endian at buffer[offset, offset + bytes). */
  addFrame(buffer: Uint8Array, offset: number, bytes: number): void {
    let sum = 0;
    const samples = bytes >> 1;
    for (let i = 0; i < samples; i++) {
      const at = offset + 2 * i;
      const sample = (((buffer[at + 1] as number) << 24) >> 16) | (buffer[at] as number);
      sum += sample * sample;
    }
    this.add(samples === 0 ? 0 : sum / (samples * 32768 * 32768));
  }

  /** A frame of silence (nothing played, a silent or lost frame). */
  addSilence(): void {
    this.add(0);
  }

  get dbfs(): number {
    if (this.meanSquare <= 1e-10) return SILENCE_DBFS;
    return Math.max(SILENCE_DBFS, Math.round(10 * Math.log10(this.meanSquare) * 10) / 10);
  }

  private add(frameMeanSquare: number): void {
    this.meanSquare += 0.15 * (frameMeanSquare - this.meanSquare);
  }
}
