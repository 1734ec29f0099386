import { EnvelopeDecoder } from "../../src/bridge/codec.js";
import {
  type BenchmarkBatch,
  createBenchmarkBatch,
  FrameBatchWriter,
  writeBenchmarkBatch,
} from "../../src/bridge/codec-benchmark.js";
import { MAX_FRAME_BATCH_BYTES, nowMicros, PCM_FRAME_BYTES, type pb, v1 } from "../../src/bridge/protocol.js";
import { SendBufferPool } from "../../src/bridge/send-buffer-pool.js";
import { loadHandlers } from "../../src/media/handler-loader.js";
import { startEngine } from "../../test/media/engine-fixture.js";
import { FakeBridge } from "../../test/media/fake-bridge.js";

/**
 * The three designs bench:frames times, each as decode -> dispatch to a processor (echo) ->
 * encode of one 20 ms tick carrying a frame for every session. Each `step(tick)` returns the
 * nanoseconds spent in each stage; the far end's work (producing the input) is not timed.
 */
export interface FramePipeline {
  name: string;
  step(tick: number): StageTimes;
  /** Frames that came out of the pipeline's encoder so far (checks the work was really done). */
  framesOut: number;
  /** Why frames went missing, when the pipeline can tell (read after close()). */
  diagnose?(): Promise<string>;
  close(): Promise<void>;
}

export interface StageTimes {
  decodeNs: number;
  dispatchNs: number;
  encodeNs: number;
  /**
   * CPU time of the three stages together (getrusage, microsecond resolution, every thread of
   * the process): unlike the clock readings it does not grow while the thread waits for a
   * core, so it stays comparable on a shared machine.
   */
  cpuNs: number;
}

const RENDER = v1.MediaContext.MEDIA_CONTEXT_AUDIO_RENDER;
const ns = () => process.hrtime.bigint();
/** CPU time this process has used so far, in µs. */
const cpuUs = () => {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
};

/** The shared FakeBridge around the real MediaEngine, counting its output instead of keeping it. */
class LoopBridge extends FakeBridge {
  framesOut = 0;
  private readonly counter = new EnvelopeDecoder();
  constructor() {
    super({ mpUri: "net.tcp://media.bench:8445/MediaProcessor" });
  }
  /**
   * The engine splits a tick's render frames into several messages above the protocol's batch
   * limit (FrameBatchWriter onFull), so each message is counted as it arrives; the time spent
   * counting is kept apart and taken out of the timed encode stage (see step()).
   */
  override sendFrameBatch(bytes: Uint8Array, release?: (() => void) | null): boolean {
    const t0 = ns();
    if (bytes.length > MAX_FRAME_BATCH_BYTES)
      throw new Error(`engine sent a FrameBatch of ${bytes.length} bytes (limit ${MAX_FRAME_BATCH_BYTES})`);
    if (this.counter.decode(bytes) !== "frames")
      throw new Error(`engine sent a message that is not a FrameBatch: ${this.counter.error?.message}`);
    this.framesOut += this.counter.frames.frameCount;
    this.messagesOut++;
    this.countingNs += ns() - t0;
    // Written at once, as the bridge's socket would: the writer's pooled buffer goes back.
    release?.();
    return true;
  }
  messagesOut = 0;
  /** Nanoseconds spent in sendFrameBatch counting, since the last takeCountingNs(). */
  private countingNs = 0n;
  takeCountingNs(): bigint {
    const spent = this.countingNs;
    this.countingNs = 0n;
    return spent;
  }
}

/**
 * This project's path: EnvelopeDecoder/FrameBatchReader in place, the real MediaEngine with the
 * built-in echo handler (jitter buffer, handler, playout queue), and one FrameBatchWriter
 * batch per tick rendered by the engine's own media clock (driven by hand here).
 */
export async function bridgePipeline(sessions: number): Promise<FramePipeline> {
  const bridge = new LoopBridge();
  const { clock, engine, registry } = startEngine(
    { bridge, handlers: await loadHandlers([{ builtin: "echo" }]) },
    { jitterDepthFrames: 3 },
  );
  for (let s = 0; s < sessions; s++) {
    const created = await engine.createSession({
      callId: `call-${s + 1}`,
      direction: "sendRecv",
      unmixedAudio: false,
    });
    if (!created.mediaSessionId) throw new Error("engine did not create the session");
    bridge.emit("sendStatus", { session: s + 1, active: true });
  }
  const batch = createBenchmarkBatch(sessions, { activeSpeakers: 0 });
  const farWriter = new FrameBatchWriter();
  const decoder = new EnvelopeDecoder();
  return {
    name: "bridge codec + media engine",
    get framesOut() {
      return bridge.framesOut;
    },
    step(tick) {
      const bytes = writeBenchmarkBatch(farWriter, batch, tick);
      const c0 = cpuUs();
      const t0 = ns();
      if (decoder.decode(bytes) !== "frames") throw new Error(`batch refused: ${decoder.error?.message}`);
      const t1 = ns();
      bridge.emit("frames", decoder.frames, nowMicros());
      const t2 = ns();
      bridge.takeCountingNs();
      clock.tick();
      const t3 = ns();
      const c1 = cpuUs();
      const counting = bridge.takeCountingNs();
      return {
        decodeNs: Number(t1 - t0),
        dispatchNs: Number(t2 - t1),
        encodeNs: Number(t3 - t2 - counting),
        // The counting's clock time stands in for its CPU time (it never waits on anything).
        cpuNs: (c1 - c0) * 1000 - Number(counting),
      };
    },
    async diagnose() {
      const dropped = await registry.getSingleMetric("media_frames_dropped_total")?.get();
      const reasons = (dropped?.values ?? [])
        .filter((v) => v.value > 0)
        .map((v) => `${v.labels.reason}=${v.value}`);
      const skipped = (await registry.getSingleMetric("media_pacer_skipped_ticks_total")?.get())?.values[0];
      return (
        `engine dropped: ${reasons.join(", ") || "none"}; pacer skipped ticks: ${skipped?.value ?? 0}; ` +
        `${bridge.messagesOut} FrameBatch messages sent`
      );
    },
    async close() {
      await engine.shutdown();
    },
  };
}

/**
 * The protocol echo of bench:load (load/protocol-echo-bot.ts) without its socket: the same
 * decoder, and each received frame copied straight into a pooled FrameBatchWriter batch split
 * under the protocol's message limit, as the media worker's own writer does. No jitter buffer,
 * handler, playout queue, pacer or per-frame metrics: the engine's cost is the bridge
 * pipeline's total less this one's, measured in the same run. The copy into the batch happens
 * while frames are read, so it is timed as dispatch; encode is finishing the batch.
 */
export function protocolEchoPipeline(sessions: number): FramePipeline {
  const SOURCE = v1.MediaContext.MEDIA_CONTEXT_AUDIO_SOURCE as number;
  const renderSequence = new Uint32Array(sessions + 1);
  let framesOut = 0;
  const writer = new FrameBatchWriter({
    sendBuffers: new SendBufferPool(MAX_FRAME_BATCH_BYTES),
    // A socket would send the split-off batch; here it is counted and its buffer goes back.
    onFull: (_bytes, frames, release) => {
      framesOut += frames;
      release?.();
    },
  });
  const batch = createBenchmarkBatch(sessions, { activeSpeakers: 0 });
  const farWriter = new FrameBatchWriter();
  const decoder = new EnvelopeDecoder();
  return {
    name: "protocol echo, no engine",
    get framesOut() {
      return framesOut;
    },
    step(tick) {
      const bytes = writeBenchmarkBatch(farWriter, batch, tick);
      const c0 = cpuUs();
      const t0 = ns();
      if (decoder.decode(bytes) !== "frames") throw new Error(`batch refused: ${decoder.error?.message}`);
      const t1 = ns();
      const reader = decoder.frames;
      const ticks = (tick + 1) * 200_000;
      writer.begin(nowMicros());
      while (reader.next()) {
        const session = reader.session;
        if (reader.context !== SOURCE || session >= renderSequence.length) continue;
        const sequence = renderSequence[session] as number;
        writer.addFrame(session, RENDER, sequence, ticks, reader.buffer, reader.pcmOffset, false);
        renderSequence[session] = sequence + 1;
      }
      const t2 = ns();
      const frames = writer.frameCount;
      writer.finish();
      writer.finishedRelease?.();
      const t3 = ns();
      const c1 = cpuUs();
      framesOut += frames;
      return {
        decodeNs: Number(t1 - t0),
        dispatchNs: Number(t2 - t1),
        encodeNs: Number(t3 - t2),
        cpuNs: (c1 - c0) * 1000,
      };
    },
    async close() {},
  };
}

/** One session's state in the baselines: its echo processor's output frame. */
interface BaselineSession {
  out: Uint8Array;
  renderSequence: number;
}

function echoInto(session: BaselineSession, pcm: Uint8Array): void {
  session.out.set(pcm.subarray(0, PCM_FRAME_BYTES));
}

/**
 * The generated protobufjs code (pbjs static module): decode to objects, the same echo
 * processor per frame (looked up by session), encode objects back.
 */
export function generatedPipeline(sessions: number): FramePipeline {
  const state = new Map<number, BaselineSession>();
  for (let s = 1; s <= sessions; s++)
    state.set(s, { out: new Uint8Array(PCM_FRAME_BYTES), renderSequence: 0 });
  const batch: BenchmarkBatch = createBenchmarkBatch(sessions, { activeSpeakers: 0 });
  const farWriter = new FrameBatchWriter();
  let framesOut = 0;
  return {
    name: "generated protobufjs",
    get framesOut() {
      return framesOut;
    },
    step(tick) {
      const bytes = writeBenchmarkBatch(farWriter, batch, tick);
      const c0 = cpuUs();
      const t0 = ns();
      const envelope = v1.Envelope.decode(bytes);
      const t1 = ns();
      const touched: number[] = [];
      for (const frame of (envelope.frames?.frames ?? []) as pb.AudioFrame[]) {
        const session = state.get(frame.session);
        if (!session) continue;
        echoInto(session, frame.pcm);
        touched.push(frame.session);
      }
      const t2 = ns();
      const frames: pb.IAudioFrame[] = [];
      for (const id of touched) {
        const session = state.get(id) as BaselineSession;
        frames.push({
          session: id,
          context: RENDER,
          sequence: ++session.renderSequence,
          timestampTicks: (tick + 1) * 200_000,
          pcm: session.out,
        });
      }
      const out = v1.Envelope.encode({ frames: { frames, sentAtUs: nowMicros() } }).finish();
      const t3 = ns();
      const c1 = cpuUs();
      if (out.length > 0) framesOut += frames.length;
      return {
        decodeNs: Number(t1 - t0),
        dispatchNs: Number(t2 - t1),
        encodeNs: Number(t3 - t2),
        cpuNs: (c1 - c0) * 1000,
      };
    },
    async close() {},
  };
}

/**
 * The closest peer's design: one JSON text message per frame, `{seq, timestampMs,
 * payloadBase64}` (plus the stream it belongs to), parsed, base64-decoded, echoed, encoded
 * and serialized back per frame.
 */
export function jsonBase64Pipeline(sessions: number): FramePipeline {
  const state: BaselineSession[] = [];
  for (let s = 0; s < sessions; s++) state.push({ out: new Uint8Array(PCM_FRAME_BYTES), renderSequence: 0 });
  const source = createBenchmarkBatch(sessions, { activeSpeakers: 0 }).pcm;
  const inbound: Buffer[] = new Array(sessions);
  const decoded: { stream: number; seq: number; timestampMs: number; pcm: Buffer }[] = new Array(sessions);
  let framesOut = 0;
  return {
    name: "JSON + base64",
    get framesOut() {
      return framesOut;
    },
    step(tick) {
      // The far end's messages as they arrive off a socket (bytes).
      for (let s = 0; s < sessions; s++) {
        const payloadBase64 = Buffer.from(
          source.buffer,
          source.byteOffset + s * PCM_FRAME_BYTES,
          PCM_FRAME_BYTES,
        ).toString("base64");
        inbound[s] = Buffer.from(
          JSON.stringify({ stream: s, seq: tick + 1, timestampMs: tick * 20, payloadBase64 }),
        );
      }
      const c0 = cpuUs();
      const t0 = ns();
      for (let s = 0; s < sessions; s++) {
        const message = JSON.parse((inbound[s] as Buffer).toString()) as {
          stream: number;
          seq: number;
          timestampMs: number;
          payloadBase64: string;
        };
        decoded[s] = {
          stream: message.stream,
          seq: message.seq,
          timestampMs: message.timestampMs,
          pcm: Buffer.from(message.payloadBase64, "base64"),
        };
      }
      const t1 = ns();
      for (let s = 0; s < sessions; s++) {
        const frame = decoded[s] as { stream: number; pcm: Buffer };
        const session = state[frame.stream];
        if (session) echoInto(session, frame.pcm);
      }
      const t2 = ns();
      let bytes = 0;
      for (let s = 0; s < sessions; s++) {
        const session = state[s] as BaselineSession;
        const text = JSON.stringify({
          stream: s,
          seq: ++session.renderSequence,
          timestampMs: tick * 20,
          payloadBase64: Buffer.from(session.out.buffer, session.out.byteOffset, PCM_FRAME_BYTES).toString(
            "base64",
          ),
        });
        bytes += Buffer.from(text).length;
      }
      const t3 = ns();
      const c1 = cpuUs();
      if (bytes > 0) framesOut += sessions;
      return {
        decodeNs: Number(t1 - t0),
        dispatchNs: Number(t2 - t1),
        encodeNs: Number(t3 - t2),
        cpuNs: (c1 - c0) * 1000,
      };
    },
    async close() {},
  };
}
