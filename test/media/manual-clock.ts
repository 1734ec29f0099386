import type { PacerClock } from "../../src/media/pacer.js";

/**
 * A media clock driven by hand: each tick() advances 20 ms and fires the pacer's pending
 * timer. Plain module (no vitest import) so the frames benchmark can drive the engine with it too.
 */
export class ManualClock implements PacerClock {
  time = 0;
  pending: (() => void) | undefined;
  /** What waits for the input to be handled (afterIo): runs on ioDone() or the next advance. */
  waitingForIo: (() => void) | undefined;
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
  afterIo(callback: () => void): void {
    this.waitingForIo = callback;
  }
  /** The input that was ready has been handled (the event loop's poll phase is over). */
  ioDone(): void {
    const callback = this.waitingForIo;
    this.waitingForIo = undefined;
    callback?.();
  }
  tick(): void {
    this.advance(20);
  }
  /** `ms` pass (the event loop was blocked that long), then the pending timer fires. */
  advance(ms: number): void {
    this.ioDone();
    this.time += ms;
    const callback = this.pending;
    this.pending = undefined;
    callback?.();
  }
}
