import type { CallHandler, MediaCall } from "../bot-api.js";

export interface PlayerOptions {
  wavPath: string;
  /** Mark reported when the file has been sent completely. */
  mark?: string;
  /** Start over at the end (a hold tone, music). */
  loop?: boolean;
}

/**
 * Plays one WAV file into the call as soon as the call starts; the file is sent once the
 * platform accepts audio (send status Active). A file in the wrong format is logged with
 * the reason and the call carries on without it.
 */
export function createPlayerHandler(call: MediaCall, options: PlayerOptions): CallHandler {
  if (typeof options?.wavPath !== "string") throw new TypeError("player needs options.wavPath");
  call.play(options.wavPath, { mark: options.mark, loop: options.loop }).then(
    (result) => call.log.info({ wavPath: options.wavPath, result }, "playback finished"),
    (error: Error) => call.log.error({ wavPath: options.wavPath, err: error }, "playback failed"),
  );
  return {};
}
