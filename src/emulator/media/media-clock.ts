/**
 * One 20 ms clock for every session, on absolute deadlines: tick n is due at start + n * 20 ms,
 * so lateness never accumulates (setInterval drifts about 0.35 ms per tick). When the process
 * falls more than `maxCatchUpTicks` behind, the missed ticks are skipped and counted rather
 * than fired in a burst.
 */
export class MediaClock {
  /** Ticks fired so far. */
  ticks = 0;
  /** Ticks skipped because the process was too late to fire them. */
  skippedTicks = 0;
  /** Lateness of the last tick, ms. */
  lastLatenessMs = 0;

  private start = 0;
  private index = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly periodMs: number,
    private readonly onTick: (tick: number) => void,
    private readonly maxCatchUpTicks = 3,
  ) {}

  get running(): boolean {
    return this.timer !== null;
  }

  begin(): void {
    if (this.timer) return;
    this.start = performance.now();
    this.index = 0;
    this.schedule();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    this.index++;
    const due = this.start + this.index * this.periodMs;
    this.timer = setTimeout(() => this.fire(due), Math.max(0, due - performance.now()));
  }

  private fire(due: number): void {
    const now = performance.now();
    const behind = Math.floor((now - due) / this.periodMs);
    if (behind > this.maxCatchUpTicks) {
      this.skippedTicks += behind;
      this.index += behind;
    }
    this.lastLatenessMs = now - (this.start + this.index * this.periodMs);
    this.ticks++;
    this.onTick(this.ticks);
    if (this.timer !== null) this.schedule();
  }
}
