/**
 * Places incoming calls at a steady rate from inside the emulator, on absolute deadlines
 * (start + i / rate, so a late timer does not slow the rate down): a load generator whose
 * work (one `created` notification per call) runs in the emulator's process, not in the
 * caller's. A benchmark that placed each call with its own control request spent that HTTPS
 * request on the event loop of the bot it was measuring.
 */
export class CallSchedule {
  placed = 0;
  failed = 0;
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private readonly intervalMs: number;

  constructor(
    readonly count: number,
    readonly ratePerSecond: number,
    private readonly place: () => void,
    private readonly onError: (error: Error) => void,
    private readonly onDone: () => void,
  ) {
    this.intervalMs = 1000 / ratePerSecond;
  }

  /** Places the first call now and the others on their deadlines; onDone once all were tried. */
  start(): void {
    this.startedAt = performance.now();
    this.next();
  }

  get done(): boolean {
    return this.placed + this.failed >= this.count;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly next = (): void => {
    // Every call already due goes now (a late timer catches up), then the timer waits for the next.
    while (
      !this.done &&
      performance.now() >= this.startedAt + (this.placed + this.failed) * this.intervalMs
    ) {
      try {
        this.place();
        this.placed++;
      } catch (error) {
        this.failed++;
        this.onError(error as Error);
      }
    }
    if (this.done) {
      this.onDone();
      return;
    }
    const due = this.startedAt + (this.placed + this.failed) * this.intervalMs;
    this.timer = setTimeout(this.next, Math.max(0, due - performance.now()));
  };
}
