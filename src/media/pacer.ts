import { FRAME_DURATION_MS } from "./audio-format.js";

/** What the pacer needs from the outside world; tests substitute a virtual clock. */
export interface PacerClock {
  /** Monotonic milliseconds. */
  now(): number;
  setTimer(callback: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
  /**
   * Blocks the thread for `ms` (fractional) with sub-millisecond precision; without it the
   * pacer has no lead (see PacerOptions.leadMs) and waits on timers alone.
   */
  sleep?(ms: number): void;
  /**
   * Runs `callback` once the input that is ready now has been handled (the event loop's I/O
   * phase); without it a late tick runs at once (see PacerOptions.ioFirstWhenLateMs).
   */
  afterIo?(callback: () => void): void;
}

/** Nobody ever notifies it: Atomics.wait on it is a precise sleep that allocates nothing. */
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

export const realClock: PacerClock = {
  now: () => performance.now(),
  setTimer: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
  sleep: (ms) => {
    Atomics.wait(sleepCell, 0, 0, ms);
  },
  // Immediates run after the poll phase: the sockets' ready data is read first.
  afterIo: (callback) => {
    setImmediate(callback);
  },
};

export interface PacerOptions {
  periodMs?: number;
  /**
   * Ticks run back to back at most this many periods behind schedule; further behind (a stall,
   * a long GC), the missed ticks are skipped and the grid resumes at the current period.
   */
  maxCatchUpTicks?: number;
  clock?: PacerClock;
  /**
   * The timer is set this long before each deadline and the rest is slept out precisely with
   * `clock.sleep` (blocking the thread for at most leadMs + 1 ms), because libuv timers have
   * whole-millisecond resolution and fire up to a millisecond late. Default REAL_CLOCK_LEAD_MS
   * with the real clock, 0 with an injected one; 0 (or a clock without sleep) = timers alone.
   */
  leadMs?: number;
  /**
   * A tick whose timer fires more than this late (a stall: GC, the OS) waits for the input
   * that piled up meanwhile to be handled first (`clock.afterIo`), then runs with the ticks it
   * catches up. Rendering first would take the stalled ticks' frames from queues the input has
   * not refilled yet: an underrun for every live stream, then a standing backlog trimmed later.
   * Default half a period; Infinity = never (also when the clock has no afterIo).
   */
  ioFirstWhenLateMs?: number;
  /**
   * Within the lead, wait out the rest until the deadline (clock.sleep, blocking the thread)
   * before onTick (default true); false runs onTick as soon as prepare is done, up to the lead
   * early, and never blocks (the engine: hosts queue render frames, and a blocked thread holds
   * back received audio and requests).
   */
  waitForDeadline?: boolean;
  /** One tick: `tick` counts from 0 at start, `deadlineMs` is when it was due, `nowMs` when it ran. */
  onTick: (tick: number, deadlineMs: number, nowMs: number) => void;
  /**
   * Runs once before onTick of the same tick: as soon as the pacer wakes for it, up to leadMs
   * (+ timer rounding) before its deadline, or right before onTick when the pacer woke late.
   * For the work whose result must be ready at the deadline (the engine renders every
   * session's frame here), so that only sending it is left for the deadline itself.
   */
  prepare?: (tick: number, deadlineMs: number, nowMs: number) => void;
  /**
   * Ticks skipped after a stall (no audio is sent for them). Buffered audio plays later; the
   * engine has live queues trim the burst that follows (CallSession.clockSkipped).
   */
  onSkipped?: (ticks: number) => void;
}

/**
 * Timer lead before each deadline with the real clock (see PacerOptions.leadMs; the engine
 * sends as soon as it has rendered, waitForDeadline false, so this is also how early): a timer that
 * fires up to 1 ms late, or behind a scavenge, still leaves time to render 1000 sessions
 * (0.45-0.8 ms) before the deadline. bench:load at 1000 calls, 3 runs each: with 1.5 ms the
 * render started after its deadline in 1-2 % of ticks and lateness p99 was 3-5 ms; with 2.5 ms
 * it did once in the three runs (by 0.3 ms), and p99 was 1-2 ms.
 */
export const REAL_CLOCK_LEAD_MS = 2.5;

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
  private readonly leadMs: number;
  private readonly waitForDeadline: boolean;
  /** The last tick prepare() ran for (-1: none yet on this grid). */
  private preparedTick = -1;
  private readonly ioFirstWhenLateMs: number;
  /** A late tick waits in clock.afterIo for the input to be handled first. */
  private waitingForInput = false;
  /** The last tick due when a late tick resumed: the ticks it catches up do not wait again. */
  private inputHandledThrough = -1;

  constructor(private readonly options: PacerOptions) {
    this.periodMs = options.periodMs ?? FRAME_DURATION_MS;
    this.maxCatchUpTicks = options.maxCatchUpTicks ?? 2;
    this.clock = options.clock ?? realClock;
    this.leadMs =
      this.clock.sleep === undefined
        ? 0
        : Math.max(0, options.leadMs ?? (options.clock === undefined ? REAL_CLOCK_LEAD_MS : 0));
    this.waitForDeadline = options.waitForDeadline ?? true;
    this.ioFirstWhenLateMs =
      this.clock.afterIo === undefined
        ? Number.POSITIVE_INFINITY
        : (options.ioFirstWhenLateMs ?? this.periodMs / 2);
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Deadline of tick n on the current grid. */
  deadline(tick: number): number {
    return this.startMs + tick * this.periodMs;
  }

  /** Deadline of the next tick to run. */
  get nextDeadline(): number {
    return this.startMs + this.nextTick * this.periodMs;
  }

  /**
   * Moves the grid by `ms` (positive: later), a fraction of a period at a time, to keep its
   * deadlines where they suit the input (see MediaEngine.followHostPhase). The timer already
   * set fires at the old time and re-arms for the new deadline when that is further away.
   */
  shift(ms: number): void {
    this.startMs += ms;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.startMs = this.clock.now();
    this.nextTick = 0;
    this.preparedTick = -1;
    this.inputHandledThrough = -1;
    // A tick still waiting for input (stopped and restarted meanwhile) starts the new grid.
    if (!this.waitingForInput) this.fire();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  /**
   * Runs the next tick now if it is due (true) — for long work on the same thread (a large
   * received batch) to call between pieces, so the tick is not held behind it. Within the
   * tick's lead it runs prepare() (if not done yet) and returns false; it never blocks.
   */
  runIfDue(): boolean {
    // A late tick waits until the input that piled up is handled, this batch included.
    if (!this.running || this.waitingForInput) return false;
    const now = this.clock.now();
    const deadline = this.deadline(this.nextTick);
    if (now < deadline) {
      if (now >= deadline - this.leadMs && this.preparedTick !== this.nextTick)
        this.prepareTick(this.nextTick, deadline, now);
      return false;
    }
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.fire();
    return true;
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const resumed = this.waitingForInput;
    this.waitingForInput = false;
    if (!this.running) return;
    let now = this.clock.now();
    const deadline = this.deadline(this.nextTick);
    const clock = this.clock;
    if (resumed) this.inputHandledThrough = Math.floor((now - this.startMs) / this.periodMs);
    else if (
      now - deadline > this.ioFirstWhenLateMs &&
      this.nextTick > this.inputHandledThrough &&
      clock.afterIo !== undefined
    ) {
      this.waitingForInput = true;
      clock.afterIo(this.fire);
      return;
    }
    const early = this.leadMs > 0 && now < deadline;
    if (early && (clock.sleep === undefined || deadline - now > this.leadMs + 1)) {
      // Woken further ahead than the lead (a timer rounding down): set it again.
      this.timer = this.clock.setTimer(this.fire, deadline - now - this.leadMs);
      return;
    }
    try {
      if (early && clock.sleep !== undefined) {
        // Within the lead: get the tick ready now, then wait out the rest precisely
        // (blocking at most leadMs + 1 ms), so that at the deadline only onTick is left.
        if (this.preparedTick !== this.nextTick) this.prepareTick(this.nextTick, deadline, now);
        now = this.clock.now();
        if (now < deadline && this.waitForDeadline) {
          clock.sleep(deadline - now);
          now = this.clock.now();
        }
      }
      const due = Math.floor((now - this.startMs) / this.periodMs);
      // An early tick (waitForDeadline false) is due -1 ticks: never "behind".
      const behind = due - this.nextTick;
      if (behind > this.maxCatchUpTicks) {
        this.options.onSkipped?.(behind);
        this.nextTick = due;
      }
      const tick = this.nextTick;
      this.nextTick++;
      if (this.preparedTick !== tick) {
        this.prepareTick(tick, this.deadline(tick), now);
        now = this.clock.now();
      }
      this.options.onTick(tick, this.deadline(tick), now);
    } finally {
      if (this.running) {
        const delay = Math.max(0, this.deadline(this.nextTick) - this.leadMs - this.clock.now());
        this.timer = this.clock.setTimer(this.fire, delay);
      }
    }
  };

  private prepareTick(tick: number, deadlineMs: number, nowMs: number): void {
    this.preparedTick = tick;
    this.options.prepare?.(tick, deadlineMs, nowMs);
  }
}
