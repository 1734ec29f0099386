/**
 * An example bot: greets the caller once the platform accepts audio, then echoes what the
 * caller says; any key interrupts it, plays a goodbye and hangs up once the goodbye was sent.
 * Tested with the test kit in greeter.test.ts (see docs/testing.md).
 */
import type { CallHandler, MediaCall } from "teams-media-bot";

export interface GreeterOptions {
  /** 16 kHz mono 16-bit WAV played when the call's audio starts. */
  greeting: string;
  /** WAV played after a key press, before hanging up. */
  goodbye: string;
}

function greeterOptions(options: unknown): GreeterOptions {
  const given = (options ?? {}) as Partial<GreeterOptions>;
  if (typeof given.greeting !== "string" || typeof given.goodbye !== "string")
    throw new TypeError("the greeter needs options { greeting: string, goodbye: string } (WAV paths)");
  return { greeting: given.greeting, goodbye: given.goodbye };
}

export default function createGreeter(call: MediaCall, options: unknown): CallHandler {
  const { greeting, goodbye } = greeterOptions(options);
  let greeted = false;
  let echoing = false;
  let leaving = false;
  // A prompt that cannot be played: say so, and do not leave the caller waiting for it.
  const promptFailed = (error: Error) => {
    call.log.warn({ err: error }, "prompt not played");
    if (leaving) call.hangUp("goodbye could not be played");
  };
  return {
    onSendStatus(active) {
      if (!active || greeted) return;
      greeted = true;
      call.play(greeting, { mark: "greeted" }).catch(promptFailed);
    },
    onMarkPlayed(name, played) {
      if (name === "greeted" && played && !leaving) echoing = true;
      if (name === "bye" && played) call.hangUp("said goodbye");
    },
    onAudio(frame) {
      if (echoing) call.sendLive(frame.pcm);
    },
    onTone() {
      if (leaving) return;
      leaving = true;
      echoing = false;
      call.clear(); // barge-in: the greeting (or the echo) stops now
      call.play(goodbye, { mark: "bye" }).catch(promptFailed);
    },
  };
}
