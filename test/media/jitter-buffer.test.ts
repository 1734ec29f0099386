import { describe, expect, it } from "vitest";
import { FRAME_BYTES } from "../../src/media/audio-format.js";
import { JitterBuffer } from "../../src/media/jitter-buffer.js";
import type { ReceivedFrameSlot } from "../../src/media/received-frame.js";
import { pcmFor, TestFrameView } from "./frame-helpers.js";
import { youngBytesAllocated } from "./gc-counter.js";

interface Seen {
  sequence: number;
  concealed: boolean;
  pcm: Buffer;
  speakers: number[];
}

function setup(depth = 3, maxConcealFrames = 50, unmixed = false) {
  const seen: Seen[] = [];
  const drops: string[] = [];
  const lost: [number, boolean][] = [];
  const buffer = new JitterBuffer({
    depth,
    maxConcealFrames,
    unmixed,
    onFrame: (frame: ReceivedFrameSlot) =>
      seen.push({
        sequence: frame.sequence,
        concealed: frame.concealed,
        pcm: Buffer.from(frame.pcm),
        speakers: [...frame.activeSpeakers],
      }),
    onDrop: (reason) => drops.push(reason),
    onLost: (frames, concealed) => lost.push([frames, concealed]),
  });
  const view = new TestFrameView();
  const push = (sequence: number, at?: number) => buffer.push(view.set(sequence, { receivedAtMs: at }));
  return { buffer, seen, drops, lost, push, view };
}

describe("JitterBuffer", () => {
  it("passes an in-order stream straight through with its content", () => {
    const { seen, push } = setup();
    for (let s = 100; s < 110; s++) push(s);
    expect(seen.map((f) => f.sequence)).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
    expect(seen.every((f, i) => f.pcm.equals(Buffer.from(pcmFor(100 + i))))).toBe(true);
    expect(seen.some((f) => f.concealed)).toBe(false);
  });

  it("puts reordered frames back in order without loss", () => {
    const { seen, push, lost } = setup(3);
    for (const s of [1, 3, 2, 4, 6, 5, 7, 9, 8, 10]) push(s);
    expect(seen.map((f) => f.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(lost).toEqual([]);
    expect(seen.every((f) => f.pcm.equals(Buffer.from(pcmFor(f.sequence))))).toBe(true);
  });

  it("at the default depth 3, holds 3 later frames for a missing one; the 4th declares it lost", () => {
    // As docs/media-api.md says: BOT_MEDIA_JITTER_DEPTH_FRAMES frames may be held waiting.
    const { buffer, seen, push } = setup(3);
    for (const sequence of [9, 11, 12, 13]) push(sequence);
    expect(buffer.heldFrames).toBe(3);
    expect(seen.map((f) => f.sequence)).toEqual([9]);
    push(14);
    expect(seen.map((f) => [f.sequence, f.concealed])).toEqual([
      [9, false],
      [10, true],
      [11, false],
      [12, false],
      [13, false],
      [14, false],
    ]);
  });

  it("conceals a lost frame with silence once a frame more than depth after it arrived", () => {
    const { seen, push, lost } = setup(2);
    push(1);
    push(3); // 2 missing: held
    push(4); // still within depth 2
    expect(seen.map((f) => f.sequence)).toEqual([1]);
    push(5); // 5 - 2 > depth: give up on 2
    expect(seen.map((f) => [f.sequence, f.concealed])).toEqual([
      [1, false],
      [2, true],
      [3, false],
      [4, false],
      [5, false],
    ]);
    expect(seen[1]?.pcm.equals(Buffer.alloc(FRAME_BYTES))).toBe(true);
    expect(lost).toEqual([[1, true]]);
  });

  it("gives up on a missing frame after depth frame periods even if the stream pauses", () => {
    const { buffer, seen, push } = setup(3);
    push(1, 1000);
    push(3, 1020);
    buffer.expire(1050);
    expect(seen.map((f) => f.sequence)).toEqual([1]);
    buffer.expire(1080);
    expect(seen.map((f) => [f.sequence, f.concealed])).toEqual([
      [1, false],
      [2, true],
      [3, false],
    ]);
  });

  it("drops late and duplicate frames and counts why", () => {
    const { seen, push, drops } = setup(2);
    push(10);
    push(12);
    push(12); // a copy of a held frame
    push(11);
    push(11); // a copy of a frame already handed on
    push(9); // before the stream's first frame: never received
    expect(seen.map((f) => f.sequence)).toEqual([10, 11, 12]);
    expect(drops).toEqual(["duplicate", "duplicate", "late"]);
  });

  it("counts a copy of a frame already handed on as duplicate, however far behind, and a frame whose place was concealed as late", () => {
    // Issue 13 defect 11: every frame behind the stream was counted late, copies included.
    const { seen, push, drops } = setup(3, 50);
    for (let s = 100; s < 110; s++) push(s);
    push(109); // the frame just handed on, again
    push(100); // handed on nine frames ago
    push(115); // 110..114 missing: held
    push(116);
    push(117);
    push(118); // 110 given up on (concealed) ...
    push(111); // ... 111..114 too: both arrive after their place was filled
    push(110);
    push(116); // a copy of a frame handed on after the concealment
    push(60); // 59 frames behind: before the stream's first frame
    expect(drops).toEqual(["duplicate", "duplicate", "late", "late", "duplicate", "late"]);
    expect(seen.filter((f) => f.concealed).map((f) => f.sequence)).toEqual([110, 111, 112, 113, 114]);
  });

  it("forgets what it handed on when the stream restarts: a frame behind the new start is late", () => {
    const { push, drops } = setup(2, 10);
    for (let s = 1; s <= 5; s++) push(s);
    push(1000); // a restart far ahead (more than maxConcealFrames + depth)
    push(997); // never received, though its history bit is frame 5's (997 % 32 = 5)
    push(1000);
    expect(drops).toEqual(["late", "duplicate"]);
  });

  it("continues seamlessly across the 2^32 sequence wrap", () => {
    const { seen, push } = setup(3);
    for (const s of [0xfffffffe, 0, 0xffffffff, 1, 2]) push(s);
    expect(seen.map((f) => f.sequence)).toEqual([0xfffffffe, 0xffffffff, 0, 1, 2]);
  });

  it("restarts after a gap longer than maxConcealFrames instead of emitting seconds of silence", () => {
    const { seen, push, lost } = setup(2, 10);
    push(1);
    push(1000);
    expect(seen.map((f) => f.sequence)).toEqual([1, 1000]);
    expect(lost).toEqual([[998, false]]);
  });

  it("follows a sequence that started over far behind (two frames in a row), but only drops one straggler", () => {
    const { seen, push, drops } = setup(2, 10);
    for (const s of [5000, 5001]) push(s);
    // One frame seconds late: dropped, the stream goes on.
    push(4000);
    push(5002);
    // The sender starts over at 0: the first frame is dropped, the second restarts the stream.
    for (const s of [0, 1, 2, 3]) push(s);
    expect(seen.map((f) => f.sequence)).toEqual([5000, 5001, 5002, 1, 2, 3]);
    expect(drops).toEqual(["late", "late"]);
  });

  describe("a frame refused for its content (refuse)", () => {
    const shape = (seen: Seen[]) => seen.map((f) => [f.sequence, f.concealed]);
    /** Frames on the sender's 20 ms grid: sequence s arrives at 1000 + 20 s ms. */
    const at = (sequence: number) => 1000 + 20 * sequence;

    function grid(depth = 3, maxConcealFrames = 50) {
      const parts = setup(depth, maxConcealFrames);
      return {
        ...parts,
        push: (sequence: number) => parts.push(sequence, at(sequence)),
        refuse: (sequence: number, arrivedAtMs = at(sequence)) => parts.buffer.refuse(sequence, arrivedAtMs),
      };
    }

    it("is concealed at once when it is the frame expected: the next frames are not held", () => {
      const { buffer, seen, push, refuse, lost } = grid(3);
      push(1);
      refuse(2);
      push(3);
      expect(buffer.heldFrames).toBe(0);
      expect(shape(seen)).toEqual([
        [1, false],
        [2, true],
        [3, false],
      ]);
      expect(seen[1]?.pcm.equals(Buffer.alloc(FRAME_BYTES))).toBe(true);
      // Counted where it was refused, not as a frame lost on the way.
      expect(lost).toEqual([]);
    });

    it("waits, as a frame would, behind a frame still missing; then goes with it without waiting itself", () => {
      const { buffer, seen, push, refuse, lost } = grid(3);
      push(1);
      refuse(3); // 2 is missing
      push(4);
      expect(buffer.heldFrames).toBe(2);
      push(2); // 2 fills its place (late): 3 is concealed, 4 follows at once
      expect(buffer.heldFrames).toBe(0);
      expect(shape(seen)).toEqual([
        [1, false],
        [2, false],
        [3, true],
        [4, false],
      ]);
      expect(lost).toEqual([]);
    });

    it("counts as held for expire: a missing frame before it is given up on in time", () => {
      const { buffer, seen, push, refuse, lost } = grid(3);
      push(1);
      refuse(3); // 2 missing; 3 arrived at 1060
      buffer.expire(1119);
      expect(shape(seen)).toEqual([[1, false]]);
      buffer.expire(1120);
      expect(shape(seen)).toEqual([
        [1, false],
        [2, true],
        [3, true],
      ]);
      expect(lost).toEqual([[1, true]]); // 2 only: 3 was refused, not lost
    });

    it("moves the stream on when further ahead than the depth, as a good frame there would", () => {
      const { seen, push, refuse } = grid(2);
      push(1);
      push(3); // 2 missing, 3 held
      refuse(5); // 5 - 2 > depth: 2 is given up on
      push(4);
      push(6);
      expect(shape(seen)).toEqual([
        [1, false],
        [2, true],
        [3, false],
        [4, false],
        [5, true],
        [6, false],
      ]);
    });

    it("is not taken at its word beyond what the sender can have sent by now", () => {
      const { seen, push, refuse, drops } = grid(3);
      push(1);
      push(2);
      // A stray message right after frame 2: only frame 3's place can be its.
      for (let s = 3; s <= 40; s++) refuse(s, at(2) + 1);
      push(4);
      push(5);
      expect(shape(seen)).toEqual([
        [1, false],
        [2, false],
        [3, true],
        [4, false],
        [5, false],
      ]);
      // After a pause of 5 frame periods, frame 10's place is one the sender can have reached:
      // it moves the stream on as a good frame 10 would (6 is given up on, 7..9 are waited for).
      refuse(10, at(5) + 100);
      expect(shape(seen).slice(5)).toEqual([[6, true]]);
      push(11);
      push(12);
      push(13); // 7..9 given up on, 10 concealed as refused, 11..13 handed on
      expect(shape(seen).slice(6)).toEqual([
        [7, true],
        [8, true],
        [9, true],
        [10, true],
        [11, false],
        [12, false],
        [13, false],
      ]);
      expect(drops).toEqual([]);
    });

    it("gives its place to a good copy of the frame, and is ignored behind the stream, before it, or as far ahead as a restart", () => {
      const { seen, push, refuse, drops } = grid(3, 10);
      refuse(7); // before the first frame: the stream starts with a good one
      push(8);
      refuse(8); // behind: already handed on
      refuse(10, at(9)); // 9 missing: held in its place ...
      push(10); // ... until a good copy of 10 takes it
      refuse(500, at(500)); // a restart's distance: not followed
      push(9);
      push(11);
      expect(shape(seen)).toEqual([
        [8, false],
        [9, false],
        [10, false],
        [11, false],
      ]);
      expect(drops).toEqual([]);
    });

    it("flush conceals a refused frame still held", () => {
      const { buffer, seen, push, refuse } = grid(3);
      push(1);
      refuse(3);
      buffer.flush();
      expect(shape(seen)).toEqual([
        [1, false],
        [2, true],
        [3, true],
      ]);
      expect(buffer.heldFrames).toBe(0);
      push(4);
      expect(shape(seen).at(-1)).toEqual([4, false]);
    });
  });

  it("flush hands on held frames, concealing gaps between them", () => {
    const { buffer, seen, push } = setup(3);
    push(1);
    push(3);
    push(4);
    buffer.flush();
    expect(seen.map((f) => [f.sequence, f.concealed])).toEqual([
      [1, false],
      [2, true],
      [3, false],
      [4, false],
    ]);
  });

  it("copies active speakers and unmixed buffers, skipping a bad-size unmixed buffer", () => {
    let unmixedSeen: { id: number; pcm: Buffer }[] = [];
    let bad = 0;
    const buffer = new JitterBuffer({
      depth: 1,
      maxConcealFrames: 5,
      unmixed: true,
      onFrame: (frame) => {
        unmixedSeen = frame.unmixed.map((u) => ({ id: u.speakerId, pcm: Buffer.from(u.pcm) }));
      },
      onBadUnmixed: (count) => {
        bad += count;
      },
    });
    const view = new TestFrameView().set(7, {
      speakers: [11, 12],
      unmixed: [
        { speakerId: 11, pcm: pcmFor(1, 5) },
        { speakerId: 99, pcm: new Uint8Array(100) },
        { speakerId: 12, pcm: pcmFor(2, 9) },
      ],
    });
    buffer.push(view);
    expect(unmixedSeen).toEqual([
      { id: 11, pcm: Buffer.from(pcmFor(1, 5)) },
      { id: 12, pcm: Buffer.from(pcmFor(2, 9)) },
    ]);
    expect(bad).toBe(1);
  });

  it("hands on held frames' speakers and unmixed buffers, and in-order frames' after them", () => {
    const seen: { sequence: number; speakers: number[]; unmixed: { id: number; pcm: Buffer }[] }[] = [];
    const buffer = new JitterBuffer({
      depth: 2,
      maxConcealFrames: 5,
      unmixed: true,
      onFrame: (frame) =>
        seen.push({
          sequence: frame.sequence,
          speakers: [...frame.activeSpeakers],
          unmixed: frame.unmixed.map((u) => ({ id: u.speakerId, pcm: Buffer.from(u.pcm) })),
        }),
    });
    const frame = (sequence: number) =>
      new TestFrameView().set(sequence, {
        speakers: [sequence, 100 + sequence],
        unmixed: [{ speakerId: sequence, pcm: pcmFor(sequence, 1) }],
      });
    // 1 passes straight through, 3 is held until 2 arrives, 4 passes straight through again.
    for (const sequence of [1, 3, 2, 4]) buffer.push(frame(sequence));
    expect(seen).toEqual(
      [1, 2, 3, 4].map((s) => ({
        sequence: s,
        speakers: [s, 100 + s],
        unmixed: [{ id: s, pcm: Buffer.from(pcmFor(s, 1)) }],
      })),
    );
  });

  it("a held frame keeps 32-bit speaker ids, unmixed timestamps, and counts bad unmixed buffers", () => {
    const seen: { speakers: number[]; unmixed: [number, number][] }[] = [];
    let bad = 0;
    const setupBuffer = (unmixed: boolean) =>
      new JitterBuffer({
        depth: 1,
        maxConcealFrames: 5,
        unmixed,
        onFrame: (frame) =>
          seen.push({
            speakers: [...frame.activeSpeakers],
            unmixed: frame.unmixed.map((u) => [u.speakerId, u.originalSenderTimestampTicks]),
          }),
        onBadUnmixed: (count) => {
          bad += count;
        },
      });
    const frame = (sequence: number) =>
      new TestFrameView().set(sequence, {
        speakers: [0xfffffff0, 7],
        unmixed: [
          { speakerId: 0xfffffff1, pcm: pcmFor(1), ticks: 638_000_000_123_456 },
          { speakerId: 5, pcm: new Uint8Array(10) },
        ],
      });
    for (const unmixed of [true, false]) {
      const buffer = setupBuffer(unmixed);
      buffer.push(frame(1));
      buffer.push(frame(3)); // held
      buffer.push(frame(2));
    }
    const withUnmixed = { speakers: [0xfffffff0, 7], unmixed: [[0xfffffff1, 638_000_000_123_456]] };
    const without = { speakers: [0xfffffff0, 7], unmixed: [] };
    expect(seen).toEqual([withUnmixed, withUnmixed, withUnmixed, without, without, without]);
    // One bad-size buffer per frame with unmixed audio; both buffers per frame without.
    expect(bad).toBe(3 + 6);
  });

  it("allocates nothing per frame (young-generation bytes over 20k frames)", async () => {
    let sum = 0;
    const buffer = new JitterBuffer({
      depth: 3,
      maxConcealFrames: 50,
      unmixed: true,
      onFrame: (frame) => {
        // Kept a small integer: a growing double in a closure would itself allocate per frame.
        sum =
          (sum + (frame.samples[0] as number) + frame.activeSpeakers.length + frame.unmixed.length) & 0xffff;
      },
    });
    const views = [0, 1, 2, 3].map((i) =>
      new TestFrameView().set(i, { speakers: [1, 2], unmixed: [{ speakerId: 1, pcm: pcmFor(i, 3) }] }),
    );
    const run = (frames: number, start: number) => {
      for (let s = start; s < start + frames; s++) {
        // Reorder pairs and lose one frame in 50 to exercise every path.
        const sequence = s % 2 === 0 ? s + 1 : s - 1;
        if (sequence % 50 === 7) continue;
        const view = views[sequence % 4] as TestFrameView;
        view.sequence = sequence;
        buffer.push(view);
      }
    };
    run(50_000, 0); // warm up (JIT)
    const bytes = await youngBytesAllocated((attempt) => run(20_000, 50_000 + attempt * 20_000));
    expect(sum).not.toBe(0);
    // One 32-byte object per frame would be 640,000 bytes here; the bound leaves room for the
    // few boxed numbers of the loss path and for measurement noise (under 5 bytes a frame).
    expect(bytes).toBeLessThan(100_000);
  });
});
