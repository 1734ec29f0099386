import { defineHandler } from "../define-handler.js";
import { optionalBoolean, optionsObject } from "../options-check.js";

export interface RecorderOptions {
  /** One file per speaker as well (needs unmixed audio on the session). */
  unmixed?: boolean;
}

/**
 * Records every call from its start: asks for recording status `recording`, stores nothing
 * until Graph accepted it, finalizes the files when the call ends or the worker shuts down.
 */
export const createRecorderHandler = defineHandler({
  options: (raw): RecorderOptions => ({
    unmixed: optionalBoolean(optionsObject(raw, ["unmixed"]), "unmixed"),
  }),
  create(call, options) {
    call.record({ unmixed: options.unmixed === true }).then(
      (info) => call.log.info({ mixedPath: info.mixedPath }, "recorder started"),
      (error: Error) => call.log.warn({ err: error }, "recorder did not start"),
    );
    return {};
  },
});
