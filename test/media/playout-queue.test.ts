import { describe, expect, it } from "vitest";
import { FRAME_BYTES } from "../../src/media/audio-format.js";
import { type PlayoutMarkEvent, PlayoutQueue } from "../../src/media/playout-queue.js";
import { pcmFor } from "./frame-helpers.js";
import { youngBytesAllocated } from "./gc-counter.js";

function takeAll(queue: PlayoutQueue): Buffer[] {
  const out: Buffer[] = [];
  for (let frame = queue.take(); frame; frame = queue.take()) out.push(Buffer.from(frame));
  return out;
}

describe("PlayoutQueue", () => {
  it("cuts arbitrary-length writes into whole frames, keeping the remainder for later", () => {
    const queue = new PlayoutQueue(10);
    const audio = Buffer.concat([pcmFor(1), pcmFor(2), pcmFor(3)]);
    expect(queue.write(audio.subarray(0, 1000))).toBe(0);
    expect(queue.depth).toBe(1);
    expect(queue.write(audio.subarray(1000, 1001 + 0))).toBe(0);
    expect(queue.write(audio.subarray(1001))).toBe(0);
    expect(queue.depth).toBe(3);
    expect(Buffer.concat(takeAll(queue)).equals(audio)).toBe(true);
  });

  it("is bounded: a full queue drops the newest frames and says how many", () => {
    const queue = new PlayoutQueue(3);
    const audio = Buffer.concat([1, 2, 3, 4, 5].map((s) => pcmFor(s)));
    expect(queue.write(audio)).toBe(2);
    expect(takeAll(queue)).toEqual([1, 2, 3].map((s) => Buffer.from(pcmFor(s))));
    expect(queue.space).toBe(3);
  });

  it("reports a mark once every frame queued before it has been taken", () => {
    const queue = new PlayoutQueue(10);
    const marks: PlayoutMarkEvent[] = [];
    queue.write(Buffer.concat([pcmFor(1), pcmFor(2)]));
    queue.mark("after-two");
    queue.write(pcmFor(3));
    queue.reachedMarks(marks);
    expect(marks).toEqual([]);
    queue.take();
    queue.reachedMarks(marks);
    expect(marks).toEqual([]);
    queue.take();
    queue.reachedMarks(marks);
    expect(marks).toEqual([{ name: "after-two", played: true }]);
  });

  it("pads a remainder with silence when a mark closes it", () => {
    const queue = new PlayoutQueue(10);
    queue.write(pcmFor(1).subarray(0, 100));
    queue.mark("m");
    const [frame] = takeAll(queue);
    expect(frame?.subarray(0, 100).equals(Buffer.from(pcmFor(1).subarray(0, 100)))).toBe(true);
    expect(frame?.subarray(100).equals(Buffer.alloc(FRAME_BYTES - 100))).toBe(true);
  });

  it("clear drops everything at once and returns pending marks unplayed", () => {
    const queue = new PlayoutQueue(10);
    const marks: PlayoutMarkEvent[] = [];
    queue.write(Buffer.concat([pcmFor(1), pcmFor(2), pcmFor(3)]));
    queue.mark("m1");
    queue.write(pcmFor(4).subarray(0, 10));
    expect(queue.clear(marks)).toBe(3);
    expect(marks).toEqual([{ name: "m1", played: false }]);
    expect(queue.take()).toBeUndefined();
    // The remainder went too; new audio starts clean.
    queue.write(pcmFor(5));
    expect(takeAll(queue)).toEqual([Buffer.from(pcmFor(5))]);
    marks.length = 0;
    queue.mark("m2");
    queue.reachedMarks(marks);
    expect(marks).toEqual([{ name: "m2", played: true }]);
  });

  it("moves frames without allocating", async () => {
    const queue = new PlayoutQueue(10);
    const frame = pcmFor(9);
    const work = (frames: number) => (_attempt?: number) => {
      for (let i = 0; i < frames; i++) {
        queue.write(frame);
        queue.take();
      }
    };
    work(50_000)();
    // One 32-byte object per frame would be 640,000 bytes here.
    expect(await youngBytesAllocated(work(20_000))).toBeLessThan(100_000);
  });
});
