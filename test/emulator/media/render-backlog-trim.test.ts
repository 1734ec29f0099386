import { describe, expect, it } from "vitest";
import { connectedSession } from "./session-driver.js";

/** A render frame whose first sample is `n` (no watermark: the echo matching ignores it). */
function frame(n: number): Uint8Array {
  const pcm = new Uint8Array(640);
  new DataView(pcm.buffer).setInt16(0, n, true);
  return pcm;
}

describe("emulated render queue: standing backlog", () => {
  it("drops a backlog that stood above one frame for a whole second, one frame a tick, as the .NET host does", () => {
    const session = connectedSession({ renderTargetFrames: 1 });
    session.sendActive = true;
    let next = 0;
    // A burst of 4 frames, then one a tick: 4 stand behind each tick's play.
    for (let i = 0; i < 4; i++) session.acceptRender(frame(next++), 0, 0);
    const depths: number[] = [];
    for (let tick = 0; tick < 60; tick++) {
      session.acceptRender(frame(next++), 0, tick * 20);
      session.playTick(tick * 20 + 10);
      depths.push(session.snapshot().playoutQueueDepth);
    }
    // A whole window (50 ticks) at 4 after playing; its last tick drops the first of the 3
    // frames above the target, the next two ticks the others.
    expect(depths.slice(0, 49).every((d) => d === 4)).toBe(true);
    expect(depths.slice(49)).toEqual([3, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(session.snapshot().renderFramesTrimmed).toBe(3);
  });

  it("leaves a queue that drains to one frame within the window alone", () => {
    const session = connectedSession({ renderTargetFrames: 1 });
    session.sendActive = true;
    let next = 0;
    for (let tick = 0; tick < 200; tick++) {
      // Two frames every other tick: the depth after playing swings between 0 and 1.
      if (tick % 2 === 0) for (let i = 0; i < 2; i++) session.acceptRender(frame(next++), 0, tick * 20);
      session.playTick(tick * 20 + 10);
    }
    expect(session.snapshot().renderFramesTrimmed).toBe(0);
  });
});

describe("emulated render queue by default", () => {
  it("plays every frame the bot sent, however long a backlog stands", () => {
    const session = connectedSession();
    session.sendActive = true;
    for (let i = 0; i < 4; i++) session.acceptRender(frame(i), 0, 0);
    for (let tick = 0; tick < 120; tick++) {
      session.acceptRender(frame(4 + tick), 0, tick * 20);
      session.playTick(tick * 20 + 10);
    }
    expect(session.snapshot().renderFramesTrimmed).toBe(0);
    expect(session.snapshot().playoutQueueDepth).toBe(4);
  });
});
