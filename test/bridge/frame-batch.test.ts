import { describe, expect, it } from "vitest";
import { decodeEnvelope, EnvelopeDecoder, encodeEnvelope } from "../../src/bridge/codec.js";
import {
  createBenchmarkBatch,
  decodeBenchmarkBatchGenerated,
  encodeBenchmarkBatchGenerated,
  readBenchmarkBatch,
  writeBenchmarkBatch,
} from "../../src/bridge/codec-benchmark.js";
import { FrameBatchReader } from "../../src/bridge/frame-batch-reader.js";
import { FrameBatchWriter, restampSentAt } from "../../src/bridge/frame-batch-writer.js";
import { longToNumber, type pb } from "../../src/bridge/protocol.js";

/** Deterministic pseudo-random numbers (mulberry32), so a failure reproduces. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface FrameSpec {
  session: number;
  context: number;
  sequence: number;
  timestampTicks: number;
  pcm: Uint8Array;
  isSilence: boolean;
  activeSpeakers: number[];
  unmixed: { speakerId: number; pcm: Uint8Array; ts: number }[];
}

const INTERESTING = [0, 1, 127, 128, 16383, 16384, 2 ** 21, 2 ** 28, 2 ** 31, 2 ** 32 - 1];
const INTERESTING_64 = [
  0,
  1,
  2 ** 32,
  2 ** 35,
  2 ** 42,
  2 ** 49,
  2 ** 52,
  638_000_000_000_000_000,
  -1,
  -200_000,
];

function randomFrame(rand: () => number): FrameSpec {
  const pick = <T>(values: T[]): T => values[Math.floor(rand() * values.length)] as T;
  const bytes = () => Uint8Array.from({ length: 640 }, () => Math.floor(rand() * 256));
  return {
    session: pick(INTERESTING.filter((v) => v !== 0)),
    context: pick([0, 1, 2, 7]),
    sequence: pick(INTERESTING),
    timestampTicks: pick(INTERESTING_64),
    pcm: bytes(),
    isSilence: rand() < 0.5,
    activeSpeakers: Array.from({ length: Math.floor(rand() * 5) }, () => pick(INTERESTING)),
    unmixed: Array.from({ length: Math.floor(rand() * 5) }, () => ({
      speakerId: pick(INTERESTING),
      pcm: bytes(),
      ts: pick(INTERESTING_64),
    })),
  };
}

/** The same frame as the generated code's object, proto3 defaults left out (as the writer does). */
function asMessage(frame: FrameSpec): pb.IAudioFrame {
  const message: pb.IAudioFrame = { session: frame.session, pcm: frame.pcm };
  if (frame.context) message.context = frame.context;
  if (frame.sequence) message.sequence = frame.sequence;
  if (frame.timestampTicks) message.timestampTicks = frame.timestampTicks;
  if (frame.isSilence) message.isSilence = true;
  if (frame.activeSpeakers.length) message.activeSpeakers = frame.activeSpeakers;
  if (frame.unmixed.length) {
    message.unmixed = frame.unmixed.map((u) => {
      const entry: pb.IUnmixedAudio = { pcm: u.pcm };
      if (u.speakerId) entry.speakerId = u.speakerId;
      if (u.ts) entry.originalSenderTimestampTicks = u.ts;
      return entry;
    });
  }
  return message;
}

function write(writer: FrameBatchWriter, frames: FrameSpec[], sentAtUs: number): Uint8Array {
  writer.begin(sentAtUs);
  for (const f of frames) {
    // Write from an offset inside a bigger buffer, as the media worker does from its pools.
    const pool = new Uint8Array(640 + 13);
    pool.set(f.pcm, 13);
    writer.addFrame(
      f.session,
      f.context,
      f.sequence,
      f.timestampTicks,
      pool,
      13,
      f.isSilence,
      f.activeSpeakers,
    );
    for (const u of f.unmixed) writer.addUnmixed(u.speakerId, u.pcm, 0, u.ts);
  }
  return writer.finish();
}

function readAll(reader: FrameBatchReader): FrameSpec[] {
  const frames: FrameSpec[] = [];
  while (reader.next()) {
    const pcm = new Uint8Array(640);
    reader.copyPcm(pcm);
    expect(Buffer.from(reader.pcm()).equals(pcm)).toBe(true);
    frames.push({
      session: reader.session,
      context: reader.context,
      sequence: reader.sequence,
      timestampTicks: reader.timestampTicks,
      pcm,
      isSilence: reader.isSilence,
      activeSpeakers: Array.from(reader.activeSpeakers.subarray(0, reader.activeSpeakerCount)),
      unmixed: Array.from({ length: reader.unmixedCount }, (_, i) => {
        const unmixedPcm = new Uint8Array(640);
        reader.copyUnmixedPcm(i, unmixedPcm);
        return {
          speakerId: reader.unmixedSpeakerIds[i] as number,
          pcm: unmixedPcm,
          ts: reader.unmixedTimestampTicks[i] as number,
        };
      }),
    });
  }
  return frames;
}

describe("FrameBatchWriter / FrameBatchReader vs the generated code", () => {
  it("the writer produces exactly the generated code's bytes (200 random batches)", () => {
    const rand = random(42);
    const writer = new FrameBatchWriter({ initialCapacity: 4096 });
    for (let n = 0; n < 200; n++) {
      const frames = Array.from({ length: Math.floor(rand() * 6) }, () => randomFrame(rand));
      const sentAtUs = n % 3 === 0 ? 0 : 1_700_000_000_000_000 + n;
      const ours = write(writer, frames, sentAtUs);
      const batch: pb.IFrameBatch = { frames: frames.map(asMessage) };
      if (sentAtUs) batch.sentAtUs = sentAtUs;
      const theirs = encodeEnvelope({ frames: batch });
      expect(Buffer.from(ours).equals(Buffer.from(theirs)), `batch ${n}`).toBe(true);
    }
  });

  it("the reader reads what the generated code writes, and the generated code reads the writer", () => {
    const rand = random(7);
    const writer = new FrameBatchWriter();
    const decoder = new EnvelopeDecoder();
    for (let n = 0; n < 100; n++) {
      const frames = Array.from({ length: 1 + Math.floor(rand() * 5) }, () => randomFrame(rand));
      const generated = encodeEnvelope({ frames: { frames: frames.map(asMessage), sentAtUs: 77 } });
      expect(decoder.decode(generated)).toBe("frames");
      expect(decoder.frames.sentAtUs).toBe(77);
      expect(readAll(decoder.frames)).toEqual(frames);

      const decoded = decodeEnvelope(write(writer, frames, 78));
      expect(longToNumber(decoded.frames?.sentAtUs)).toBe(78);
      const back = ((decoded.frames?.frames ?? []) as pb.AudioFrame[]).map((f) => ({
        session: f.session,
        context: f.context,
        sequence: f.sequence,
        timestampTicks: longToNumber(f.timestampTicks),
        pcm: new Uint8Array(f.pcm),
        isSilence: f.isSilence,
        activeSpeakers: f.activeSpeakers,
        unmixed: (f.unmixed as pb.UnmixedAudio[]).map((u) => ({
          speakerId: u.speakerId,
          pcm: new Uint8Array(u.pcm),
          ts: longToNumber(u.originalSenderTimestampTicks),
        })),
      }));
      expect(back).toEqual(frames);
    }
  });

  it("reads unpacked active speakers too (a valid encoding other writers may use)", () => {
    const pcm = new Uint8Array(640);
    // AudioFrame{session 1, pcm, active_speakers 5 (unpacked), active_speakers 6 (unpacked)}
    const frame = Uint8Array.from([0x08, 1, 0x2a, 0x80, 0x05, ...pcm, 0x38, 5, 0x38, 6]);
    const batch = Uint8Array.from([0x0a, ...encodeLength(frame.length), ...frame]);
    const reader = new FrameBatchReader();
    expect(reader.reset(batch)).toBe(true);
    expect(reader.next()).toBe(true);
    expect(Array.from(reader.activeSpeakers.subarray(0, reader.activeSpeakerCount))).toEqual([5, 6]);
  });

  it("large frames (many active speakers) move past the 2-byte length reserve correctly", () => {
    const rand = random(3);
    const frame = randomFrame(rand);
    frame.activeSpeakers = Array.from({ length: 4000 }, (_, i) => 2 ** 28 + i);
    const writer = new FrameBatchWriter({ initialCapacity: 4096 });
    const ours = write(writer, [frame, randomFrame(rand)], 5);
    const decoded = decodeEnvelope(ours, { maxMessageBytes: 1 << 22 });
    expect(decoded.frames?.frames?.[0]?.activeSpeakers).toEqual(frame.activeSpeakers);
    expect(decoded.frames?.frames?.length).toBe(2);
  });

  it("a finished batch stays intact until the ring comes round", () => {
    const writer = new FrameBatchWriter({ ringSize: 3 });
    const pcm = new Uint8Array(640).fill(9);
    const batches: Uint8Array[] = [];
    for (let i = 0; i < 3; i++) {
      writer.begin(i + 1);
      writer.addFrame(i + 1, 1, i, 0, pcm, 0, false);
      batches.push(writer.finish());
    }
    const first = Buffer.from(batches[0] as Uint8Array);
    expect(decodeEnvelope(batches[0] as Uint8Array).frames?.frames?.[0]?.session).toBe(1);
    writer.begin(99);
    writer.addFrame(42, 1, 0, 0, pcm, 0, false);
    writer.finish();
    expect(Buffer.from(batches[0] as Uint8Array).equals(first)).toBe(false);
    expect(decodeEnvelope(batches[1] as Uint8Array).frames?.frames?.[0]?.session).toBe(2);
  });

  it("rejects programming errors early", () => {
    const writer = new FrameBatchWriter();
    const pcm = new Uint8Array(640);
    expect(() => writer.addFrame(1, 1, 0, 0, pcm, 0, false)).toThrow(/before begin/);
    writer.begin(1);
    expect(() => writer.addFrame(1, 1, 0, 0, pcm, 1, false)).toThrow(RangeError);
    writer.addFrame(1, 1, 0, 0, pcm, 0, false);
    for (let i = 0; i < 4; i++) writer.addUnmixed(i + 1, pcm, 0);
    expect(() => writer.addUnmixed(5, pcm, 0)).toThrow(/at most 4/);
  });

  it("benchmark helpers agree with each other", () => {
    const batch = createBenchmarkBatch(20, { unmixedPerFrame: 2 });
    const writer = new FrameBatchWriter();
    const reader = new FrameBatchReader();
    const scratch = new Uint8Array(640);
    const ours = writeBenchmarkBatch(writer, batch, 0);
    const generatedSum = decodeBenchmarkBatchGenerated(ours);
    expect(readBenchmarkBatch(reader, ours, scratch)).toBe(generatedSum);
    expect(readBenchmarkBatch(reader, encodeBenchmarkBatchGenerated(batch), scratch)).toBe(
      decodeBenchmarkBatchGenerated(encodeBenchmarkBatchGenerated(batch)),
    );
  });
});

function encodeLength(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

describe("restampSentAt", () => {
  const written = 1_764_201_600_123_456;
  function batch(): Uint8Array {
    const writer = new FrameBatchWriter();
    writer.begin(written);
    writer.addFrame(3, 1, 7, 123_456, new Uint8Array(640).fill(5), 0, false);
    return writer.finish().slice();
  }

  it("puts a later clock reading in place of the written sent_at_us, frames unchanged", () => {
    const bytes = batch();
    const before = decodeEnvelope(bytes).frames as pb.FrameBatch;
    expect(restampSentAt(bytes, written, written + 7_321)).toBe(true);
    const after = decodeEnvelope(bytes).frames as pb.FrameBatch;
    expect(longToNumber(after.sentAtUs)).toBe(written + 7_321);
    expect(after.frames).toEqual(before.frames);
  });

  it("leaves the bytes as they are when the reading needs another varint length or no stamp was written", () => {
    const bytes = batch();
    const copy = bytes.slice();
    expect(restampSentAt(bytes, written, 5)).toBe(false);
    expect(restampSentAt(bytes, 0, written)).toBe(false);
    expect(restampSentAt(bytes, 2 ** 20, 2 ** 20 + 1)).toBe(false);
    expect(bytes).toEqual(copy);
  });
});
