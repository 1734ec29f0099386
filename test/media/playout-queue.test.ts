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

  it("a taken frame stays intact until the next take, however much is queued meanwhile", () => {
    const queue = new PlayoutQueue(3);
    queue.write(pcmFor(1));
    const taken = queue.take() as Uint8Array;
    // E.g. a handler's onMarkPlayed queues audio before the pacer copied the frame out.
    expect(queue.write(Buffer.concat([2, 3, 4].map((s) => pcmFor(s))))).toBe(0);
    expect(Buffer.from(taken).equals(Buffer.from(pcmFor(1)))).toBe(true);
    expect(takeAll(queue)).toEqual([2, 3, 4].map((s) => Buffer.from(pcmFor(s))));
  });

  it("keeps frames in order through drops, live trims and clears as memory frames are reused", () => {
    const queue = new PlayoutQueue(4, { liveTargetFrames: 1, liveWindowTicks: 2 });
    const out: number[] = [];
    const takeOne = () => {
      const frame = queue.take();
      if (frame) out.push(Buffer.from(frame).readInt16LE(0));
    };
    const first = (s: number) => Buffer.from(pcmFor(s)).readInt16LE(0);
    let next = 1;
    const live = (frames: number) => {
      for (let i = 0; i < frames; i++) queue.write(pcmFor(next++), true);
    };
    live(6); // 1, 2 dropped for 5, 6
    takeOne(); // 3
    live(1); // 7
    takeOne(); // 4
    queue.endTick();
    queue.endTick(); // window over: depth 3 stood above 1: trims 5, 6
    takeOne(); // 7
    live(2); // 8, 9
    queue.clear([]);
    live(1); // 10
    takeOne();
    takeOne(); // nothing
    expect(out).toEqual([3, 4, 7, 10].map(first));
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

  it("live audio: a full queue gives up its oldest live frame for the newest", () => {
    const queue = new PlayoutQueue(3);
    const audio = Buffer.concat([1, 2, 3, 4, 5].map((s) => pcmFor(s)));
    expect(queue.write(audio, true)).toBe(0);
    expect(queue.takeTrimmed()).toBe(2);
    expect(takeAll(queue)).toEqual([3, 4, 5].map((s) => Buffer.from(pcmFor(s))));
    expect(queue.takeTrimmed()).toBe(0);
  });

  it("live audio behind buffered audio never pushes the buffered frames out", () => {
    const queue = new PlayoutQueue(3);
    queue.write(Buffer.concat([pcmFor(1), pcmFor(2), pcmFor(3)]));
    expect(queue.write(pcmFor(4), true)).toBe(1);
    expect(queue.takeTrimmed()).toBe(0);
    expect(takeAll(queue)).toEqual([1, 2, 3].map((s) => Buffer.from(pcmFor(s))));
  });

  it("trims a standing live backlog to the target at the end of a window, oldest first", () => {
    const queue = new PlayoutQueue(10, { liveTargetFrames: 2, liveWindowTicks: 5 });
    let next = 1;
    const send = (frames: number) => {
      for (let i = 0; i < frames; i++) queue.write(pcmFor(next++), true);
    };
    send(8); // a burst: 8 frames at once
    const sent: number[] = [];
    const tick = () => {
      const frame = queue.take();
      if (frame) sent.push(Buffer.from(frame).readInt16LE(0));
      return queue.endTick();
    };
    // Steady state after the burst: one frame in, one out per tick; the backlog stands.
    for (let t = 0; t < 4; t++) {
      send(1);
      expect(tick()).toBe(0);
    }
    expect(queue.depth).toBe(8);
    send(1);
    // Window over: the depth never went below 8, so 6 frames were never needed.
    expect(tick()).toBe(6);
    expect(queue.depth).toBe(2);
    // The oldest went: what plays next is the newest audio but two frames.
    const lastTwo = [queue.take(), queue.take()].map((f) => Buffer.from(f as Uint8Array));
    expect(lastTwo).toEqual([Buffer.from(pcmFor(next - 2)), Buffer.from(pcmFor(next - 1))]);
    expect(sent.length).toBe(5);
  });

  it("leaves jitter alone: a depth that comes back down within the window is not trimmed", () => {
    const queue = new PlayoutQueue(10, { liveTargetFrames: 2, liveWindowTicks: 5 });
    // Arrivals bunch up (0, 4, 0, 0, 1, ...) but the queue drains to 0 once per window.
    const arrivals = [0, 4, 0, 0, 1, 0, 4, 0, 0, 1, 0, 4, 0, 0, 1];
    let seq = 0;
    let trimmed = 0;
    for (const count of arrivals) {
      for (let i = 0; i < count; i++) queue.write(pcmFor(seq++), true);
      queue.take();
      trimmed += queue.endTick();
    }
    expect(trimmed).toBe(0);
  });

  it("lets a live backlog one frame above the target stand (arrival phase wobble), trims two", () => {
    const queue = new PlayoutQueue(10, { liveTargetFrames: 2, liveWindowTicks: 5 });
    let seq = 0;
    /** Ticks of one frame in, one out; returns the frames trimmed. */
    const steady = (ticks: number) => {
      let trimmed = 0;
      for (let t = 0; t < ticks; t++) {
        queue.write(pcmFor(seq++), true);
        queue.take();
        trimmed += queue.endTick();
      }
      return trimmed;
    };
    for (let i = 0; i < 3; i++) queue.write(pcmFor(seq++), true);
    // Depth 3 after every take, window after window (four of them; see the next test): not trimmed.
    expect(steady(20)).toBe(0);
    expect(queue.depth).toBe(3);
    // One more frame stands (4 = target + 2): trimmed to the target at the window's end.
    queue.write(pcmFor(seq++), true);
    expect(steady(10)).toBe(2);
    expect(queue.depth).toBe(2);
  });

  it("drops a loud frame of slack after it stood five windows (a tone never pauses)", () => {
    const queue = new PlayoutQueue(10, { liveTargetFrames: 0, liveWindowTicks: 5 });
    let seq = 0;
    queue.write(pcmFor(seq++), true);
    const trims: number[] = [];
    for (let t = 0; t < 30; t++) {
      queue.write(pcmFor(seq++), true);
      queue.take();
      trims.push(queue.endTick());
    }
    // Four windows it stands (arrival wobble would come back down); the fifth ends it.
    expect(trims.indexOf(1)).toBe(24);
    expect(trims.reduce((a, b) => a + b, 0)).toBe(1);
    expect(queue.depth).toBe(0);
  });

  it("drops the one frame of slack when it is quiet: back to the target in a pause, unheard", () => {
    const queue = new PlayoutQueue(10, { liveTargetFrames: 2, liveWindowTicks: 5 });
    /** A frame at ±peak (-50 dBFS is 100), with one sample at `spike` if given. */
    const quiet = (peak: number, spike?: number) => {
      const frame = Buffer.alloc(FRAME_BYTES);
      for (let i = 0; i < FRAME_BYTES / 2; i++) frame.writeInt16LE(i % 2 === 0 ? peak : -peak, i * 2);
      if (spike !== undefined) frame.writeInt16LE(spike, 100);
      return frame;
    };
    let seq = 0;
    const steady = (ticks: number, next: () => Uint8Array) => {
      let trimmed = 0;
      for (let t = 0; t < ticks; t++) {
        queue.write(next(), true);
        queue.take();
        trimmed += queue.endTick();
      }
      return trimmed;
    };
    for (let i = 0; i < 3; i++) queue.write(pcmFor(seq++), true);
    expect(steady(10, () => pcmFor(seq++))).toBe(0);
    // Nearly quiet: one sample above -50 dBFS, still heard: the slack stands.
    expect(steady(10, () => quiet(100, -101))).toBe(0);
    expect(queue.depth).toBe(3);
    // A pause: the quiet frame at the head goes at the window's end.
    expect(steady(5, () => quiet(100))).toBe(1);
    expect(queue.depth).toBe(2);
    // Speech again, and the arrivals' phase wobbles straight back (one frame more stands):
    // the quiet drop was no burst, so the loud slack is kept, not trimmed in the next window.
    queue.write(pcmFor(seq++), true);
    expect(steady(20, () => pcmFor(seq++))).toBe(0);
    expect(queue.depth).toBe(3);
    // In the next pause it goes again, and then the queue stays at the target.
    expect(steady(5, () => quiet(0))).toBe(1);
    expect(steady(20, () => quiet(0))).toBe(0);
    expect(queue.depth).toBe(2);
  });

  it("the window after a trim trims a last frame above the target too: a burst ends at the target", () => {
    const queue = new PlayoutQueue(10, { liveTargetFrames: 2, liveWindowTicks: 5 });
    let seq = 0;
    const tick = (arrivals: number) => {
      for (let i = 0; i < arrivals; i++) queue.write(pcmFor(seq++), true);
      queue.take();
      return queue.endTick();
    };
    for (let i = 0; i < 4; i++) queue.write(pcmFor(seq++), true);
    // A burst still arriving when the window ends: depths 4, 4, 4, 4, 5 after the takes.
    expect([1, 1, 1, 1, 2].map(tick)).toEqual([0, 0, 0, 0, 2]);
    expect(queue.depth).toBe(3);
    // One above the target after a trim: trimmed too, then it stands at the target.
    expect([1, 1, 1, 1, 1].map(tick)).toEqual([0, 0, 0, 0, 1]);
    expect(queue.depth).toBe(2);
    expect(Array.from({ length: 20 }, () => tick(1)).every((trimmed) => trimmed === 0)).toBe(true);
  });

  it("adaptive live target: starts at 0, rises a frame per underrun or trimmed burst up to the target, relaxes after 10 s", () => {
    const queue = new PlayoutQueue(10, { liveTargetFrames: 2, liveWindowTicks: 5, adaptiveLiveTarget: true });
    let seq = 0;
    let trimmed = 0;
    /** One tick: `arrivals` live frames in, one taken, the tick ended. */
    const tick = (arrivals = 1) => {
      for (let i = 0; i < arrivals; i++) queue.write(pcmFor(seq++), true);
      queue.take();
      trimmed += queue.endTick();
    };
    expect(queue.liveTargetFrames).toBe(0);
    // A backlog of two standing above 0 is trimmed to 0 (a fixed target of 2 would keep it).
    queue.write(pcmFor(seq++), true);
    queue.write(pcmFor(seq++), true);
    for (let t = 0; t < 5; t++) tick();
    expect(trimmed).toBe(2);
    expect(queue.depth).toBe(0);
    // ...and a trimmed burst raises the target: the next burst of two is trimmed to 1.
    expect(queue.liveTargetFrames).toBe(1);
    // An arrival that comes after the render: the queue runs dry while live audio flows.
    tick(0);
    expect(queue.liveTargetFrames).toBe(2);
    tick(0); // still dry: no live frame was taken in between, so no second underrun
    expect(queue.liveTargetFrames).toBe(2);
    tick(1);
    tick(0);
    expect(queue.liveTargetFrames).toBe(2); // capped at liveTargetFrames
    // 500 ticks (10 s) without an underrun or a trimmed burst: down a frame, and again after 500 more.
    for (let t = 0; t < 499; t++) tick();
    expect(queue.liveTargetFrames).toBe(2);
    tick();
    expect(queue.liveTargetFrames).toBe(1);
    for (let t = 0; t < 500; t++) tick();
    expect(queue.liveTargetFrames).toBe(0);
  });

  it("adaptive live target: emptying the queue with clear() is no underrun", () => {
    const queue = new PlayoutQueue(10, { liveTargetFrames: 2, adaptiveLiveTarget: true });
    queue.write(pcmFor(1), true);
    queue.write(pcmFor(2), true);
    queue.take();
    queue.endTick();
    queue.clear([]);
    expect(queue.take()).toBeUndefined();
    queue.endTick();
    expect(queue.liveTargetFrames).toBe(0);
  });

  it("a fixed live target stays where it was set, underruns or not", () => {
    const queue = new PlayoutQueue(10, { liveTargetFrames: 2 });
    expect(queue.liveTargetFrames).toBe(2);
    queue.write(pcmFor(1), true);
    queue.take();
    queue.endTick();
    queue.take();
    queue.endTick();
    expect(queue.liveTargetFrames).toBe(2);
  });

  it("never trims buffered audio, however long it stands", () => {
    const queue = new PlayoutQueue(10, { liveTargetFrames: 0, liveWindowTicks: 1 });
    queue.write(Buffer.concat(Array.from({ length: 10 }, (_, i) => pcmFor(i))));
    const out: Buffer[] = [];
    let trimmed = 0;
    for (let t = 0; t < 12; t++) {
      const frame = queue.take();
      if (frame) out.push(Buffer.from(frame));
      trimmed += queue.endTick();
    }
    expect(trimmed).toBe(0);
    expect(out).toEqual(Array.from({ length: 10 }, (_, i) => Buffer.from(pcmFor(i))));
  });

  it("after a clock stall, ends the window two ticks later instead of a full window", () => {
    const queue = new PlayoutQueue(10, { liveTargetFrames: 2, liveWindowTicks: 50 });
    queue.take();
    expect(queue.endTick()).toBe(0);
    queue.expediteTrim(); // the stall's tick has run; its burst arrives next
    for (let i = 0; i < 10; i++) queue.write(pcmFor(i), true);
    queue.take();
    expect(queue.endTick()).toBe(0);
    queue.write(pcmFor(10), true);
    queue.take();
    expect(queue.endTick()).toBe(7);
    expect(queue.depth).toBe(2);
  });

  it("marks behind trimmed live frames are still reached", () => {
    const queue = new PlayoutQueue(10, { liveTargetFrames: 0, liveWindowTicks: 1 });
    const marks: PlayoutMarkEvent[] = [];
    queue.write(Buffer.concat([pcmFor(1), pcmFor(2), pcmFor(3)]), true);
    queue.mark("m");
    queue.take();
    expect(queue.endTick()).toBe(2); // the 2 live frames left
    queue.reachedMarks(marks);
    expect(marks).toEqual([{ name: "m", played: true }]);
  });

  it("drops live audio that stood more than its length in ticks (nothing was sent: send status inactive, host away); buffered audio waits", () => {
    // Issue 13 defect 8: the echo's frames queued before a media host outage were sent after the resume.
    const queue = new PlayoutQueue(10, { liveTargetFrames: 2 });
    queue.write(Buffer.concat([pcmFor(1), pcmFor(2)])); // a prompt's last frames
    queue.write(Buffer.concat([pcmFor(3), pcmFor(4)]), true); // the echo behind them
    let dropped = 0;
    // Nothing is taken (no send status) for 10 ticks: the live frames are 200 ms old, no older.
    for (let t = 0; t < 10; t++) dropped += queue.endTick();
    expect(dropped).toBe(0);
    for (let t = 0; t < 200; t++) dropped += queue.endTick();
    // Still there: the buffered frames ahead of them hold them back (and are never dropped).
    expect(queue.depth).toBe(4);
    queue.write(pcmFor(5), true); // live audio of now
    const out: Buffer[] = [];
    for (let t = 0; t < 4; t++) {
      const frame = queue.take();
      if (frame) out.push(Buffer.from(frame));
      dropped += queue.endTick();
    }
    expect(out).toEqual([1, 2, 5].map((s) => Buffer.from(pcmFor(s))));
    expect(dropped).toBe(2);
  });

  it("drops stale live audio at the head at once, and never a live frame taken within its length in ticks", () => {
    const stale = new PlayoutQueue(10, { liveTargetFrames: 2 });
    stale.write(pcmFor(1), true);
    let dropped = 0;
    for (let t = 0; t < 11; t++) dropped += stale.endTick();
    expect(dropped).toBe(1);
    expect(stale.depth).toBe(0);
    // A full queue of live audio, one frame in and one out per tick: each waits 10 ticks.
    const full = new PlayoutQueue(10, { liveTargetFrames: 10 });
    for (let i = 0; i < 10; i++) full.write(pcmFor(i), true);
    const out: Buffer[] = [];
    for (let t = 0; t < 50; t++) {
      const frame = full.take();
      if (frame) out.push(Buffer.from(frame));
      expect(full.endTick()).toBe(0);
      full.write(pcmFor(10 + t), true);
    }
    expect(out).toEqual(Array.from({ length: 50 }, (_, i) => Buffer.from(pcmFor(i))));
  });
});
