// my-bot.ts: greets, then echoes the caller; any key says goodbye and hangs up.
import { defineHandler } from "teams-media-bot";

export interface MyBotOptions {
  greeting: string; // a 16 kHz mono 16-bit WAV file
  goodbye: string;
}

function parseOptions(raw: unknown): MyBotOptions {
  const options = (raw ?? {}) as Record<string, unknown>;
  for (const name of ["greeting", "goodbye"] as const)
    if (typeof options[name] !== "string") throw new TypeError(`options.${name} must be a WAV path`);
  return { greeting: options.greeting as string, goodbye: options.goodbye as string };
}

export default defineHandler({
  options: parseOptions,
  create(call, options) {
    let echoing = false;
    // play() rejects for a missing or unsuitable WAV file: say so, and do not leave the caller waiting.
    const failed = (error: Error) => {
      call.log.warn({ err: error.message }, "prompt not played");
      call.hangUp("prompt not played");
    };
    return {
      onSendStatus(active) {
        if (active) call.play(options.greeting, { mark: "greeted" }).catch(failed);
      },
      onMarkPlayed(name, played) {
        if (name === "greeted" && played) echoing = true;
        if (name === "bye") call.hangUp("said goodbye");
      },
      onAudio(frame) {
        if (echoing) call.sendLive(frame.pcm); // frame.pcm is reused after return: sendLive copies
      },
      onTone(tone) {
        call.log.info({ tone }, "key pressed"); // "0".."9", "star", "pound", "a".."d", "flash"
        echoing = false;
        call.clear(); // stop talking now
        call.play(options.goodbye, { mark: "bye" }).catch(failed);
      },
    };
  },
});
