/**
 * The real CallSession's ways to send generated audio, tick by tick (its render() is what the
 * media clock calls every 20 ms): play(pcm) and stream() of a 10 s beep come out complete
 * without ever holding more than the queue; stream() pulls from its source only as the queue
 * frees room; send() of a 300 ms beep drops 5 frames, says so once at warn and counts them.
 */
import { describe, expect, it } from "vitest";
import { type Logger, silentLogger } from "../../src/log/logger.js";
import type { Pcm } from "../../src/media/bot-api.js";
import { CallSession, type CallSessionContext } from "../../src/media/call-session.js";
import { createMediaMetrics } from "../../src/metrics/media-metrics.js";
import { createRegistry } from "../../src/metrics/registry.js";
import { capturingLogger } from "./capturing-logger.js";
import { beep, chunked, framedBytes } from "./fixtures/beep.js";

const QUEUE = 10;

function setup(log: Logger = silentLogger()) {
  const registry = createRegistry();
  const context: CallSessionContext = {
    log,
    metrics: createMediaMetrics(registry),
    time: { nowMs: 0 },
    recordingsDir: "/nonexistent",
    playoutQueueFrames: QUEUE,
    jitterDepthFrames: 2,
    maxConcealFrames: 50,
    sendClear: () => {},
    requestRecordingStatus: () => Promise.resolve(false),
    requestHangUp: () => {},
  };
  const call = new CallSession("call-1", "msid", 7, "sendRecv", false, context);
  const marks: [string, boolean][] = [];
  call.handlers = [{ onMarkPlayed: (name, played) => marks.push([name, played]) }];
  call.setSendStatus(true);
  const metric = async (name: string) => {
    const line = (await registry.metrics()).split("\n").find((l) => l.startsWith(name));
    return Number(line?.split(" ").at(-1));
  };
  return { call, marks, metric };
}

/** Event-loop turns between ticks, so a source's chunks (promises) arrive as they would. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

/** Renders ticks until `done()` (plus `extra` ticks), checking the queue bound every tick. */
async function renderUntil(call: CallSession, done: () => boolean, maxTicks: number): Promise<Buffer> {
  const out: Buffer[] = [];
  for (let tick = 0; tick < maxTicks && !(done() && call.queuedFrames === 0); tick++) {
    expect(call.queuedFrames).toBeLessThanOrEqual(QUEUE);
    const frame = call.render();
    if (frame) out.push(Buffer.from(frame));
    await turn();
  }
  return Buffer.concat(out);
}

describe("generated audio on a CallSession", () => {
  it("play(pcm) of a 10 s beep: all 500 frames, in order, the caller's buffer copied", async () => {
    const { call, marks, metric } = setup();
    const audio = beep(10_000);
    const expected = framedBytes(audio);
    let result: unknown;
    void call.play(audio, { mark: "end" }).then((r) => {
      result = r;
    });
    audio.fill(0); // play() copied it: reusing the buffer at once changes nothing
    const played = await renderUntil(call, () => result !== undefined, 600);
    expect(played.equals(expected)).toBe(true);
    expect(result).toEqual({ framesQueued: 500, completed: true });
    expect(marks).toEqual([["end", true]]);
    expect(await metric('media_frames_dropped_total{reason="playout_overflow"}')).toBe(0);
  });

  it("stream() of a 10 s beep pulls a chunk only when the queue has room, and plays all of it", async () => {
    const { call, marks } = setup();
    const audio = beep(10_000);
    let pulled = 0;
    let rendered = 0;
    let mostAhead = 0;
    async function* source(): AsyncGenerator<Pcm> {
      for await (const chunk of chunked(audio, 1001)) {
        pulled += chunk.length;
        // Back-pressure: never more than the queue (plus the chunk in hand) ahead of the render.
        mostAhead = Math.max(mostAhead, pulled - rendered * 640);
        yield chunk;
      }
    }
    let result: unknown;
    void call.stream(source(), { mark: "end" }).then((r) => {
      result = r;
    });
    const out: Buffer[] = [];
    for (let tick = 0; tick < 600 && !(result !== undefined && call.queuedFrames === 0); tick++) {
      const frame = call.render();
      if (frame) {
        out.push(Buffer.from(frame));
        rendered++;
      }
      await turn();
    }
    expect(Buffer.concat(out).equals(framedBytes(audio))).toBe(true);
    expect(result).toEqual({ framesQueued: 500, completed: true });
    expect(marks).toEqual([["end", true]]);
    expect(mostAhead).toBeLessThanOrEqual(QUEUE * 640 + 1001 + 640);
  });

  it("clear() stops a stream: its source is told to finish and its mark is reported unplayed", async () => {
    const { call, marks } = setup();
    let finished = false;
    async function* endless(): AsyncGenerator<Pcm> {
      try {
        for (;;) yield new Int16Array(320).fill(1000);
      } finally {
        finished = true;
      }
    }
    const playing = call.stream(endless(), { mark: "m" });
    for (let i = 0; i < 5; i++) {
      call.render();
      await turn();
    }
    call.clear();
    expect(await playing).toMatchObject({ completed: false });
    await turn();
    expect(finished).toBe(true);
    expect(marks).toEqual([["m", false]]);
    expect(call.queuedFrames).toBe(0);
  });

  it("a source that throws rejects stream() and the playbacks queued after it go on", async () => {
    const { call } = setup();
    async function* broken(): AsyncGenerator<Pcm> {
      yield new Int16Array(320).fill(5);
      throw new Error("tts engine went away");
    }
    const failing = call.stream(broken());
    const next = call.play(new Int16Array(640).fill(9));
    const rejected = expect(failing).rejects.toThrow("tts engine went away");
    const played = await renderUntil(call, () => false, 8);
    await rejected;
    expect(await next).toEqual({ framesQueued: 2, completed: true });
    expect(played.length).toBe(3 * 640);
  });

  it("a source whose next() gives no iterator result rejects stream(), nothing escapes", async () => {
    const { call } = setup();
    // A hand-written iterator that breaks the protocol: next() resolves to undefined.
    const broken = { [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve(undefined) }) };
    const failing = call.stream(broken as unknown as AsyncIterable<Pcm>);
    const next = call.play(new Int16Array(640).fill(9));
    const rejected = expect(failing).rejects.toThrow("not an iterator result");
    const played = await renderUntil(call, () => false, 4);
    await rejected;
    expect(await next).toEqual({ framesQueued: 2, completed: true });
    expect(played.length).toBe(2 * 640);
  });

  it("send() of a 300 ms beep queues 10 frames, returns the 5 it dropped, counts them and warns once", async () => {
    const { log, lines } = capturingLogger();
    const { call, metric } = setup(log);
    expect(call.send(beep(300))).toBe(5);
    expect(call.queuedFrames).toBe(QUEUE);
    expect(await metric('media_frames_dropped_total{reason="playout_overflow"}')).toBe(5);
    const warnings = () => lines.filter((line) => line.level === 40 && line.method === "send");
    expect(warnings()).toEqual([
      expect.objectContaining({ callId: "call-1", framesDropped: 5, reason: "playout_overflow" }),
    ]);
    // Again at once: counted, not logged again (at most one line per 10 s per call).
    expect(call.send(beep(300))).toBe(15);
    expect(await metric('media_frames_dropped_total{reason="playout_overflow"}')).toBe(20);
    expect(warnings()).toHaveLength(1);
  });
});
