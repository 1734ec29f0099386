import type { MediaTimers } from "../media/media-timers.js";
import type { PacerClock } from "../media/pacer.js";

interface VirtualTimer {
  dueMs: number;
  /** Order of setting: timers due at the same time run in the order they were set. */
  order: number;
  callback: () => void;
}

/**
 * Time that moves only when told to: the media clock (pacer) and the worker's other timers
 * (recording-status timeout, the wait for onEnd) of a test call run on it. advanceTo(t) runs
 * the timers due before t in due order, the clock reading each timer's due time while it runs.
 * Starts at 0 ms.
 */
export class VirtualClock implements PacerClock, MediaTimers {
  private nowMs = 0;
  private nextOrder = 0;
  /** Pending timers; a handful at most (the pacer's, a timeout or two): a plain array. */
  private readonly timers: VirtualTimer[] = [];

  now(): number {
    return this.nowMs;
  }

  setTimer(callback: () => void, delayMs: number): unknown {
    const timer: VirtualTimer = {
      dueMs: this.nowMs + Math.max(0, Number.isFinite(delayMs) ? delayMs : 0),
      order: this.nextOrder++,
      callback,
    };
    this.timers.push(timer);
    return timer;
  }

  clearTimer(handle: unknown): void {
    const at = this.timers.indexOf(handle as VirtualTimer);
    if (at >= 0) this.timers.splice(at, 1);
  }

  /** When the next timer is due (undefined: none pending). */
  get nextDueMs(): number | undefined {
    return this.next()?.dueMs;
  }

  /**
   * Moves time to `ms`, running on the way the timers due before it (each at its due time);
   * timers due at `ms` itself wait for runDue().
   */
  advanceTo(ms: number): void {
    if (ms < this.nowMs) throw new RangeError(`virtual time cannot go back (${ms} < ${this.nowMs})`);
    for (let timer = this.next(); timer !== undefined && timer.dueMs < ms; timer = this.next())
      this.run(timer);
    this.nowMs = ms;
  }

  /** Runs every timer due now (those they set for now included). */
  runDue(): void {
    for (let timer = this.next(); timer !== undefined && timer.dueMs <= this.nowMs; timer = this.next())
      this.run(timer);
  }

  private run(timer: VirtualTimer): void {
    this.timers.splice(this.timers.indexOf(timer), 1);
    this.nowMs = Math.max(this.nowMs, timer.dueMs);
    timer.callback();
  }

  private next(): VirtualTimer | undefined {
    let first: VirtualTimer | undefined;
    for (const timer of this.timers) {
      if (
        first === undefined ||
        timer.dueMs < first.dueMs ||
        (timer.dueMs === first.dueMs && timer.order < first.order)
      )
        first = timer;
    }
    return first;
  }
}
