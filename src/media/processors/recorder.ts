import type { CallHandler, MediaCall } from "../bot-api.js";

export interface RecorderOptions {
  /** One file per speaker as well (needs unmixed audio on the session). */
  unmixed?: boolean;
}

/**
 * Records every call from its start: asks for recording status `recording`, stores nothing
 * until Graph accepted it, finalizes the files when the call ends or the worker shuts down.
 */
export function createRecorderHandler(call: MediaCall, options: RecorderOptions = {}): CallHandler {
  call.record({ unmixed: options.unmixed === true }).then(
    (info) => call.log.info({ mixedPath: info.mixedPath }, "recorder started"),
    (error: Error) => call.log.warn({ err: error }, "recorder did not start"),
  );
  return {};
}
