/**
 * The codec's per-frame paths allocate nothing: young-generation bytes per frame stay near 0
 * while writing (with unmixed buffers), reading and copying many frames. Copying a frame's PCM
 * through Buffer#copy or set(subarray()) cost about 96 bytes per copy (a view object).
 */
import { describe, expect, it } from "vitest";
import { createBenchmarkBatch, writeBenchmarkBatch } from "../../src/bridge/codec-benchmark.js";
import { FrameBatchReader } from "../../src/bridge/frame-batch-reader.js";
import { FrameBatchWriter } from "../../src/bridge/frame-batch-writer.js";
import { youngBytesAllocated } from "../media/gc-counter.js";

const SESSIONS = 200;
const UNMIXED = 2;
const TICKS = 40;
/** Per-batch objects (the returned view, one DataView per received buffer) spread over 200 frames. */
const MAX_BYTES_PER_FRAME = 4;

describe("codec allocations per frame", () => {
  it("FrameBatchWriter.addFrame/addUnmixed allocate nothing per frame", async () => {
    const batch = createBenchmarkBatch(SESSIONS, { unmixedPerFrame: UNMIXED });
    const writer = new FrameBatchWriter();
    for (let t = 0; t < 300; t++) writeBenchmarkBatch(writer, batch, t); // let the JIT settle
    const bytes = await youngBytesAllocated((attempt) => {
      for (let t = 0; t < TICKS; t++) writeBenchmarkBatch(writer, batch, 1000 + attempt * TICKS + t);
    });
    expect(bytes / (SESSIONS * TICKS)).toBeLessThan(MAX_BYTES_PER_FRAME);
  });

  it("frames given as their own 640-byte arrays (the set() path) allocate nothing either", async () => {
    const frames = Array.from({ length: SESSIONS }, (_, i) => new Uint8Array(640).fill(i));
    const writer = new FrameBatchWriter();
    const write = (tick: number) => {
      writer.begin(tick);
      for (let s = 0; s < SESSIONS; s++) {
        const pcm = frames[s] as Uint8Array;
        writer.addFrame(s + 1, 2, tick, tick * 200_000, pcm, 0, false);
        writer.addUnmixed(7, pcm, 0, 0);
      }
      return writer.finish();
    };
    for (let t = 1; t <= 300; t++) write(t);
    const bytes = await youngBytesAllocated((attempt) => {
      for (let t = 0; t < TICKS; t++) write(1000 + attempt * TICKS + t);
    });
    expect(bytes / (SESSIONS * TICKS)).toBeLessThan(MAX_BYTES_PER_FRAME);
  });

  it("FrameBatchReader.next/copyPcm/copyUnmixedPcm allocate nothing per frame", async () => {
    const batch = createBenchmarkBatch(SESSIONS, { unmixedPerFrame: UNMIXED });
    const writer = new FrameBatchWriter();
    // Each batch in its own buffer, as received from a socket; the Envelope header skipped.
    const received = Array.from({ length: TICKS * 5 }, (_, t) =>
      Buffer.from(writeBenchmarkBatch(writer, batch, t)),
    );
    const starts = received.map((b) => {
      let start = 1;
      while ((b[start] as number) >= 0x80) start++;
      return start + 1;
    });
    const reader = new FrameBatchReader();
    const target = new Uint8Array(640 * (1 + UNMIXED) + 3);
    let checksum = 0;
    const readTicks = (from: number) => {
      for (let t = from; t < from + TICKS; t++) {
        const bytes = received[t % received.length] as Buffer;
        if (!reader.reset(bytes, starts[t % received.length], bytes.length)) throw reader.error;
        while (reader.next()) {
          reader.copyPcm(target, 3); // an odd offset: no alignment help
          for (let u = 0; u < reader.unmixedCount; u++) reader.copyUnmixedPcm(u, target, 3 + 640 * (u + 1));
          checksum += reader.sequence + (target[3] as number) + reader.activeSpeakerCount;
        }
      }
    };
    for (let i = 0; i < 8; i++) readTicks(i * TICKS);
    let frames = 0;
    const bytes = await youngBytesAllocated((attempt) => {
      const before = checksum;
      readTicks(attempt * TICKS);
      frames = SESSIONS * TICKS;
      if (checksum === before) throw new Error("nothing was read");
    });
    expect(bytes / frames).toBeLessThan(MAX_BYTES_PER_FRAME);
  });
});
