// my-bot.test.ts
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pcm16kWavHeader } from "teams-media-bot";
import { isTone, startTestCall, tone } from "teams-media-bot/testing";
import { expect, test } from "vitest";
import createMyBot from "./my-bot.js";

/** A WAV file of the given samples (16 kHz mono 16-bit), for prompts in a test. */
async function wavFile(name: string, samples: Int16Array): Promise<string> {
  const path = join(tmpdir(), `${process.pid}-${name}`);
  const pcm = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  await writeFile(path, Buffer.concat([pcm16kWavHeader(pcm.length), pcm]));
  return path;
}

test("greets, echoes the caller, says goodbye on a key", async () => {
  const greeting = await wavFile("greeting.wav", tone(660, 400));
  const goodbye = await wavFile("goodbye.wav", tone(880, 200));
  const call = await startTestCall(createMyBot, { options: { greeting, goodbye } });

  await call.advanceUntil(() => call.marks.some((mark) => mark.name === "greeted"));
  expect(isTone(call.rendered(), 660)).toBe(true); // everything sent so far: the greeting

  const echoFrom = call.nowMs;
  call.feedTone(440, 1000); // the caller says 1 s of 440 Hz...
  await call.runFor(1);
  expect(isTone(call.rendered(echoFrom + 100, echoFrom + 900), 440)).toBe(true); // ...echoed

  call.dtmf("1");
  await call.advanceUntil(() => call.ended);
  expect(call.clears).toHaveLength(1); // the key cut the echo short (barge-in)
  expect(call.hangUpRequested?.reason).toBe("said goodbye");
  await call.close();
}, 30_000);
