import { describe, expect, it } from "vitest";
import { EarlySessionEvents } from "../../src/media/early-session-events.js";

describe("EarlySessionEvents", () => {
  it("keeps the latest status and speaker and the tones of a number until it is taken", () => {
    const early = new EarlySessionEvents();
    early.sendStatus(3, false);
    early.sendStatus(3, true);
    early.dominantSpeaker(3, 77);
    early.tone(3, "1");
    early.tone(3, "pound");
    expect(early.take(3)).toEqual({ active: true, speakerId: 77, tones: ["1", "pound"] });
    expect(early.take(3)).toBeUndefined();
  });

  it("at its bound drops the oldest numbers, not what just arrived for a session registering now", () => {
    const early = new EarlySessionEvents();
    for (let session = 1; session <= 1000; session++) early.sendStatus(session, false);
    early.sendStatus(5000, true);
    expect(early.take(5000)).toEqual({ active: true, tones: [] });
    expect(early.take(1)).toBeUndefined();
    expect(early.take(2)).toEqual({ active: false, tones: [] });
  });
});
