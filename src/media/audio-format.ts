/** PCM16K: 16 kHz, 16-bit little-endian, mono, cut into 20 ms frames (the only format the platform speaks). */
export const SAMPLE_RATE_HZ = 16_000;
export const BYTES_PER_SAMPLE = 2;
export const FRAME_DURATION_MS = 20;
export const SAMPLES_PER_FRAME = (SAMPLE_RATE_HZ * FRAME_DURATION_MS) / 1000; // 320
export const FRAME_BYTES = SAMPLES_PER_FRAME * BYTES_PER_SAMPLE; // 640
/** Media platform clock unit: 100 ns. */
export const TICKS_PER_FRAME = FRAME_DURATION_MS * 10_000;
/** Unmixed buffers per received frame the platform sends at most. */
export const MAX_UNMIXED_SPEAKERS = 4;
/** DominantSpeakerChanged speaker id meaning "nobody". */
export const NO_SPEAKER = 0xffffffff;
