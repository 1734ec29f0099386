import { defineHandler } from "../define-handler.js";
import { optionsObject } from "../options-check.js";

/**
 * Sends every received frame straight back, sample for sample (concealed frames as the silence
 * they are, so the echo keeps the call's timeline). Nothing is echoed before the platform
 * accepts audio: a backlog of stale audio would otherwise play first. The echo is live audio
 * (`sendLive`): after a stall its backlog is trimmed rather than delaying it for good.
 */
export const createEchoHandler = defineHandler({
  options: (raw): Record<string, never> => optionsObject(raw, []) as Record<string, never>,
  create(call) {
    return {
      onAudio(frame) {
        if (call.sendActive) call.sendLive(frame.pcm);
      },
    };
  },
});
