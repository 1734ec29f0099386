import type { DtmfTone } from "./bot-api.js";
/** What the host said about a session number before the engine registered it. */
export interface EarlyEvents {
  /** The last send status (undefined: none arrived). */
  active?: boolean;
  /** The last dominant speaker id, NO_SPEAKER included (undefined: none arrived). */
  speakerId?: number;
  /** Tones in arrival order, at most MAX_EARLY_TONES. */
  tones: DtmfTone[];
}

/** Sessions whose early events are kept (oldest dropped first): a host sending for numbers it never created cannot grow this. */
const MAX_EARLY_SESSIONS = 1000;
const MAX_EARLY_TONES = 16;

/**
 * Events for session numbers the engine has not registered yet. The host sends the send status
 * and the dominant speaker right behind SessionCreated (also when it resumes a session after a
 * reconnect), and ws may hand them over in the same read, before the continuation that
 * registers the number has run: they are kept here and applied at registration.
 */
export class EarlySessionEvents {
  private readonly bySession = new Map<number, EarlyEvents>();

  sendStatus(session: number, active: boolean): void {
    this.entry(session).active = active;
  }

  dominantSpeaker(session: number, speakerId: number): void {
    this.entry(session).speakerId = speakerId;
  }

  tone(session: number, tone: DtmfTone): void {
    const tones = this.entry(session).tones;
    if (tones.length < MAX_EARLY_TONES) tones.push(tone);
  }

  /** The session's early events (removed), or undefined. */
  take(session: number): EarlyEvents | undefined {
    const events = this.bySession.get(session);
    if (events !== undefined) this.bySession.delete(session);
    return events;
  }

  clear(): void {
    this.bySession.clear();
  }

  private entry(session: number): EarlyEvents {
    let events = this.bySession.get(session);
    if (events === undefined) {
      // The oldest goes first (numbers the host sent for and never created): a session
      // registering right now keeps what just arrived for it.
      if (this.bySession.size >= MAX_EARLY_SESSIONS) {
        const oldest = this.bySession.keys().next().value as number;
        this.bySession.delete(oldest);
      }
      events = { tones: [] };
      this.bySession.set(session, events);
    }
    return events;
  }
}
