import { MAX_UNMIXED_BUFFERS } from "../../bridge/protocol.js";
import { prepareAudioSource } from "./audio-source.js";
import { checkImpairments } from "./impairments.js";
import type { MediaPlatformEmulatorOptions } from "./media-platform-emulator.js";

/** Largest delay a Node timer takes (2^31 - 1 ms); longer ones fire at once, with a warning. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Checks the emulator's options before it listens, and loads its default WAV files once: a bad
 * value fails start() with a message naming the option, instead of failing a worker's
 * CreateSession later (or every one of them). Returns the options to use.
 */
export function prepareEmulatorOptions(options: MediaPlatformEmulatorOptions): MediaPlatformEmulatorOptions {
  if (typeof options.secret !== "string" || options.secret === "")
    throw new Error("MediaPlatformEmulator needs a secret");
  integer("port", options.port, 0, 65535);
  integer("publicPort", options.publicPort, 1, 65535);
  integer("autoConnectMediaMs", options.autoConnectMediaMs, 0, MAX_TIMER_MS);
  integer("reconnectGraceMs", options.reconnectGraceMs, 0, MAX_TIMER_MS);
  integer("createSessionDelayMs", options.createSessionDelayMs, 0, 600_000);
  integer("maxSessions", options.maxSessions, 0, 1_000_000);
  integer("maxMessageBytes", options.maxMessageBytes, 1024, 64 * 1024 * 1024);
  integer("maxFrameBatchBytes", options.maxFrameBatchBytes, 4096, 64 * 1024 * 1024);
  integer("maxBufferedBytes", options.maxBufferedBytes, 0, 1024 * 1024 * 1024);
  integer("playoutQueueFrames", options.playoutQueueFrames, 1, 3000);
  integer("renderTargetFrames", options.renderTargetFrames, 0, 3000);
  integer("renderTrimWindowTicks", options.renderTrimWindowTicks, 1, 3000);
  number("recordMaxSeconds", options.recordMaxSeconds, 0, 3600);
  integer("keptRecordings", options.keptRecordings, 0, 1_000_000);
  integer("keptRecordingBytes", options.keptRecordingBytes, 0, 2 ** 40);
  number("tickMs", options.tickMs, 1, 1000);
  const speakers = options.defaultSpeakers ?? [];
  if (speakers.length > MAX_UNMIXED_BUFFERS)
    throw new RangeError(`defaultSpeakers: at most ${MAX_UNMIXED_BUFFERS} speakers`);
  for (const speaker of speakers) integer("defaultSpeakers[].id", speaker.id, 0, 0xffffffff);
  checkImpairments(options.defaultImpairments ?? {});
  return {
    ...options,
    defaultSource: prepareAudioSource(options.defaultSource ?? { kind: "tone", frequencyHz: 440 }),
    defaultSpeakers: speakers.map((s) => ({ id: s.id, source: prepareAudioSource(s.source) })),
  };
}

function integer(name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${value}`);
}

function number(name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !(value >= min && value <= max))
    throw new RangeError(`${name} must be a number in [${min}, ${max}], got ${value}`);
}
