import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CallHandler, CallHandlerFactory, MediaCall, ReceivedAudioFrame } from "../../src/index.js";
import { pcm16kWavHeader, readPcm16kWav } from "../../src/index.js";
import {
  firstDifference,
  HandlerFailedError,
  isTone,
  readWavSamples,
  startTestCall,
  type TestCall,
  tone,
} from "../../src/testing/index.js";

let call: TestCall | undefined;
afterEach(async () => {
  await call?.close();
  call = undefined;
});

/** 20 ms frames numbered 1..count: frame k holds k in every sample. */
function numberedFrames(count: number): Int16Array {
  const samples = new Int16Array(count * 320);
  for (let k = 0; k < count; k++) samples.fill(k + 1, k * 320, (k + 1) * 320);
  return samples;
}

/** What the handler heard: each frame copied (frames are reused after onAudio). */
function listener(
  heard: { samples: Int16Array; isSilence: boolean; speakers: number[]; unmixed: number[] }[],
) {
  return (_call: MediaCall): CallHandler => ({
    onAudio(frame: ReceivedAudioFrame) {
      heard.push({
        samples: Int16Array.from(frame.samples),
        isSilence: frame.isSilence,
        speakers: [...frame.activeSpeakers],
        unmixed: frame.unmixed.map((u) => u.speakerId),
      });
    },
  });
}

describe("what the bot renders", () => {
  it("is exactly what the handler sent, one frame per tick, silence where it sent nothing", async () => {
    const sent = numberedFrames(7);
    call = await startTestCall((media) => ({
      onTone() {
        media.send(sent);
      },
    }));
    await call.advance(100);
    call.dtmf("5");
    const sentAt = call.nowMs;
    await call.advance(300);
    expect(call.framesSent()).toBe(7);
    expect(call.framesSent(0, sentAt + 20)).toBe(0);
    expect(firstDifference(call.rendered(sentAt + 20, sentAt + 160), sent)).toBe(-1);
    const frames = call.renderedFrames(sentAt, sentAt + 200);
    expect(frames.map((f) => (f.samples === null ? null : f.samples[0]))).toEqual([
      null,
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      null,
      null,
    ]);
    expect(call.rendered().length).toBe((call.nowMs / 20 + 1) * 320);
  });

  it("reports marks in order at the tick their last frame was sent, and cleared marks at the clear", async () => {
    call = await startTestCall(
      (media) => ({
        onTone(key) {
          if (key === "1") {
            media.send(numberedFrames(5));
            media.mark("a");
            media.send(numberedFrames(3));
            media.mark("b");
            media.send(numberedFrames(8));
            media.mark("c");
          } else media.clear();
        },
      }),
      // 16 frames queued at once: room for all of them.
      { playoutQueueFrames: 20 },
    );
    await call.advance(40);
    call.dtmf("1");
    await call.advance(200);
    call.dtmf("2");
    expect(call.marks).toEqual([
      { name: "a", played: true, atMs: 40 + 5 * 20 },
      { name: "b", played: true, atMs: 40 + 8 * 20 },
      { name: "c", played: false, atMs: 240 },
    ]);
    expect(call.clears).toEqual([{ atMs: 240 }]);
    await call.advance(100);
    expect(call.framesSent(260)).toBe(0);
  });

  it("bounds the playout queue as the bot does (playoutQueueFrames 15 = 300 ms)", async () => {
    let dropped = -1;
    let depth = -1;
    call = await startTestCall(
      (media) => ({
        onTone() {
          dropped = media.send(tone(440, 400));
          depth = media.queuedFrames;
        },
      }),
      { playoutQueueFrames: 15 },
    );
    call.dtmf("1");
    await call.advance(1000);
    expect(depth).toBe(15);
    expect(dropped).toBe(5);
    expect(call.framesSent()).toBe(15);
    expect(await call.metric("media_frames_dropped_total", { reason: "playout_overflow" })).toBe(5);
  });

  it("renders a live echo in the tick its caller frame arrived (the kit's documented phase)", async () => {
    call = await startTestCall((media) => ({
      onAudio(frame) {
        if (!frame.isSilence) media.sendLive(frame.pcm);
      },
    }));
    await call.advance(100);
    call.feed(numberedFrames(4));
    await call.advance(200);
    expect(call.renderedFrames(100, 220).map((f) => f.samples?.[0] ?? null)).toEqual([
      null,
      1,
      2,
      3,
      4,
      null,
    ]);
  });

  it("sends nothing while the send status is inactive, and the queue waits for Active", async () => {
    call = await startTestCall(
      (media) => ({
        onTone() {
          media.send(numberedFrames(3));
        },
      }),
      { sendActive: false },
    );
    call.dtmf("1");
    await call.advance(500);
    expect(call.framesSent()).toBe(0);
    call.setSendStatus(true);
    await call.advance(100);
    expect(call.framesSent()).toBe(3);
    expect(call.sendStatusChanges).toEqual([{ active: true, atMs: 500 }]);
  });
});

describe("what the handler hears", () => {
  it("gets fed audio 20 ms per tick, then the platform's silence", async () => {
    const heard: Parameters<typeof listener>[0] = [];
    call = await startTestCall(listener(heard));
    call.feedTone(1000, 200);
    await call.advance(300);
    expect(heard).toHaveLength(15);
    const spoken = heard.slice(0, 10);
    expect(spoken.every((f) => !f.isSilence && f.speakers[0] === 1)).toBe(true);
    const samples = new Int16Array(3200);
    spoken.forEach((f, i) => {
      samples.set(f.samples, i * 320);
    });
    expect(firstDifference(samples, tone(1000, 200))).toBe(-1);
    expect(isTone(samples, 1000)).toBe(true);
    expect(isTone(samples, 1500)).toBe(false);
    expect(heard.slice(10).every((f) => f.isSilence && f.speakers.length === 0)).toBe(true);
  });

  it("feeds a WAV file's samples (read with the bot's WAV reader)", async () => {
    const heard: Parameters<typeof listener>[0] = [];
    call = await startTestCall(listener(heard));
    const samples = numberedFrames(3);
    const path = join(call.recordingsDir, "short.wav");
    await writeFile(path, Buffer.concat([pcm16kWavHeader(samples.byteLength), Buffer.from(samples.buffer)]));
    expect(firstDifference(await readWavSamples(path), samples)).toBe(-1);
    await call.feedWav(path);
    await call.advance(80);
    expect(heard.map((f) => f.samples[0])).toEqual([1, 2, 3, 0]);
  });

  it("mixes speakers and gives each their unmixed buffer on an unmixed session", async () => {
    const heard: Parameters<typeof listener>[0] = [];
    call = await startTestCall(listener(heard), {
      unmixed: true,
      speakers: [
        { sourceId: 11, displayName: "Ann" },
        { sourceId: 22, displayName: "Bob" },
      ],
    });
    call.feed(new Int16Array(320).fill(100), { speaker: 11 });
    call.feed(new Int16Array(640).fill(-30), { speaker: 22 });
    await call.advance(60);
    expect(heard.map((f) => [f.samples[0], f.speakers, f.unmixed])).toEqual([
      [70, [11, 22], [11, 22]],
      [-30, [22], [22]],
      [0, [], []],
    ]);
  });

  it("delivers DTMF from both origins, dominant speakers with their participant, rosters and the end", async () => {
    const events: unknown[] = [];
    call = await startTestCall(
      (): CallHandler => ({
        onTone: (key, origin) => events.push(["tone", key, origin]),
        onDominantSpeaker: (id, participant) => events.push(["speaker", id, participant?.displayName]),
        onRoster: (participants) => events.push(["roster", participants.map((p) => p.displayName)]),
        onEnd: (reason) => {
          events.push(["end", reason]);
        },
      }),
      { speakers: [{ sourceId: 5, displayName: "Ann" }] },
    );
    call.dtmf("star");
    call.dtmf("7", "graph");
    call.setDominantSpeaker(5);
    call.setDominantSpeaker(null);
    call.setRoster([
      {
        id: "p9",
        displayName: "Cy",
        audioSourceIds: [9],
        isMuted: false,
        isInLobby: false,
        kind: "user",
        role: "attendee",
      },
    ]);
    await call.hangUpAsCaller();
    expect(events).toEqual([
      ["roster", ["Ann"]],
      ["tone", "star", "media"],
      ["tone", "7", "graph"],
      ["speaker", 5, "Ann"],
      ["speaker", null, undefined],
      ["roster", ["Cy"]],
      ["end", "the caller hung up"],
    ]);
    expect(call.endReason).toBe("the caller hung up");
  });
});

describe("ending, recording and failures", () => {
  it("ends the call after the handler hangs up, hangUpDelayMs later", async () => {
    let endedAt = -1;
    call = await startTestCall(
      (media) => ({
        onTone: () => media.hangUp("done"),
        onEnd: () => {
          endedAt = call?.nowMs ?? -1;
        },
      }),
      { hangUpDelayMs: 300 },
    );
    await call.advance(100);
    call.dtmf("1");
    await call.advance(200);
    expect(call.hangUpRequested).toEqual({ reason: "done", atMs: 100 });
    expect(call.ended).toBe(false);
    await call.advance(200);
    expect(call.ended).toBe(true);
    expect(endedAt).toBe(400);
  });

  it("an onEnd that never settles is waited for 2 s of virtual time, as the worker does", async () => {
    call = await startTestCall(() => ({
      onEnd: () => new Promise<void>(() => {}),
    }));
    await call.advance(100);
    await call.hangUpAsCaller();
    // On the virtual timeline: a real 2 s timer would let thousands of ticks pass meanwhile.
    expect(call.nowMs).toBeGreaterThanOrEqual(2100);
    expect(call.nowMs).toBeLessThan(2200);
  });

  it("records what the caller said once signaling accepted it, into the recordings directory", async () => {
    let info: { mixedPath: string } | undefined;
    call = await startTestCall((media) => ({
      onTone(key) {
        if (key === "1")
          void media.record().then((recording) => {
            info = recording;
          });
        else void media.stopRecording();
      },
    }));
    call.dtmf("1");
    await call.advance(20);
    expect(info?.mixedPath.startsWith(call.recordingsDir)).toBe(true);
    call.feedTone(500, 400);
    await call.advance(500);
    call.dtmf("2");
    await call.advance(20);
    expect(call.recordingRequests.map((r) => [r.status, r.accepted])).toEqual([
      ["recording", true],
      ["notRecording", true],
    ]);
    const recorded = await readPcm16kWav(info?.mixedPath as string);
    const samples = new Int16Array(recorded.buffer, recorded.byteOffset, recorded.byteLength / 2);
    expect(isTone(samples.subarray(0, 6400), 500)).toBe(true);
    expect((await readdir(call.recordingsDir)).length).toBe(1);
  });

  it("a recording Graph never answers gives up after 15 s of virtual time", async () => {
    let outcome = "pending";
    call = await startTestCall(
      (media) => ({
        onTone() {
          media.record().then(
            () => {
              outcome = "recording";
            },
            (error: Error) => {
              outcome = error.message;
            },
          );
        },
      }),
      { recording: "noAnswer" },
    );
    call.dtmf("1");
    await call.advance(14_980);
    expect(outcome).toBe("pending");
    await call.advance(40);
    expect(outcome).toMatch(/did not accept/);
  });

  it("a throwing callback fails the kit action it happened in, and is counted as in production", async () => {
    call = await startTestCall(() => ({
      onTone() {
        throw new Error("bad key handling");
      },
    }));
    expect(() => call?.dtmf("1")).toThrow(HandlerFailedError);
    expect(call.handlerErrors.map((e) => e.callback)).toEqual(["onTone"]);
    expect(await call.metric("media_handler_errors_total", { callback: "onTone" })).toBe(1);
    expect(call.logs.some((line) => line.msg.startsWith("call handler threw"))).toBe(true);
  });

  it("a rejected async onAudio fails advance()", async () => {
    call = await startTestCall(() => ({
      async onAudio(frame) {
        if (!frame.isSilence) throw new Error("cannot hear that");
      },
    }));
    await call.advance(100);
    call.feedTone(300, 40);
    await expect(call.advance(100)).rejects.toThrow(/onAudio failed at 120 ms: cannot hear that/);
  });

  it("with handlerErrors: collect, the errors are only collected", async () => {
    call = await startTestCall(
      () => ({
        onTone() {
          throw new Error("x");
        },
      }),
      { handlerErrors: "collect" },
    );
    call.dtmf("1");
    call.dtmf("2");
    await call.advance(40);
    expect(call.handlerErrors).toHaveLength(2);
  });

  it("passes the options to the factory, typed after it or as a CallHandlerFactory's unknown", async () => {
    const seen: unknown[] = [];
    const typed = (_media: MediaCall, options: { greeting: string }): CallHandler => {
      seen.push(options.greeting);
      return {};
    };
    const untyped: CallHandlerFactory = (_media, options) => {
      seen.push(options);
      return {};
    };
    call = await startTestCall(typed, { options: { greeting: "hi" } });
    await call.close();
    call = await startTestCall(untyped, { options: 42 });
    expect(seen).toEqual(["hi", 42]);
  });

  it("a factory that throws makes startTestCall reject with its error", async () => {
    await expect(
      startTestCall(() => {
        throw new Error("no config");
      }),
    ).rejects.toThrow("no config");
  });
});
