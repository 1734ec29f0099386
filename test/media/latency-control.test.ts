import { describe, expect, it } from "vitest";
import { EnvelopeDecoder } from "../../src/bridge/codec.js";
import { FrameBatchWriter } from "../../src/bridge/frame-batch-writer.js";
import { v1 } from "../../src/bridge/protocol.js";
import type { MediaCall } from "../../src/media/bot-api.js";
import { type LoadedHandler, loadHandlers } from "../../src/media/handler-loader.js";
import { startEngine } from "./engine-fixture.js";
import { FakeBridge } from "./fake-bridge.js";
import { pcmFor } from "./frame-helpers.js";
import { youngBytesAllocated } from "./gc-counter.js";

const SOURCE = v1.MediaContext.MEDIA_CONTEXT_AUDIO_SOURCE;

/** FakeBridge that reads back, for each batch sent, the sequence number each frame's audio carried. */
class SequenceBridge extends FakeBridge {
  batches: number[][] = [];
  private readonly outDecoder = new EnvelopeDecoder();
  override sendFrameBatch(bytes: Uint8Array, release?: (() => void) | null): boolean {
    if (!this.keep) return super.sendFrameBatch(bytes, release);
    expect(this.outDecoder.decode(bytes)).toBe("frames");
    const reader = this.outDecoder.frames;
    const sequences: number[] = [];
    while (reader.next()) sequences.push(sequenceOf(Buffer.from(reader.pcm())));
    this.batches.push(sequences);
    release?.();
    return true;
  }
}

/** pcmFor(sequence) starts with sample (sequence * 7 % 30000) - 15000: read the sequence back. */
function sequenceOf(pcm: Buffer): number {
  return (pcm.readInt16LE(0) + 15000) / 7;
}

async function setup(sessions = 1) {
  const calls: MediaCall[] = [];
  const [echo] = await loadHandlers([{ builtin: "echo" }]);
  const capturing: LoadedHandler = {
    name: "echo",
    factory: (call, options) => {
      calls.push(call);
      return (echo as LoadedHandler).factory(call, options);
    },
    options: undefined,
  };
  const { bridge, engine, clock, metric } = startEngine({
    bridge: new SequenceBridge(),
    handlers: [capturing],
  });
  for (let s = 1; s <= sessions; s++) {
    await engine.createSession({ callId: `c${s}`, direction: "sendRecv", unmixedAudio: false });
    bridge.emit("sendStatus", { session: s, active: true });
  }
  const writer = new FrameBatchWriter({ ringSize: 1 });
  let sequence = 0;
  /** The far end's next `count` batches, each with a frame for every session. */
  const encode = (count: number) =>
    Array.from({ length: count }, () => {
      const pcm = pcmFor(sequence);
      writer.begin(1);
      for (let s = 1; s <= sessions; s++)
        writer.addFrame(s, SOURCE, sequence, sequence * 200_000, pcm, 0, false);
      sequence++;
      return Uint8Array.from(writer.finish());
    });
  const farEndFrame = () => {
    for (const batch of encode(1)) bridge.deliver(batch);
  };
  const dropped = (reason: string) => metric(`media_frames_dropped_total{reason="${reason}"}`);
  return { bridge, engine, clock, calls, encode, farEndFrame, dropped, lastSequence: () => sequence - 1 };
}

describe("live playout latency", () => {
  it("a clock stall does not leave the echo with a standing backlog", async () => {
    const { bridge, engine, clock, calls, farEndFrame, dropped, lastSequence } = await setup();
    const call = calls[0] as MediaCall;
    for (let t = 0; t < 30; t++) {
      farEndFrame();
      clock.advance(20);
    }
    expect(call.queuedFrames).toBeLessThanOrEqual(1);
    // The worker stalls 300 ms: the clock skips the missed ticks (no burst to the far end),
    // and the 15 frames the far end sent meanwhile arrive at once right after.
    clock.advance(300);
    for (let i = 0; i < 15; i++) farEndFrame();
    expect(call.queuedFrames).toBe(10);
    const depths: number[] = [];
    const lags: number[] = [];
    let sent = 0;
    for (let t = 0; t < 60; t++) {
      // Live audio leaves right after its batch (or at the tick): both are this period's sends.
      bridge.batches.length = 0;
      farEndFrame();
      clock.advance(20);
      depths.push(call.queuedFrames);
      const echoed = bridge.batches.flat();
      sent += echoed.length;
      if (echoed.length > 0) lags.push(lastSequence() - (echoed.at(-1) as number));
    }
    // Back to real time within two ticks of the stall and stays there: no standing queue.
    expect(Math.max(...depths.slice(2))).toBeLessThanOrEqual(2);
    expect(Math.max(...lags.slice(2))).toBeLessThanOrEqual(2);
    // A frame a tick all along (the burst's first frames went a tick ahead, so one period may
    // send none): trimming never starved the stream.
    expect(sent).toBeGreaterThanOrEqual(59);
    expect(sent).toBeLessThanOrEqual(60);
    expect(await dropped("latency_trim")).toBeGreaterThanOrEqual(5);
    expect(await dropped("playout_overflow")).toBe(0);
    await engine.shutdown();
  });

  it("after a short stall the frames that arrived meanwhile are handled before the missed ticks render", async () => {
    const { bridge, engine, clock, calls, farEndFrame, dropped, lastSequence } = await setup();
    const call = calls[0] as MediaCall;
    /** Each batch the bot sent: how many ticks its echoed frame lags the far end's newest. */
    const lags: number[] = [];
    const collect = () => {
      for (const batch of bridge.batches.splice(0))
        lags.push(...batch.map((echoed) => lastSequence() - echoed));
    };
    for (let t = 0; t < 30; t++) {
      farEndFrame();
      clock.advance(20);
    }
    bridge.batches.length = 0;
    // The worker stalls 60 ms: its timer fires 40 ms late, the tick waits for the input...
    clock.advance(60);
    expect(bridge.batches).toEqual([]);
    // ...that piled up meanwhile: the far end's three frames of the stall.
    for (let i = 0; i < 3; i++) farEndFrame();
    clock.ioDone();
    // The two ticks it missed run right after (timers of 0 ms), each with its own frame.
    clock.advance(0);
    clock.advance(0);
    collect();
    expect(lags).toEqual([2, 1, 0]);
    lags.length = 0;
    for (let t = 0; t < 30; t++) {
      farEndFrame();
      clock.advance(t === 0 ? 0 : 20);
      collect();
    }
    // One frame a tick, as before the stall: no underrun, no backlog left to trim, same delay.
    expect(lags).toEqual(Array.from({ length: 30 }, () => 0));
    expect(call.queuedFrames).toBe(0);
    expect(await dropped("latency_trim")).toBe(0);
    await engine.shutdown();
  });

  it("an echo goes back as soon as its received batch is handled, not at the next tick", async () => {
    const { bridge, engine, clock, calls, farEndFrame, lastSequence } = await setup(3);
    for (let t = 0; t < 10; t++) {
      farEndFrame();
      clock.advance(20);
    }
    for (let t = 0; t < 20; t++) {
      // Mid-period: the clock's next tick is 13 ms away.
      clock.advance(7);
      bridge.batches.length = 0;
      farEndFrame();
      // Sent before any time passed: every session's echo of the frame just received.
      expect(bridge.batches).toEqual([[lastSequence(), lastSequence(), lastSequence()]]);
      clock.advance(13);
      // The tick has nothing left to send for them: one frame per call per period.
      expect(bridge.batches).toHaveLength(1);
    }
    expect(calls.every((call) => call.queuedFrames === 0)).toBe(true);
    await engine.shutdown();
  });

  it("live audio goes at most one tick ahead of the clock: the rest of a burst waits for its ticks", async () => {
    const { bridge, engine, clock, calls, farEndFrame, dropped } = await setup();
    const call = calls[0] as MediaCall;
    for (let t = 0; t < 10; t++) {
      farEndFrame();
      clock.advance(20);
    }
    clock.advance(5);
    bridge.batches.length = 0;
    // Five batches at once (a far end catching up): this tick's frame and the next one's go now.
    for (let i = 0; i < 5; i++) farEndFrame();
    expect(bridge.batches.flat()).toHaveLength(2);
    expect(call.queuedFrames).toBe(3);
    // Then one a tick: the ticks the early frames stood for send nothing more.
    const perTick: number[] = [];
    for (let t = 0; t < 5; t++) {
      bridge.batches.length = 0;
      clock.advance(20);
      perTick.push(bridge.batches.flat().length);
    }
    expect(perTick).toEqual([0, 0, 1, 1, 1]);
    expect(await dropped("latency_trim")).toBe(0);
    await engine.shutdown();
  });

  it("a burst from the far end (no stall here) is trimmed to the target within a window", async () => {
    const { bridge, engine, clock, calls, farEndFrame, dropped, lastSequence } = await setup();
    const call = calls[0] as MediaCall;
    for (let t = 0; t < 20; t++) {
      farEndFrame();
      clock.advance(20);
    }
    for (let i = 0; i < 7; i++) farEndFrame();
    const depths: number[] = [];
    for (let t = 0; t < 40; t++) {
      bridge.batches.length = 0;
      farEndFrame();
      clock.advance(20);
      depths.push(call.queuedFrames);
    }
    // Before this change the 7 extra frames stood for the rest of the call (140 ms of echo delay).
    // The burst lands mid-window: that window saw the shallow queue before it, the next one
    // (at most 2 × 200 ms later) trims. (Of the 8 frames, the first went at once, one a tick
    // ahead, as live audio may: 6 stand.)
    expect(depths.slice(0, 5)).toEqual([6, 6, 6, 6, 6]);
    expect(Math.max(...depths.slice(20))).toBeLessThanOrEqual(2);
    expect(lastSequence() - (bridge.batches.flat().at(-1) ?? 0)).toBeLessThanOrEqual(2);
    expect(await dropped("latency_trim")).toBeGreaterThan(0);
    await engine.shutdown();
  });

  it("audio a bot queues with send() plays whole after a stall: only live audio is trimmed", async () => {
    const { bridge, engine, clock, calls } = await setup();
    const call = calls[0] as MediaCall;
    clock.advance(20);
    const prompt = Buffer.concat(Array.from({ length: 10 }, (_, i) => pcmFor(1000 + i)));
    expect(call.send(prompt)).toBe(0);
    bridge.batches.length = 0;
    clock.advance(300); // stall: ticks skipped
    for (let t = 0; t < 20; t++) clock.advance(20);
    expect(bridge.batches.flat()).toEqual(Array.from({ length: 10 }, (_, i) => 1000 + i));
    await engine.shutdown();
  });

  it("the receive path allocates nothing per frame with hundreds of sessions", async () => {
    const { bridge, engine, clock, encode } = await setup(300);
    bridge.keep = false;
    for (const batch of encode(300)) {
      bridge.deliver(batch);
      clock.advance(20);
    }
    // Receive, echo and render, but no batch writing (the bridge's code): with the host
    // connection marked closed, the tick takes each session's frame and counts it unsendable.
    bridge.isOpen = false;
    const inputs = [0, 1, 2, 3].map(() => encode(40));
    const bytes = await youngBytesAllocated((attempt) => {
      for (const batch of inputs[attempt] as Uint8Array[]) {
        bridge.deliver(batch);
        clock.advance(20);
      }
    });
    // 12,000 frames in and out. A DataView, a view object or a boxed number per frame would
    // add 16-100 bytes a frame; what remains is per batch and per tick (3.5-4.1 bytes a frame
    // with and without issue 17's live batches, so the bound of 4 failed now and then).
    expect(bytes / 12_000).toBeLessThan(6);
    await engine.shutdown();
  });
});
