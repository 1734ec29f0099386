/**
 * A bot author's handler, written in a fresh project against the installed package: it answers
 * with a 1 kHz tone, keeps what it hears in a WAV file, and hangs up after HANG_UP_AFTER_FRAMES
 * received frames. What it did is left in heard/ for run-call.ts to check.
 */
import { mkdirSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import {
  type CallHandler,
  type CallHandlerFactory,
  type MediaCall,
  type ReceivedAudioFrame,
  WavFileWriter,
} from "teams-media-bot";

export const TONE_HZ = 1000;
export const HANG_UP_AFTER_FRAMES = 50;
export const HEARD_DIR = fileURLToPath(new URL("./heard/", import.meta.url));

/** One 20 ms frame of the tone: 1 kHz at 16 kHz repeats every 16 samples, so every frame is the same. */
export const TONE_FRAME = Int16Array.from({ length: 320 }, (_, i) =>
  Math.round(8000 * Math.sin((2 * Math.PI * TONE_HZ * i) / 16_000)),
);

export interface CallSummary {
  callId: string;
  framesReceived: number;
  framesSent: number;
  framesDroppedBySend: number;
  endReason: string;
  heardWav: string;
}

const create: CallHandlerFactory = (call: MediaCall): CallHandler => {
  mkdirSync(HEARD_DIR, { recursive: true });
  const heard = new WavFileWriter(`${HEARD_DIR}${call.callId}.wav`);
  let framesReceived = 0;
  let framesSent = 0;
  let framesDroppedBySend = 0;
  return {
    onAudio(frame: ReceivedAudioFrame) {
      framesReceived += 1;
      heard.writeFrame(frame.pcm);
      // Keep a few frames queued: the tone plays without gaps and nothing is dropped.
      if (call.queuedFrames < 5) {
        framesDroppedBySend += call.send(TONE_FRAME);
        framesSent += 1;
      }
      if (framesReceived === HANG_UP_AFTER_FRAMES) call.hangUp(`heard ${framesReceived} frames`);
    },
    async onEnd(reason: string) {
      await heard.close();
      const summary: CallSummary = {
        callId: call.callId,
        framesReceived,
        framesSent,
        framesDroppedBySend,
        endReason: reason,
        heardWav: heard.path,
      };
      await writeFile(`${HEARD_DIR}${call.callId}.json`, JSON.stringify(summary));
    },
  };
};

export default create;
