/**
 * The emulator's own timing, for benchmarks: bench:load's echo breakdown (the far end's
 * stages) and --stall-evidence (its stalls told from the bot's). Told about every clock tick,
 * every batch of frames each way and every render frame played. Unset (null) it costs a null
 * check per tick, per batch and per frame played.
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
  /** A render frame was played after `waitUs` in its session's render queue. */
  renderFramePlayed(waitUs: number): void;
}
