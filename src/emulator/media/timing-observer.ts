/**
 * Diagnostics of the emulator's own timing, for a benchmark that needs to tell its stalls
 * from the bot's (bench:load --stall-evidence): told about every clock tick and every batch of
 * render frames from a worker. Unset (null) it costs a null check per tick and per batch.
 */
export interface EmulatorTimingObserver {
  /**
   * A clock tick ran: `startMs` when it started (performance.now()), `latenessMs` after its
   * deadline, `workMs` its work (source frames written and sent), `skippedTicks` the clock's
   * total of skipped ticks so far.
   */
  tick(startMs: number, latenessMs: number, workMs: number, skippedTicks: number): void;
  /**
   * A FrameBatch of render frames from a worker was read (performance.now()), with the
   * sender's sent_at_us (0: not given) and the number of frames in it.
   */
  renderBatch(receivedMs: number, sentAtUs: number, frames: number): void;
  /**
   * A FrameBatch of source frames was handed to the socket (performance.now()), with what the
   * socket still held unsent before it (bytes; more than 0: the peer is not reading as fast).
   */
  sourceBatch(sentMs: number, bufferedBytes: number): void;
}
