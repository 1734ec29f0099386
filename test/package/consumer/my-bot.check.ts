/**
 * The handler tested with the test kit, as a bot author tests it in their own project (no test
 * runner needed: a failed check throws, the process exits non-zero). Prints one JSON line.
 */
import { isTone, startTestCall } from "teams-media-bot/testing";
import createMyBot, { HANG_UP_AFTER_FRAMES, TONE_HZ } from "./my-bot.js";

const started = performance.now();
const call = await startTestCall(createMyBot);
call.feedTone(440, 60_000); // a minute of caller audio, more than the bot waits for
await call.advanceUntil(() => call.hangUpRequested !== undefined, 60_000);
const hangUp = call.hangUpRequested;
if (hangUp === undefined) throw new Error("the bot never hung up");
// The bot hangs up on its 50th received frame: 1 s of virtual time after the first one.
if (hangUp.reason !== `heard ${HANG_UP_AFTER_FRAMES} frames`)
  throw new Error(`hang-up reason: ${hangUp.reason}`);
const answered = call.rendered(100, 900);
if (!isTone(answered, TONE_HZ)) throw new Error(`the bot did not answer with its ${TONE_HZ} Hz tone`);
await call.advanceUntil(() => call.ended, 5_000);
await call.close();
console.log(
  JSON.stringify({
    hangUpAtMs: hangUp.atMs,
    framesSent: call.framesSent(),
    realMs: Math.round(performance.now() - started),
  }),
);
