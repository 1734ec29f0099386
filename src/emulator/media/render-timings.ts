/**
 * Readings of the far end's side of an echo, for benchmarks (bench:load's stage breakdown):
 * the emulator calls these when given them (MediaPlatformEmulatorOptions.renderTimings).
 * Times are microseconds; batch clocks are sent_at_us readings of the two processes.
 */
export interface RenderTimings {
  /** A tick's source batch was handed to the socket `sendUs` after the tick began (per frame). */
  sourceBatchSent(sendUs: number, frames: number): void;
  /** A render batch arrived `transitUs` after its sent_at_us, carrying `frames` frames. */
  renderBatchArrived(transitUs: number, frames: number): void;
  /** A render frame was played after `waitUs` in its session's render queue. */
  renderFramePlayed(waitUs: number): void;
}
