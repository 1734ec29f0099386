import { FrameBatchReader } from "./frame-batch-reader.js";
import { FrameBatchWriter } from "./frame-batch-writer.js";
import { FRAME_TICKS, PCM_FRAME_BYTES, type pb, v1 } from "./protocol.js";

/**
 * Building blocks for benchmarks/frames.ts: the same batch written and read by the
 * allocation-free writer/reader and by the generated protobufjs code, so both can be timed.
 */
export interface BenchmarkBatch {
  sessions: number;
  /** Per-session PCM, sessions * 640 bytes. */
  pcm: Uint8Array;
  activeSpeakers: Uint32Array;
  unmixedPerFrame: number;
  /** The same batch as generated-code objects. */
  message: pb.IEnvelope;
}

export function createBenchmarkBatch(
  sessions: number,
  options: { activeSpeakers?: number; unmixedPerFrame?: number } = {},
): BenchmarkBatch {
  const pcm = new Uint8Array(sessions * PCM_FRAME_BYTES);
  for (let i = 0; i < pcm.length; i++) pcm[i] = (i * 31 + 7) & 0xff;
  const activeSpeakers = Uint32Array.from({ length: options.activeSpeakers ?? 2 }, (_, i) => 1000 + i);
  const unmixedPerFrame = Math.min(4, options.unmixedPerFrame ?? 0);
  const frames: pb.IAudioFrame[] = [];
  for (let s = 0; s < sessions; s++) {
    const slice = pcm.subarray(s * PCM_FRAME_BYTES, (s + 1) * PCM_FRAME_BYTES);
    frames.push({
      session: s + 1,
      context: v1.MediaContext.MEDIA_CONTEXT_AUDIO_SOURCE,
      sequence: 1,
      timestampTicks: FRAME_TICKS,
      pcm: slice,
      activeSpeakers: Array.from(activeSpeakers),
      unmixed: Array.from({ length: unmixedPerFrame }, (_, u) => ({ speakerId: 1000 + u, pcm: slice })),
    });
  }
  return {
    sessions,
    pcm,
    activeSpeakers,
    unmixedPerFrame,
    message: { frames: { frames, sentAtUs: 1 } },
  };
}

/** Writes the batch with FrameBatchWriter (what the media worker does every tick). */
export function writeBenchmarkBatch(
  writer: FrameBatchWriter,
  batch: BenchmarkBatch,
  tick: number,
): Uint8Array {
  writer.begin(tick + 1);
  for (let s = 0; s < batch.sessions; s++) {
    const offset = s * PCM_FRAME_BYTES;
    writer.addFrame(
      s + 1,
      v1.MediaContext.MEDIA_CONTEXT_AUDIO_SOURCE,
      tick + 1,
      (tick + 1) * FRAME_TICKS,
      batch.pcm,
      offset,
      false,
      batch.activeSpeakers,
    );
    for (let u = 0; u < batch.unmixedPerFrame; u++) writer.addUnmixed(1000 + u, batch.pcm, offset, 0);
  }
  return writer.finish();
}

/** Reads every frame with FrameBatchReader, copying each frame's PCM out; returns a checksum. */
export function readBenchmarkBatch(reader: FrameBatchReader, bytes: Uint8Array, scratch: Uint8Array): number {
  // The Envelope header is 1 tag byte + the length varint; skip it like EnvelopeDecoder does.
  let start = 1;
  while ((bytes[start] as number) >= 0x80) start++;
  start++;
  if (!reader.reset(bytes, start, bytes.length)) throw reader.error;
  let sum = 0;
  while (reader.next()) {
    reader.copyPcm(scratch);
    sum += reader.sequence + (scratch[0] as number) + reader.activeSpeakerCount + reader.unmixedCount;
  }
  return sum;
}

export function encodeBenchmarkBatchGenerated(batch: BenchmarkBatch): Uint8Array {
  return v1.Envelope.encode(batch.message).finish();
}

export function decodeBenchmarkBatchGenerated(bytes: Uint8Array): number {
  const envelope = v1.Envelope.decode(bytes);
  let sum = 0;
  // The generated classes type repeated message fields as their I-interfaces; decode gives instances.
  for (const frame of (envelope.frames?.frames ?? []) as pb.AudioFrame[]) {
    sum += frame.sequence + (frame.pcm[0] as number) + frame.activeSpeakers.length + frame.unmixed.length;
  }
  return sum;
}

export { FrameBatchReader, FrameBatchWriter };
