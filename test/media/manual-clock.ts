import type { PacerClock } from "../../src/media/pacer.js";

/**
 * A media clock driven by hand: each tick() advances 20 ms and fires the pacer's pending
 * timer. Plain module (no vitest import) so the frames benchmark can drive the engine with it too.
 */
export class ManualClock implements PacerClock {
  time = 0;
  pending: (() => void) | undefined;
  now(): number {
    return this.time;
  }
  setTimer(callback: () => void): unknown {
    this.pending = callback;
    return callback;
  }
  clearTimer(): void {
    this.pending = undefined;
  }
  tick(): void {
    this.advance(20);
  }
  /** `ms` pass (the event loop was blocked that long), then the pending timer fires. */
  advance(ms: number): void {
    this.time += ms;
    const callback = this.pending;
    this.pending = undefined;
    callback?.();
  }
}
