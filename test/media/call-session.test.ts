import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type Logger, silentLogger } from "../../src/log/logger.js";
import { FRAME_BYTES } from "../../src/media/audio-format.js";
import type { CallHandler } from "../../src/media/bot-api.js";
import { CallSession, type CallSessionContext } from "../../src/media/call-session.js";
import { createRecorderHandler } from "../../src/media/processors/recorder.js";
import { pcm16kWavHeader } from "../../src/media/wav-writer.js";
import { createMediaMetrics } from "../../src/metrics/media-metrics.js";
import { createRegistry } from "../../src/metrics/registry.js";
import { capturingLogger } from "./capturing-logger.js";
import { pcmFor, TestFrameView } from "./frame-helpers.js";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "media-call-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function setup(
  options: {
    unmixed?: boolean;
    acceptRecording?: boolean;
    queue?: number;
    established?: boolean;
    log?: Logger;
    callId?: string;
  } = {},
) {
  const registry = createRegistry();
  const clears: number[] = [];
  const statusRequests: string[] = [];
  const hangUps: [string, string][] = [];
  let answer: ((ok: boolean) => void) | undefined;
  const context: CallSessionContext = {
    log: options.log ?? silentLogger(),
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
  const call = new CallSession(
    options.callId ?? "call-1",
    "msid",
    7,
    "sendRecv",
    options.unmixed ?? false,
    context,
  );
  // Signaling tells the engine, which tells the session; most tests start from there.
  if (options.established ?? true) call.established();
  const marks: [string, boolean][] = [];
  const handler: CallHandler = { onMarkPlayed: (name, played) => marks.push([name, played]) };
  call.handlers = [handler];
  const metric = async (name: string) => {
    const line = (await registry.metrics()).split("\n").find((l) => l.startsWith(name));
    return Number(line?.split(" ").at(-1));
  };
  return {
    call,
    context,
    registry,
    clears,
    marks,
    statusRequests,
    hangUps,
    metric,
    answer: (ok: boolean) => answer?.(ok),
  };
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
    const { call, marks, clears, metric, registry } = setup();
    call.setSendStatus(true);
    call.send(Buffer.concat([1, 2, 3, 4].map((s) => pcmFor(s))));
    call.mark("end");
    renderAll(call, 1);
    call.clear();
    expect(clears).toEqual([7]);
    expect(marks).toEqual([["end", false]]);
    expect(renderAll(call, 3)).toEqual([]);
    // A barge-in clear is intended: counted as cleared, never as a drop.
    expect(await metric('media_frames_cleared_total{reason="barge_in"}')).toBe(3);
    const dropLines = (await registry.metrics())
      .split("\n")
      .filter((l) => l.startsWith("media_frames_dropped_total{"));
    expect(dropLines.length).toBeGreaterThan(0);
    expect(dropLines.every((l) => l.endsWith(" 0"))).toBe(true);
  });

  it("frames still queued when the call ends are counted as cleared (call_ended), not as drops", async () => {
    const { call, metric, registry } = setup();
    call.setSendStatus(true);
    call.send(Buffer.concat([1, 2, 3].map((s) => pcmFor(s))));
    await call.end("test over");
    expect(await metric('media_frames_cleared_total{reason="call_ended"}')).toBe(3);
    expect(await metric('media_frames_cleared_total{reason="barge_in"}')).toBe(0);
    const drops = (await registry.metrics())
      .split("\n")
      .filter((l) => l.startsWith("media_frames_dropped_total{"));
    expect(drops.every((l) => l.endsWith(" 0"))).toBe(true);
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

  it("counts a recording active until its files are finalized (recording.json written), not only until it stops", async () => {
    const { call, metric } = setup({ acceptRecording: true });
    const info = await call.record();
    call.receive(new TestFrameView().set(1));
    expect(await metric("media_active_recordings")).toBe(1);
    const stopping = call.stopRecording();
    // The files are being finalized: the recording is not gone yet.
    expect(await metric("media_active_recordings")).toBe(1);
    expect(existsSync(join(dirname(info.mixedPath), "recording.json"))).toBe(false);
    await stopping;
    expect(existsSync(join(dirname(info.mixedPath), "recording.json"))).toBe(true);
    expect(await metric("media_active_recordings")).toBe(0);
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
      {
        id: "p-22",
        displayName: "Bea",
        audioSourceIds: [22],
        isMuted: false,
        isInLobby: false,
        kind: "user" as const,
        role: "attendee" as const,
      },
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

describe("CallSession (recording folders valid on Windows)", () => {
  // The longest call id signaling accepts (notification-parser SAFE_ID), with the characters
  // Windows refuses in file names.
  const longId = `${"a:b@c=d+e-".repeat(25)}abcdef`;

  it("a 256-character call id with ':' '@' '=' '+' records into a folder with a valid name", async () => {
    expect(longId).toHaveLength(256);
    const { call } = setup({ acceptRecording: true, callId: longId });
    const info = await call.record();
    await call.end("done");
    const folder = basename(dirname(info.mixedPath));
    expect(folder.length).toBeLessThanOrEqual(255);
    expect(folder).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(folder.startsWith("a_b_c_d_e-a_b_c_d_e-")).toBe(true);
    expect((await readFile(info.mixedPath)).subarray(0, 4).toString("latin1")).toBe("RIFF");
  });

  it("calls whose ids give the same name, recording in the same millisecond, never share files", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2026-12-07T12:00:00.000Z") });
    try {
      const a = setup({ acceptRecording: true, callId: "same:id" });
      const b = setup({ acceptRecording: true, callId: "same@id" });
      const [first, second] = await Promise.all([a.call.record(), b.call.record()]);
      await Promise.all([a.call.end("done"), b.call.end("done")]);
      expect(first.mixedPath).not.toBe(second.mixedPath);
      expect(basename(dirname(first.mixedPath))).toMatch(/^same_id-2026-12-07T12-00-00-000Z(-2)?$/);
      expect(basename(dirname(second.mixedPath))).toMatch(/^same_id-2026-12-07T12-00-00-000Z(-2)?$/);
    } finally {
      vi.useRealTimers();
    }
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

async function writeWav(name: string, frames: number): Promise<string> {
  const pcm = Buffer.concat(Array.from({ length: frames }, (_, i) => pcmFor(i)));
  const path = join(dir, name);
  await writeFile(path, Buffer.concat([pcm16kWavHeader(pcm.length), pcm]));
  return path;
}

/** Renders (giving the file reads their turn) until `done` settled and the queue is empty. */
async function renderUntil(call: CallSession, done: Promise<unknown>): Promise<Buffer[]> {
  let settled = false;
  void done.finally(() => {
    settled = true;
  });
  const sent: Buffer[] = [];
  for (let i = 0; i < 500 && (!settled || call.queuedFrames > 0); i++) {
    sent.push(...renderAll(call, 1));
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return sent;
}

describe("CallSession (handlers' promises and bad input)", () => {
  it("a callback's rejected promise is counted and logged once per call, never left unhandled", async () => {
    const { log, lines } = capturingLogger();
    const { call, metric } = setup({ log });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      call.handlers = [
        {
          async onAudio() {
            throw new Error("async onAudio failed");
          },
          async onTone() {
            throw new Error("async onTone failed");
          },
          onMarkPlayed: () => Promise.reject(new Error("onMarkPlayed promise rejected")),
        },
      ];
      const view = new TestFrameView();
      call.receive(view.set(1));
      call.receive(view.set(2));
      call.toneReceived("1", "media");
      call.setSendStatus(true);
      call.mark("m");
      call.render();
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
      // Two frames, one tone, one mark; a rejected onAudio promise drops no frame (it was handled).
      expect(await metric('media_handler_errors_total{callback="onAudio"}')).toBe(2);
      expect(await metric('media_handler_errors_total{callback="onTone"}')).toBe(1);
      expect(await metric('media_handler_errors_total{callback="onMarkPlayed"}')).toBe(1);
      expect(await metric('media_frames_dropped_total{reason="handler_error"}')).toBe(0);
      const errors = lines.filter((line) => String(line.msg).startsWith("call handler threw"));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ callback: "onAudio", err: { message: "async onAudio failed" } });
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
    await call.end("done");
  });

  it("send() and sendLive() drop the stray byte of an odd-length buffer (counted): later audio stays aligned", async () => {
    const { call, metric } = setup();
    call.setSendStatus(true);
    call.send(Buffer.concat([pcmFor(1), Buffer.from([0x55])]));
    call.send(pcmFor(2));
    expect(renderAll(call, 3)).toEqual([1, 2].map((s) => Buffer.from(pcmFor(s))));
    call.sendLive(Buffer.concat([pcmFor(3), Buffer.from([0x66])]));
    call.sendLive(pcmFor(4));
    expect(renderAll(call, 3)).toEqual([3, 4].map((s) => Buffer.from(pcmFor(s))));
    expect(await metric('media_handler_errors_total{callback="send"}')).toBe(1);
    expect(await metric('media_handler_errors_total{callback="sendLive"}')).toBe(1);
  });
});

describe("CallSession (clear during a play() still loading)", () => {
  it("the playback never starts: not completed, nothing queued, its mark reported unplayed", async () => {
    const path = await writeWav("barged.wav", 20);
    const { call, marks } = setup();
    call.setSendStatus(true);
    const playing = call.play(path, { mark: "prompt" });
    call.clear(); // barge-in while the file is read
    const sent = await renderUntil(call, playing);
    expect(await playing).toEqual({ framesQueued: 0, completed: false });
    expect(sent).toEqual([]);
    expect(marks).toEqual([["prompt", false]]);
    // A play() started after the clear() plays whole.
    const again = call.play(path, { mark: "again" });
    expect(await renderUntil(call, again)).toHaveLength(20);
    expect(await again).toEqual({ framesQueued: 20, completed: true });
    expect(marks).toEqual([
      ["prompt", false],
      ["again", true],
    ]);
  });
});

describe("CallSession (recording waits for the call to be established)", () => {
  it("asks Graph for recording status only once the call is established", async () => {
    const { call, statusRequests } = setup({ established: false, acceptRecording: true });
    const recording = call.record();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(statusRequests).toEqual([]); // Graph would answer 409 before established
    call.established();
    const info = await recording;
    expect(statusRequests).toEqual(["recording"]);
    const view = new TestFrameView();
    call.receive(view.set(1));
    await call.end("hang up");
    const pcm = Buffer.from(pcmFor(1));
    expect((await readFile(info.mixedPath)).equals(Buffer.concat([pcm16kWavHeader(pcm.length), pcm]))).toBe(
      true,
    );
  });

  it("the built-in recorder, created with the call before it is answered, records once established", async () => {
    const { log, lines } = capturingLogger();
    const { call, statusRequests } = setup({ established: false, acceptRecording: true, log });
    call.handlers = [await createRecorderHandler(call, {})];
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(statusRequests).toEqual([]);
    call.established();
    await vi.waitFor(() => expect(lines.some((line) => line.msg === "recorder started")).toBe(true));
    expect(statusRequests).toEqual(["recording"]);
    await call.end("hang up");
  });

  it("a call that ends before it is established: record() rejects saying so, Graph is never asked", async () => {
    const { call, statusRequests } = setup({ established: false, acceptRecording: true });
    const before = await readdir(dir);
    const recording = call.record();
    await call.end("caller hung up while ringing");
    await expect(recording).rejects.toThrow(/ended before it was established/);
    expect(statusRequests).toEqual([]);
    expect(await readdir(dir)).toEqual(before);
  });
});

describe("CallSession (stopRecording during a pending record())", () => {
  it("while Graph decides: Graph accepts, is told notRecording, record() rejects, nothing is stored", async () => {
    const { call, statusRequests, answer } = setup();
    const before = await readdir(dir);
    const recording = call.record();
    recording.catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(statusRequests).toEqual(["recording"]);
    const stopped = call.stopRecording();
    answer(true);
    await vi.waitFor(() => expect(statusRequests).toEqual(["recording", "notRecording"]));
    answer(true);
    await expect(recording).rejects.toThrow(/stopped \(stopRecording\) before it started/);
    await stopped;
    const view = new TestFrameView();
    call.receive(view.set(1));
    expect(await readdir(dir)).toEqual(before);
    await call.end("done");
    expect(await readdir(dir)).toEqual(before);
  });

  it("before the call is established: Graph is never asked; a later record() starts afresh", async () => {
    const { call, statusRequests } = setup({ established: false, acceptRecording: true });
    const first = call.record();
    first.catch(() => {});
    await call.stopRecording();
    await expect(first).rejects.toThrow(/stopped/);
    call.established();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(statusRequests).toEqual([]);
    const info = await call.record();
    expect(statusRequests).toEqual(["recording"]);
    await call.stopRecording();
    expect(statusRequests).toEqual(["recording", "notRecording"]);
    const bytes = await readFile(info.mixedPath);
    expect(bytes.equals(pcm16kWavHeader(0))).toBe(true);
    await call.end("done");
  });
});

describe("CallSession (recording.json names speakers who left)", () => {
  it("keeps the last participant the roster named for each speaker", async () => {
    const { call } = setup({ unmixed: true, acceptRecording: true });
    const info = await call.record({ unmixed: true });
    const view = new TestFrameView();
    const bea = {
      id: "p-22",
      displayName: "Bea",
      audioSourceIds: [22],
      isMuted: false,
      isInLobby: false,
      kind: "user" as const,
      role: "attendee" as const,
    };
    const cy = {
      id: "p-33",
      displayName: "Cy",
      audioSourceIds: [33],
      isMuted: false,
      isInLobby: false,
      kind: "user" as const,
      role: "attendee" as const,
    };
    call.updateRoster([bea]);
    call.receive(view.set(1, { unmixed: [{ speakerId: 22, pcm: pcmFor(1) }] })); // known when first heard
    call.receive(view.set(2, { unmixed: [{ speakerId: 33, pcm: pcmFor(2) }] })); // not in the roster yet
    call.updateRoster([bea, cy]);
    call.updateRoster([]); // both left before the end of the call
    await call.end("hang up");
    const index = JSON.parse(await readFile(join(info.mixedPath, "..", "recording.json"), "utf8"));
    expect(index.speakers).toEqual([
      { sourceId: 22, file: "speaker-22.wav", participant: bea },
      { sourceId: 33, file: "speaker-33.wav", participant: cy },
    ]);
  });
});
