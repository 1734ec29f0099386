import { defineHandler } from "../define-handler.js";
import { optionalBoolean, optionalString, optionsObject, requiredString } from "../options-check.js";

export interface PlayerOptions {
  wavPath: string;
  /** Mark reported when the file has been sent completely. */
  mark?: string;
  /** Start over at the end (a hold tone, music). */
  loop?: boolean;
}

function parsePlayerOptions(raw: unknown): PlayerOptions {
  const options = optionsObject(raw, ["wavPath", "mark", "loop"]);
  const parsed: PlayerOptions = { wavPath: requiredString(options, "wavPath") };
  const mark = optionalString(options, "mark");
  if (mark !== undefined) parsed.mark = mark;
  const loop = optionalBoolean(options, "loop");
  if (loop !== undefined) parsed.loop = loop;
  return parsed;
}

/**
 * Plays one WAV file into the call as soon as the call starts; the file is sent once the
 * platform accepts audio (send status Active). A file in the wrong format is logged with
 * the reason and the call carries on without it.
 */
export const createPlayerHandler = defineHandler({
  options: parsePlayerOptions,
  create(call, options) {
    call.play(options.wavPath, { mark: options.mark, loop: options.loop }).then(
      (result) => call.log.info({ wavPath: options.wavPath, result }, "playback finished"),
      (error: Error) => call.log.error({ wavPath: options.wavPath, err: error }, "playback failed"),
    );
    return {};
  },
});
