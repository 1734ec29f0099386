/**
 * Wire formats of the two baselines of bench:load, shared by their far end and bot side.
 *
 * Floor: one binary message per 20 ms tick carrying every stream's 640-byte frame back to
 * back behind a 16-byte header [u32 tick, u32 frames, f64 sentAtMs]; the bot sends the same
 * layout back. JSON + base64 (the closest peer's design): one text message per frame,
 * `{seq, timestampMs, payloadBase64}`, plus `stream` when all calls share one socket.
 */
export const FLOOR_HEADER_BYTES = 16;
export const FRAME_BYTES = 640;

export interface JsonFrame {
  stream?: number;
  seq: number;
  timestampMs: number;
  payloadBase64: string;
}

/** A second of a 440 Hz tone at -10 dBFS, 50 frames of 16 kHz mono PCM16: the far-end audio. */
export function toneSecond(): Buffer {
  const pcm = Buffer.alloc(50 * FRAME_BYTES);
  for (let i = 0; i < pcm.length / 2; i++) {
    pcm.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 440 * i) / 16_000) * 10_000), 2 * i);
  }
  return pcm;
}
