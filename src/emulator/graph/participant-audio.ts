import type { AudioSourceSpec } from "../media/audio-source.js";
import type { SpeakerSpec } from "../media/emulated-session.js";
import type { MediaPlatformEmulator } from "../media/media-platform-emulator.js";
import type { MediaEmulatorLink } from "./media-emulator-link.js";

/** What an emulated participant (meeting attendee, callee) sends: a tone, a WAV file or silence. */
export type ParticipantAudio = { toneHz: number } | { wavPath: string } | { silence: true };

/** The media platform gives at most this many unmixed speakers per frame. */
export const MAX_SPEAKERS = 4;

/** One participant as the bot's media session hears it: its roster sourceId and its audio. */
export interface AudibleParticipant {
  sourceId: number;
  audio: ParticipantAudio | undefined;
  muted: boolean;
}

/**
 * Where a call's speakers go: the media emulator session the bot's call connected
 * (mpMediaSessionId of its blob). Implemented in process (speakersInProcess) or over the media
 * emulator's control API (speakersOverLink).
 */
export interface SpeakerSink {
  setSpeakers(mediaSessionId: string, speakers: SpeakerSpec[], dominant: number | null): Promise<void>;
}

/** The speakers of a call: the first four who send audio and are not muted; the first is dominant. */
export function speakersOf(participants: readonly AudibleParticipant[]): {
  speakers: SpeakerSpec[];
  dominant: number | null;
} {
  const speakers: SpeakerSpec[] = [];
  for (const participant of participants) {
    if (speakers.length === MAX_SPEAKERS) break;
    const source = participant.muted ? undefined : audioSource(participant.audio);
    if (source) speakers.push({ id: participant.sourceId, source });
  }
  return { speakers, dominant: speakers[0]?.id ?? null };
}

/** The media emulator's source for a participant's audio; undefined when it sends nothing. */
function audioSource(audio: ParticipantAudio | undefined): AudioSourceSpec | undefined {
  if (!audio || "silence" in audio) return undefined;
  if ("toneHz" in audio) return { kind: "tone", frequencyHz: audio.toneHz };
  return { kind: "wav", path: audio.wavPath, loop: true };
}

/** Checks a control request's audio field; throws an Error naming `name` when it is wrong. */
export function parseParticipantAudio(value: unknown, name: string): ParticipantAudio | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new Error(`${name} must be {toneHz}, {wavPath} or {silence: true}`);
  const audio = value as Record<string, unknown>;
  const keys = Object.keys(audio);
  if (keys.length !== 1) throw new Error(`${name} must have exactly one of toneHz, wavPath, silence`);
  if ("toneHz" in audio) {
    const hz = audio.toneHz;
    if (typeof hz !== "number" || !(hz > 0 && hz < 8000))
      throw new Error(`${name}.toneHz must be a number in (0, 8000), got ${JSON.stringify(hz)}`);
    return { toneHz: hz };
  }
  if ("wavPath" in audio) {
    if (typeof audio.wavPath !== "string" || audio.wavPath.trim() === "")
      throw new Error(`${name}.wavPath must be a non-empty string`);
    return { wavPath: audio.wavPath };
  }
  if ("silence" in audio) {
    if (audio.silence !== true) throw new Error(`${name}.silence must be true`);
    return { silence: true };
  }
  throw new Error(
    `${name} must be {toneHz}, {wavPath} or {silence: true}, got key ${JSON.stringify(keys[0])}`,
  );
}

/** Speakers set directly on a media emulator in the same process (src/dev/local-stack.ts, tests). */
export function speakersInProcess(
  media: Pick<MediaPlatformEmulator, "setSpeakers" | "setDominantSpeaker">,
): SpeakerSink {
  return {
    setSpeakers: async (mediaSessionId, speakers, dominant) => {
      media.setSpeakers(mediaSessionId, speakers);
      media.setDominantSpeaker(mediaSessionId, dominant);
    },
  };
}

/** Speakers set through a standalone media emulator's control API (POST /control/sessions/...). */
export function speakersOverLink(link: MediaEmulatorLink): SpeakerSink {
  const post = async (mediaSessionId: string, action: string, body: unknown) => {
    const url = `${link.url}/control/sessions/${encodeURIComponent(mediaSessionId)}/${action}`;
    const response = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${link.secret}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
    if (!response.ok)
      throw new Error(`media emulator answered ${action} ${response.status}: ${await response.text()}`);
  };
  // One session's updates go out one after another: an older list never lands last.
  const pending = new Map<string, Promise<void>>();
  return {
    setSpeakers: (mediaSessionId, speakers, dominant) => {
      const previous = pending.get(mediaSessionId) ?? Promise.resolve();
      const next = previous
        .catch(() => undefined)
        .then(async () => {
          await post(mediaSessionId, "speakers", { speakers });
          await post(mediaSessionId, "dominant-speaker", { speakerId: dominant });
        });
      pending.set(mediaSessionId, next);
      void next
        .catch(() => undefined)
        .then(() => {
          if (pending.get(mediaSessionId) === next) pending.delete(mediaSessionId);
        });
      return next;
    },
  };
}
