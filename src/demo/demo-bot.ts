import { defineHandler } from "../media/define-handler.js";
import { optionsObject, requiredString } from "../media/options-check.js";

export interface DemoBotOptions {
  greetingWav: string;
  toneAckWav: string;
}

/**
 * The demo's bot, written against the public media API the way docs/media-api.md recommends
 * (defineHandler with typed options checked at worker start; the echo as live audio): records
 * the call, greets the caller, then repeats what the caller says (`sendLive`, so the echo stays
 * real time); on a DTMF key it stops talking at once (barge-in), says goodbye and hangs up when
 * that has played.
 */
export default defineHandler({
  options(raw): DemoBotOptions {
    const options = optionsObject(raw, ["greetingWav", "toneAckWav"]);
    return {
      greetingWav: requiredString(options, "greetingWav"),
      toneAckWav: requiredString(options, "toneAckWav"),
    };
  },
  create(call, options) {
    let echoing = false;
    let leaving = false;
    let greeted = false;

    const failed = (error: Error) => call.log.warn({ err: error.message }, "demo bot cannot play");
    const greet = () => {
      if (greeted) return;
      greeted = true;
      call.record().then(
        (recording) => call.log.info({ path: recording.mixedPath }, "demo bot recording"),
        (error: Error) => call.log.warn({ err: error.message }, "demo bot could not record"),
      );
      call.play(options.greetingWav, { mark: "greeted" }).catch(failed);
    };

    return {
      onSendStatus(active) {
        if (active) greet();
      },
      onAudio(frame) {
        if (echoing && !leaving) call.sendLive(frame.pcm);
      },
      onMarkPlayed(name, played) {
        if (name === "greeted" && played) echoing = true;
        if (name === "goodbye") call.hangUp("demo finished");
      },
      onTone(tone, origin) {
        if (leaving) return;
        leaving = true;
        call.log.info({ tone, origin }, "demo bot heard a key");
        call.clear();
        call.play(options.toneAckWav, { mark: "goodbye" }).catch((error: Error) => {
          failed(error);
          call.hangUp("demo finished");
        });
      },
    };
  },
});
