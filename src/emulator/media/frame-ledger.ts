/** What a ledger credits when the message holding a session's frames was sent or not. */
export interface FrameOwner {
  /** One frame of the session went out to the worker (sent) or never did (dropped). */
  settleFrame(sent: boolean): void;
}

/** What an emptied slot holds, so the array keeps one element type. */
const NO_OWNER: FrameOwner = { settleFrame: () => {} };

/**
 * The sessions behind each frame of the FrameBatch message being written, so a frame counts as
 * sent only once its message was handed to the socket, and as dropped when the message was not
 * (stalled host, backpressure, closing socket). A session's frames of one tick can straddle two
 * messages when the writer splits the tick, hence a record per frame rather than per session.
 */
export class FrameLedger {
  private readonly owners: FrameOwner[] = [];
  private count = 0;

  /** Call after the frame was added to the writer (a split then settles the frames before it). */
  record(owner: FrameOwner): void {
    this.owners[this.count++] = owner;
  }

  /**
   * The message of the recorded frames was sent (true) or not (false); the ledger empties. Its
   * slots are cleared, not just counted out: a slot left behind held an ended session (and all
   * it had recorded) for as long as the connection lived.
   */
  settle(sent: boolean): void {
    for (let i = 0; i < this.count; i++) {
      (this.owners[i] as FrameOwner).settleFrame(sent);
      this.owners[i] = NO_OWNER;
    }
    this.count = 0;
  }

  /** Frames recorded and not settled yet. */
  get pending(): number {
    return this.count;
  }
}
