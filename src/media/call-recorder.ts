import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ReceivedAudioFrame, RecordingInfo, RosterParticipant } from "./bot-api.js";
import { WavFileWriter } from "./wav-writer.js";

interface SpeakerTrack {
  speakerId: number;
  writer: WavFileWriter;
  /** The last roster participant known for this source: kept after they leave the call. */
  participant: RosterParticipant | null;
}

/**
 * Records a call's received audio: the mixed stream into mixed.wav and, with unmixed audio,
 * each speaker into speaker-<sourceId>.wav. Every file runs on the call's timeline (a speaker's
 * file holds silence where that speaker was not among the unmixed buffers), so the files line
 * up sample for sample. `close()` finalizes every header and writes recording.json naming the
 * participant of each speaker file (the last one the roster named, even if they left).
 */
export class CallRecorder {
  private readonly mixed: WavFileWriter;
  /** An array, not a Map: iterated per frame without allocating an iterator. */
  private readonly speakers: SpeakerTrack[] = [];
  private frames = 0;
  private closing: Promise<void> | undefined;

  constructor(
    readonly directory: string,
    private readonly unmixed: boolean,
    private readonly describe: (sourceId: number) => RosterParticipant | undefined,
    private readonly callId: string,
  ) {
    this.mixed = new WavFileWriter(join(directory, "mixed.wav"));
  }

  /** Resolves when the mixed file exists; rejects when it cannot be created. */
  get ready(): Promise<void> {
    return this.mixed.ready;
  }

  get info(): RecordingInfo {
    const speakerPaths = new Map<number, string>();
    for (const track of this.speakers) speakerPaths.set(track.speakerId, track.writer.path);
    return { mixedPath: this.mixed.path, speakerPaths };
  }

  /** The first write error of any file. */
  get error(): Error | undefined {
    return this.mixed.error ?? this.speakers.find((track) => track.writer.error)?.writer.error;
  }

  write(frame: ReceivedAudioFrame): void {
    if (this.closing) return;
    this.mixed.writeFrame(frame.pcm);
    if (this.unmixed) {
      const unmixed = frame.unmixed;
      for (let i = 0; i < unmixed.length; i++) {
        const speakerId = (unmixed[i] as { speakerId: number }).speakerId;
        if (this.track(speakerId) === undefined) this.openTrack(speakerId);
      }
      for (let t = 0; t < this.speakers.length; t++) {
        const track = this.speakers[t] as SpeakerTrack;
        let written = false;
        for (let i = 0; i < unmixed.length; i++) {
          const buffer = unmixed[i] as ReceivedAudioFrame["unmixed"][number];
          if (buffer.speakerId === track.speakerId) {
            track.writer.writeFrame(buffer.pcm);
            written = true;
            break;
          }
        }
        if (!written) track.writer.writeSilence(1);
      }
    }
    this.frames++;
  }

  /** The roster changed: remember who each speaker is while the roster still says so. */
  rosterChanged(): void {
    for (const track of this.speakers)
      track.participant = this.describe(track.speakerId) ?? track.participant;
  }

  /** Finalizes every file (valid headers) and writes the speaker index; idempotent. */
  close(): Promise<void> {
    this.closing ??= this.finish();
    return this.closing;
  }

  private async finish(): Promise<void> {
    this.rosterChanged();
    const results = await Promise.allSettled([
      this.mixed.close(),
      ...this.speakers.map((track) => track.writer.close()),
    ]);
    const index = {
      callId: this.callId,
      frames: this.frames,
      mixed: "mixed.wav",
      speakers: this.speakers.map((track) => ({
        sourceId: track.speakerId,
        file: `speaker-${track.speakerId}.wav`,
        participant: track.participant,
      })),
    };
    await writeFile(join(this.directory, "recording.json"), `${JSON.stringify(index, null, 2)}\n`);
    const failed = results.find((result) => result.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  private track(speakerId: number): SpeakerTrack | undefined {
    for (let t = 0; t < this.speakers.length; t++) {
      const track = this.speakers[t] as SpeakerTrack;
      if (track.speakerId === speakerId) return track;
    }
    return undefined;
  }

  /**
   * A speaker heard for the first time: their file starts with silence up to now. The writer
   * writes that silence in the background (see writeSilence): this frame does not pay for
   * the length of the call so far.
   */
  private openTrack(speakerId: number): void {
    const writer = new WavFileWriter(join(this.directory, `speaker-${speakerId}.wav`));
    writer.writeSilence(this.frames);
    this.speakers.push({ speakerId, writer, participant: this.describe(speakerId) ?? null });
  }
}
