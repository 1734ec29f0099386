import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/log/logger.js";
import { FRAME_BYTES } from "../../src/media/audio-format.js";
import type { CallHandler } from "../../src/media/bot-api.js";
import { CallSession, type CallSessionContext } from "../../src/media/call-session.js";
import { pcm16kWavHeader } from "../../src/media/wav-writer.js";
import { createMediaMetrics } from "../../src/metrics/media-metrics.js";
import { createRegistry } from "../../src/metrics/registry.js";
import { pcmFor, TestFrameView } from "./frame-helpers.js";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "media-call-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function setup(options: { unmixed?: boolean; acceptRecording?: boolean; queue?: number } = {}) {
  const registry = createRegistry();
  const clears: number[] = [];
  const statusRequests: string[] = [];
  const hangUps: [string, string][] = [];
  let answer: ((ok: boolean) => void) | undefined;
  const context: CallSessionContext = {
    log: silentLogger(),
    metrics: createMediaMetrics(registry),
    time: { nowMs: 0 },
    recordingsDir: dir,
    playoutQueueFrames: options.queue ?? 10,
    jitterDepthFrames: 2,
    maxConcealFrames: 50,
    sendClear: (session) => clears.push(session),
    requestRecordingStatus: (_callId, status) => {
      statusRequests.push(status);
      if (options.acceptRecording !== undefined) return Promise.resolve(options.acceptRecording);
      return new Promise((resolve) => {
        answer = resolve;
      });
    },
    requestHangUp: (callId, reason) => hangUps.push([callId, reason]),
  };
  const call = new CallSession("call-1", "msid", 7, "sendRecv", options.unmixed ?? false, context);
  const marks: [string, boolean][] = [];
  const handler: CallHandler = { onMarkPlayed: (name, played) => marks.push([name, played]) };
  call.handlers = [handler];
  const metric = async (name: string) => {
    const line = (await registry.metrics()).split("\n").find((l) => l.startsWith(name));
    return Number(line?.split(" ").at(-1));
  };
  return { call, clears, marks, statusRequests, hangUps, metric, answer: (ok: boolean) => answer?.(ok) };
}

function renderAll(call: CallSession, ticks: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < ticks; i++) {
    const frame = call.render();
    if (frame) out.push(Buffer.from(frame));
  }
  return out;
}

describe("CallSession (render side)", () => {
  it("sends nothing before send status Active, holding up to the queue bound and counting the rest", async () => {
    const { call, metric } = setup({ queue: 3 });
    const audio = Buffer.concat([1, 2, 3, 4, 5].map((s) => pcmFor(s)));
    expect(call.send(audio)).toBe(2);
    expect(renderAll(call, 5)).toEqual([]);
    expect(await metric('media_frames_dropped_total{reason="not_active"}')).toBe(2);
    call.setSendStatus(true);
    expect(renderAll(call, 5)).toEqual([1, 2, 3].map((s) => Buffer.from(pcmFor(s))));
    call.send(Buffer.concat([6, 7, 8, 9].map((s) => pcmFor(s))));
    expect(await metric('media_frames_dropped_total{reason="playout_overflow"}')).toBe(1);
  });

  it("one frame per tick, marks reported when their last frame was taken", () => {
    const { call, marks } = setup();
    call.setSendStatus(true);
    call.send(Buffer.concat([pcmFor(1), pcmFor(2)]));
    call.mark("two");
    call.send(pcmFor(3));
    expect(renderAll(call, 1)).toHaveLength(1);
    expect(marks).toEqual([]);
    expect(renderAll(call, 1)).toHaveLength(1);
    expect(marks).toEqual([["two", true]]);
    expect(renderAll(call, 3)).toHaveLength(1);
  });

  it("clear flushes the queue at once, forwards ClearPlayout and reports pending marks unplayed", async () => {
    const { call, marks, clears, metric } = setup();
    call.setSendStatus(true);
    call.send(Buffer.concat([1, 2, 3, 4].map((s) => pcmFor(s))));
    call.mark("end");
    renderAll(call, 1);
    call.clear();
    expect(clears).toEqual([7]);
    expect(marks).toEqual([["end", false]]);
    expect(renderAll(call, 3)).toEqual([]);
    expect(await metric('media_frames_dropped_total{reason="cleared"}')).toBe(3);
  });

  it("plays a WAV file frame by frame, byte for byte, with its last frame padded, then its mark", async () => {
    const pcm = Buffer.concat([pcmFor(1), pcmFor(2), pcmFor(3).subarray(0, 100)]);
    const path = join(dir, "prompt.wav");
    await writeFile(path, Buffer.concat([pcm16kWavHeader(pcm.length), pcm]));
    const { call, marks } = setup();
    let result: unknown;
    const done = call.play(path, { mark: "prompt-done" }).then((r) => {
      result = r;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(renderAll(call, 2)).toEqual([]); // not active yet: nothing is sent
    call.setSendStatus(true);
    const sent: Buffer[] = [];
    // Tick until the playback (its file is read asynchronously) has been queued and sent.
    for (let i = 0; i < 500 && (result === undefined || call.queuedFrames > 0); i++) {
      sent.push(...renderAll(call, 1));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await done;
    expect(result).toEqual({ framesQueued: 3, completed: true });
    expect(Buffer.concat(sent).equals(Buffer.concat([pcm, Buffer.alloc(FRAME_BYTES - 100)]))).toBe(true);
    expect(marks).toEqual([["prompt-done", true]]);
  });

  it("a playback cut by clear() resolves as not completed", async () => {
    const pcm = Buffer.concat(Array.from({ length: 30 }, (_, i) => pcmFor(i)));
    const path = join(dir, "long.wav");
    await writeFile(path, Buffer.concat([pcm16kWavHeader(pcm.length), pcm]));
    const { call } = setup();
    call.setSendStatus(true);
    const done = call.play(path);
    // Wait until the file is read and the playback has started filling the queue.
    for (let i = 0; i < 500 && call.queuedFrames === 0; i++) {
      renderAll(call, 1);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    renderAll(call, 2);
    call.clear();
    const result = await done;
    expect(result.completed).toBe(false);
    expect(result.framesQueued).toBeLessThan(30);
    expect(call.queuedFrames).toBe(0);
    expect(renderAll(call, 3)).toEqual([]);
  });
});

describe("CallSession (recording)", () => {
  it("stores nothing until the recording status was accepted, then records the mixed stream", async () => {
    const { call, statusRequests, answer } = setup();
    const view = new TestFrameView();
    const recording = call.record();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(statusRequests).toEqual(["recording"]);
    call.receive(view.set(1)); // before Graph accepted: not stored
    answer(true);
    const info = await recording;
    for (let s = 2; s <= 4; s++) call.receive(view.set(s));
    await call.end("hang up");
    const bytes = await readFile(info.mixedPath);
    const pcm = Buffer.concat([2, 3, 4].map((s) => pcmFor(s)));
    expect(bytes.equals(Buffer.concat([pcm16kWavHeader(pcm.length), pcm]))).toBe(true);
  });

  it("refused recording status: record() rejects and no file is created", async () => {
    const { call } = setup({ acceptRecording: false });
    const before = await readdir(dir);
    await expect(call.record()).rejects.toThrow(/did not accept/);
    expect(await readdir(dir)).toEqual(before);
    await call.end("done");
  });

  it("writes one file per speaker on the call's timeline, silence where they did not speak", async () => {
    const { call } = setup({ unmixed: true, acceptRecording: true });
    const info = await call.record({ unmixed: true });
    const view = new TestFrameView();
    const a = (s: number) => ({ speakerId: 11, pcm: pcmFor(s, 100) });
    const b = (s: number) => ({ speakerId: 22, pcm: pcmFor(s, 200) });
    call.receive(view.set(1, { unmixed: [a(1)] }));
    call.receive(view.set(2, { unmixed: [a(2), b(2)] }));
    call.receive(view.set(3, { unmixed: [b(3)] }));
    call.receive(view.set(4, { unmixed: [] }));
    call.updateRoster([
      { id: "p-22", displayName: "Bea", audioSourceIds: [22], isMuted: false, isInLobby: false },
    ]);
    await call.end("hang up");
    const silence = Buffer.alloc(FRAME_BYTES);
    const wavOf = (frames: Uint8Array[]) => {
      const pcm = Buffer.concat(frames);
      return Buffer.concat([pcm16kWavHeader(pcm.length), pcm]);
    };
    const speakerDir = join(info.mixedPath, "..");
    expect(
      (await readFile(join(speakerDir, "speaker-11.wav"))).equals(
        wavOf([a(1).pcm, a(2).pcm, silence, silence]),
      ),
    ).toBe(true);
    expect(
      (await readFile(join(speakerDir, "speaker-22.wav"))).equals(
        wavOf([silence, b(2).pcm, b(3).pcm, silence]),
      ),
    ).toBe(true);
    expect((await readFile(info.mixedPath)).equals(wavOf([1, 2, 3, 4].map((s) => pcmFor(s))))).toBe(true);
    const index = JSON.parse(await readFile(join(speakerDir, "recording.json"), "utf8"));
    expect(index.speakers).toEqual([
      { sourceId: 11, file: "speaker-11.wav", participant: null },
      {
        sourceId: 22,
        file: "speaker-22.wav",
        participant: expect.objectContaining({ id: "p-22", displayName: "Bea" }),
      },
    ]);
  });
});

describe("CallSession (hang up)", () => {
  it("asks signaling once, with the reason or a default, and never after the end", async () => {
    const first = setup();
    first.call.hangUp("done");
    first.call.hangUp("again");
    expect(first.hangUps).toEqual([["call-1", "done"]]);
    await first.call.end("hung up");
    first.call.hangUp("late");
    expect(first.hangUps).toHaveLength(1);

    const second = setup();
    second.call.hangUp();
    expect(second.hangUps).toEqual([["call-1", "hung up by the bot"]]);

    const ended = setup();
    await ended.call.end("caller left");
    ended.call.hangUp("too late");
    expect(ended.hangUps).toEqual([]);
  });

  it("bounds what a handler passes: control characters replaced, 200 characters at most", () => {
    const long = setup();
    long.call.hangUp(`bye\n\u0000now ${"x".repeat(500)}`);
    const reason = long.hangUps[0]?.[1] ?? "";
    expect(reason.startsWith("bye  now x")).toBe(true);
    expect(reason).toHaveLength(200);
    const blank = setup();
    blank.call.hangUp(" \t ");
    expect(blank.hangUps[0]?.[1]).toBe("hung up by the bot");
    const notString = setup();
    notString.call.hangUp(42 as unknown as string);
    expect(notString.hangUps[0]?.[1]).toBe("42");
  });
});
