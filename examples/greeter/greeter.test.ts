import { fileURLToPath } from "node:url";
import {
  firstDifference,
  isTone,
  levelDbfs,
  readWavSamples,
  startTestCall,
  type TestCall,
} from "teams-media-bot/testing";
import { afterEach, describe, expect, it } from "vitest";
import createGreeter, { type GreeterOptions } from "./greeter.js";

const asset = (name: string) => fileURLToPath(new URL(`../../assets/audio/${name}`, import.meta.url));
const options: GreeterOptions = { greeting: asset("bot-greeting.wav"), goodbye: asset("bot-tone-ack.wav") };

/** A WAV's samples as the bot sends them: whole 20 ms frames, the last one padded with silence. */
async function framesOf(path: string): Promise<Int16Array> {
  const samples = await readWavSamples(path);
  const padded = new Int16Array(Math.ceil(samples.length / 320) * 320);
  padded.set(samples);
  return padded;
}

let call: TestCall;
afterEach(async () => {
  await call?.close();
});

describe("greeter", () => {
  it("greets once the platform accepts audio, not before", async () => {
    call = await startTestCall(createGreeter, { options, sendActive: false });
    await call.advance(1000);
    expect(call.framesSent()).toBe(0);

    call.setSendStatus(true);
    const activeAt = call.nowMs;
    await call.advanceUntil(() => call.marks.length > 0);

    const greeting = await framesOf(options.greeting);
    // The greeting, sample for sample, from the first tick after the send status went active.
    expect(firstDifference(call.rendered(activeAt + 20, call.nowMs + 20), greeting)).toBe(-1);
    expect(call.marks).toEqual([
      { name: "greeted", played: true, atMs: activeAt + (greeting.length / 320) * 20 },
    ]);
  });

  it("echoes the caller after the greeting mark, and only then", async () => {
    call = await startTestCall(createGreeter, { options });
    call.feedTone(440, 1000); // the caller talks over the greeting: not echoed
    await call.advanceUntil(() => call.marks.some((m) => m.name === "greeted"));
    const greetedAt = call.nowMs;
    expect(
      firstDifference(call.rendered(20, 1020), (await framesOf(options.greeting)).subarray(0, 16000)),
    ).toBe(-1);

    call.feedSilence(200).feedTone(1000, 1000);
    await call.advance(1500);
    const echo = call.rendered(greetedAt + 200, greetedAt + 1500);
    expect(isTone(echo.subarray(16 * 200, 16 * 1000), 1000)).toBe(true);
    expect(levelDbfs(call.rendered(greetedAt + 1400, greetedAt + 1500))).toBe(Number.NEGATIVE_INFINITY);
  });

  it("a key interrupts the greeting, says goodbye and hangs up after it", async () => {
    call = await startTestCall(createGreeter, { options });
    await call.advance(1000);
    call.dtmf("pound");
    const pressedAt = call.nowMs;

    expect(call.clears).toEqual([{ atMs: pressedAt }]);
    expect(call.marks).toEqual([{ name: "greeted", played: false, atMs: pressedAt }]);
    await call.advanceUntil(() => call.ended);

    const goodbye = await framesOf(options.goodbye);
    const byeAt = pressedAt + (goodbye.length / 320) * 20;
    expect(firstDifference(call.rendered(pressedAt + 20, byeAt + 20), goodbye)).toBe(-1);
    expect(call.marks.at(-1)).toEqual({ name: "bye", played: true, atMs: byeAt });
    expect(call.hangUpRequested).toEqual({ reason: "said goodbye", atMs: byeAt });
    expect(call.endReason).toBe("call ended");
  });

  it("keys from Graph's notifications work the same", async () => {
    call = await startTestCall(createGreeter, { options });
    await call.advance(500);
    call.dtmf("1", "graph");
    await call.advanceUntil(() => call.ended);
    expect(call.hangUpRequested?.reason).toBe("said goodbye");
  });

  it("a 60-second conversation runs in virtual time", async () => {
    call = await startTestCall(createGreeter, { options });
    const started = performance.now();
    for (let turn = 0; turn < 6; turn++) {
      await call.feedWav(asset("caller-speech.wav"));
      await call.advance(10_000);
    }
    const elapsedMs = performance.now() - started;
    // Reported, not asserted: a busy machine must not fail the test (docs/testing.md has figures).
    console.log(`60 s of call in ${elapsedMs.toFixed(0)} ms`);
    expect(call.nowMs).toBeGreaterThanOrEqual(60_000);
    expect(call.ended).toBe(false);
    expect(call.framesSent()).toBeGreaterThan(2500);
    expect(call.handlerErrors).toEqual([]);
  });

  it("refuses to start without its options", async () => {
    await expect(startTestCall(createGreeter)).rejects.toThrow(/greeting: string/);
  });
});
