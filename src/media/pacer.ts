import { FRAME_DURATION_MS } from "./audio-format.js";

/** What the pacer needs from the outside world; tests substitute a virtual clock. */
export interface PacerClock {
  /** Monotonic milliseconds. */
  now(): number;
  setTimer(callback: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

export const realClock: PacerClock = {
  now: () => performance.now(),
  setTimer: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface PacerOptions {
  periodMs?: number;
  /**
   * Ticks run back to back at most this many periods behind schedule; further behind (a stall,
   * a long GC), the missed ticks are skipped and the grid resumes at the current period.
   */
  maxCatchUpTicks?: number;
  clock?: PacerClock;
  /** One tick: `tick` counts from 0 at start, `deadlineMs` is when it was due, `nowMs` when it ran. */
  onTick: (tick: number, deadlineMs: number, nowMs: number) => void;
  /**
   * Ticks skipped after a stall (no audio is sent for them). Buffered audio plays later; the
   * engine has live queues trim the burst that follows (CallSession.clockSkipped).
   */
  onSkipped?: (ticks: number) => void;
}

/**
 * The media clock: one timer for all sessions, firing on absolute deadlines start + n × 20 ms.
 * Each timer is set for the next deadline from the monotonic clock, so timer lateness never
 * accumulates into drift (setInterval drifts about 0.35 ms a tick). After a stall of up to
 * maxCatchUpTicks periods the late ticks run immediately one after the other, so each frame
 * still goes out; beyond that they are skipped rather than sent as a burst the far end would
 * have to absorb, and queued audio resumes on the grid: buffered audio delayed by the stall,
 * live audio (the echo) trimmed back to real time by its queue (see PlayoutQueue).
 */
export class Pacer {
  private readonly periodMs: number;
  private readonly maxCatchUpTicks: number;
  private readonly clock: PacerClock;
  private startMs = 0;
  private nextTick = 0;
  private timer: unknown;
  private running = false;

  constructor(private readonly options: PacerOptions) {
    this.periodMs = options.periodMs ?? FRAME_DURATION_MS;
    this.maxCatchUpTicks = options.maxCatchUpTicks ?? 2;
    this.clock = options.clock ?? realClock;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Deadline of tick n on the current grid. */
  deadline(tick: number): number {
    return this.startMs + tick * this.periodMs;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.startMs = this.clock.now();
    this.nextTick = 0;
    this.fire();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    if (!this.running) return;
    const now = this.clock.now();
    const due = Math.floor((now - this.startMs) / this.periodMs);
    const behind = due - this.nextTick;
    if (behind > this.maxCatchUpTicks) {
      this.options.onSkipped?.(behind);
      this.nextTick = due;
    }
    const tick = this.nextTick;
    this.nextTick++;
    try {
      this.options.onTick(tick, this.deadline(tick), now);
    } finally {
      if (this.running) {
        const delay = Math.max(0, this.deadline(this.nextTick) - this.clock.now());
        this.timer = this.clock.setTimer(this.fire, delay);
      }
    }
  };
}
