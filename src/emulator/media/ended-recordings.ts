/** What the emulator holds for ended sessions' recordings (stats, and the bounded-memory test). */
export interface EndedRecordingsStats {
  /** Ended calls whose recording is still served. */
  recordingsKept: number;
  /** Their PCM bytes. */
  recordingsKeptBytes: number;
  /** Ended calls' recordings let go to stay within the bounds (oldest first). */
  recordingsEvicted: number;
}

/**
 * The recordings of ended calls, by call id, kept so `recording(callId)` and
 * `GET /control/sessions/{callId}/recording.wav` still answer after the end: at most `maxCount`
 * calls and `maxBytes` bytes, the most recently ended ones. Keeping every one made the emulator
 * grow by each call's recording for its whole life (646 -> 1,365 MiB RSS over 400 calls).
 */
export class EndedRecordings {
  /** Insertion order is end order: the first entry is the oldest. */
  private readonly byCallId = new Map<string, Buffer>();
  private bytes = 0;
  private evicted = 0;

  constructor(
    private readonly maxCount: number,
    private readonly maxBytes: number,
  ) {}

  /** Keeps the recording of a call that just ended (replacing an older one of the same call id). */
  add(callId: string, pcm: Buffer): void {
    this.remove(callId);
    this.byCallId.set(callId, pcm);
    this.bytes += pcm.length;
    while (this.byCallId.size > this.maxCount || this.bytes > this.maxBytes) {
      const oldest = this.byCallId.keys().next().value as string;
      this.remove(oldest);
      this.evicted++;
    }
  }

  get(callId: string): Buffer | undefined {
    return this.byCallId.get(callId);
  }

  stats(): EndedRecordingsStats {
    return {
      recordingsKept: this.byCallId.size,
      recordingsKeptBytes: this.bytes,
      recordingsEvicted: this.evicted,
    };
  }

  private remove(callId: string): void {
    const pcm = this.byCallId.get(callId);
    if (pcm === undefined) return;
    this.byCallId.delete(callId);
    this.bytes -= pcm.length;
  }
}
