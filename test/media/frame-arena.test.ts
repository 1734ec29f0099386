import { describe, expect, it } from "vitest";
import { silentLogger } from "../../src/log/logger.js";
import { FRAME_BYTES } from "../../src/media/audio-format.js";
import type { ReceivedAudioFrame } from "../../src/media/bot-api.js";
import { CallSession, type CallSessionContext } from "../../src/media/call-session.js";
import { FrameArena, SessionMemory, SLOT_REGION_BYTES } from "../../src/media/frame-arena.js";
import { JitterBuffer } from "../../src/media/jitter-buffer.js";
import { PlayoutQueue } from "../../src/media/playout-queue.js";
import { createMediaMetrics } from "../../src/metrics/media-metrics.js";
import { createRegistry } from "../../src/metrics/registry.js";
import { pcmFor, TestFrameView } from "./frame-helpers.js";

describe("FrameArena", () => {
  it("hands out cache-line aligned regions in order, several to a slab", () => {
    const arena = new FrameArena(100, 3, true);
    expect(arena.regionBytes).toBe(128);
    const regions = [arena.allocate(), arena.allocate(), arena.allocate(), arena.allocate()];
    expect(regions.map((r) => r.byteOffset)).toEqual([0, 128, 256, 0]);
    expect(regions[1]?.words).toBe(regions[0]?.words);
    expect(regions[3]?.words).not.toBe(regions[0]?.words);
    expect(regions[0]?.words.byteLength).toBe(3 * 128);
  });

  it("reuses a released region zeroed, when reuse is allowed", () => {
    const arena = new FrameArena(64, 4, true);
    const first = arena.allocate();
    first.words.fill(7, 0, 16);
    arena.release(first);
    const again = arena.allocate();
    expect(again).toBe(first);
    expect([...again.words.subarray(0, 16)].every((w) => w === 0)).toBe(true);
  });

  it("never gives a released region to anyone else without reuse", () => {
    const arena = new FrameArena(FRAME_BYTES, 2, false);
    const first = arena.allocate();
    arena.release(first);
    const second = arena.allocate();
    const third = arena.allocate();
    for (const [a, b] of [
      [first, second],
      [first, third],
      [second, third],
    ] as const)
      expect(a.words === b.words && a.byteOffset === b.byteOffset).toBe(false);
  });

  it("refuses sizes that make no region", () => {
    expect(() => new FrameArena(0, 4, true)).toThrow(RangeError);
    expect(() => new FrameArena(64, 0, true)).toThrow(RangeError);
  });
});

describe("frame memory in arena regions", () => {
  it("a playout queue in a region queues and takes like one with its own memory", () => {
    const arena = new FrameArena(PlayoutQueue.bytes(3), 2, true);
    const neighbour = new PlayoutQueue(3, {}, arena.allocate());
    const queue = new PlayoutQueue(3, {}, arena.allocate());
    for (let s = 0; s < 3; s++) {
      expect(queue.pushFrame(pcmFor(s), 0)).toBe(true);
      neighbour.pushFrame(pcmFor(100 + s), 0);
    }
    expect(queue.pushFrame(pcmFor(9), 0)).toBe(false);
    // A remainder waits in the region's partial frame, then pads a whole frame.
    const half = pcmFor(50).subarray(0, FRAME_BYTES / 2);
    for (let s = 0; s < 3; s++) expect(Buffer.from(queue.take() ?? [])).toEqual(Buffer.from(pcmFor(s)));
    queue.write(half);
    queue.flushPartial();
    const padded = Buffer.from(queue.take() ?? []);
    expect(padded.subarray(0, FRAME_BYTES / 2)).toEqual(Buffer.from(half));
    expect(padded.subarray(FRAME_BYTES / 2).every((b) => b === 0)).toBe(true);
    for (let s = 0; s < 3; s++)
      expect(Buffer.from(neighbour.take() ?? [])).toEqual(Buffer.from(pcmFor(100 + s)));
  });

  it("a detached queue works on memory of its own and leaves its old region alone", () => {
    const arena = new FrameArena(PlayoutQueue.bytes(4), 1, true);
    const region = arena.allocate();
    const queue = new PlayoutQueue(4, {}, region);
    queue.pushFrame(pcmFor(1), 0);
    queue.detach();
    arena.release(region);
    expect(queue.depth).toBe(0);
    queue.pushFrame(pcmFor(2), 0);
    queue.clear([]);
    expect([...region.words].every((w) => w === 0)).toBe(true);
  });

  it("a region too small for the queue is refused", () => {
    const arena = new FrameArena(PlayoutQueue.bytes(2), 1, true);
    expect(() => new PlayoutQueue(3, {}, arena.allocate())).toThrow(RangeError);
  });

  it("a jitter buffer with its slot in a region reorders held frames into it", () => {
    const arena = new FrameArena(SLOT_REGION_BYTES, 4, false);
    const neighbour = arena.allocate();
    const seen: [number, Buffer][] = [];
    const buffer = new JitterBuffer({
      depth: 2,
      maxConcealFrames: 50,
      unmixed: false,
      slotRegion: arena.allocate(),
      onFrame: (frame) => seen.push([frame.sequence, Buffer.from(frame.pcm)]),
    });
    const view = new TestFrameView();
    for (const s of [10, 12, 11, 13]) buffer.push(view.set(s));
    expect(seen.map(([s]) => s)).toEqual([10, 11, 12, 13]);
    for (const [s, pcm] of seen) expect(pcm).toEqual(Buffer.from(pcmFor(s)));
    // Its scalars stay in its own region: the region before it is untouched.
    expect(neighbour.words.subarray(0, SLOT_REGION_BYTES / 4).every((w) => w === 0)).toBe(true);
    // A lost frame is stamped from the last timestamp kept in the region's scalars.
    buffer.push(view.set(15));
    buffer.push(view.set(16));
    buffer.push(view.set(17));
    expect(seen.slice(4).map(([s]) => s)).toEqual([14, 15, 16, 17]);
    expect(
      () =>
        new JitterBuffer({
          depth: 2,
          maxConcealFrames: 50,
          unmixed: true,
          slotRegion: arena.allocate(),
          onFrame: () => {},
        }),
    ).toThrow(RangeError);
    const small = new FrameArena(FRAME_BYTES, 1, false).allocate();
    expect(
      () =>
        new JitterBuffer({
          depth: 2,
          maxConcealFrames: 50,
          unmixed: false,
          slotRegion: small,
          onFrame: () => {},
        }),
    ).toThrow(RangeError);
  });
});

describe("sessions sharing the engine's memory", () => {
  function context(memory: SessionMemory): CallSessionContext {
    return {
      log: silentLogger(),
      metrics: createMediaMetrics(createRegistry()),
      time: { nowMs: 0 },
      recordingsDir: "/nonexistent",
      playoutQueueFrames: 4,
      jitterDepthFrames: 2,
      maxConcealFrames: 50,
      memory,
      sendClear: () => {},
      requestRecordingStatus: () => Promise.resolve(false),
      requestHangUp: () => {},
    };
  }

  it("a frame kept by an ended call's handler never shows a later call's audio", async () => {
    const memory = new SessionMemory(PlayoutQueue.bytes(4));
    const first = new CallSession("call-1", "m1", 1, "sendRecv", false, context(memory));
    let kept: ReceivedAudioFrame | undefined;
    first.handlers = [
      {
        onAudio: (frame) => {
          kept = frame;
          first.sendLive(frame.pcm);
        },
      },
    ];
    first.setSendStatus(true);
    first.receive(new TestFrameView().set(1, { pcm: pcmFor(1, 11) }));
    await first.end("test");
    // After the end, a late call on the ended session touches nothing of the arena.
    first.clear();
    const second = new CallSession("call-2", "m2", 2, "sendRecv", false, context(memory));
    second.handlers = [{ onAudio: (frame) => second.sendLive(frame.pcm) }];
    second.setSendStatus(true);
    for (let s = 1; s <= 5; s++) second.receive(new TestFrameView().set(s, { pcm: pcmFor(s, 22) }));
    expect(Buffer.from(kept?.pcm ?? [])).toEqual(Buffer.from(pcmFor(1, 11)));
    // Its queue (in the region the first call gave back) holds its own newest 4 frames.
    for (let s = 2; s <= 5; s++)
      expect(Buffer.from(second.render() ?? [])).toEqual(Buffer.from(pcmFor(s, 22)));
  });
});
