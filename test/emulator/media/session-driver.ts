import { EnvelopeDecoder } from "../../../src/bridge/codec.js";
import { FrameBatchWriter } from "../../../src/bridge/frame-batch-writer.js";
import type { AudioSourceSpec } from "../../../src/emulator/media/audio-source.js";
import { EmulatedSession, type SpeakerSpec } from "../../../src/emulator/media/emulated-session.js";
import { FrameLedger } from "../../../src/emulator/media/frame-ledger.js";
import type { Impairments } from "../../../src/emulator/media/impairments.js";

/** A seeded random source so impairment tests do not flake. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A frame as the worker decodes it, with the tick (1-based) whose batch carried it. */
export interface DeliveredFrame {
  tick: number;
  sequence: number;
  isSilence: boolean;
  /** Sample 100 of the frame (past the watermark bits): a ramp source writes its frame index there. */
  marker: number;
  speakers: number[];
  unmixed: number[];
}

/** PCM of `frames` frames whose sample 100 is the frame's index (the source's position). */
export function rampPcm(frames: number): Uint8Array {
  const pcm = new Uint8Array(frames * 640);
  const view = new DataView(pcm.buffer);
  for (let i = 0; i < frames; i++) view.setInt16(i * 640 + 200, i, true);
  return pcm;
}

export function connectedSession(
  options: {
    impairments?: Partial<Impairments>;
    source?: AudioSourceSpec;
    speakers?: SpeakerSpec[];
    unmixedAudio?: boolean;
    seed?: number;
    renderTargetFrames?: number;
  } = {},
): EmulatedSession {
  const session = new EmulatedSession(
    {
      session: 1,
      callId: "c",
      mediaSessionId: "m",
      direction: "sendRecv",
      unmixedAudio: options.unmixedAudio ?? false,
      source: options.source ?? { kind: "tone", frequencyHz: 440 },
      speakers: options.speakers ?? [],
      playoutQueueFrames: 10,
      recordMaxSeconds: 1,
      renderTargetFrames: options.renderTargetFrames,
    },
    seeded(options.seed ?? 7),
  );
  session.mediaConnected = true;
  session.setImpairments(options.impairments ?? {});
  return session;
}

/**
 * Runs a session's ticks through the real batch writer and decoder, as the emulator's clock
 * and the worker do; `beforeTick` may change the session between ticks.
 */
export function runTicks(
  session: EmulatedSession,
  ticks: number,
  beforeTick?: (tick: number) => void,
): DeliveredFrame[] {
  const writer = new FrameBatchWriter();
  const decoder = new EnvelopeDecoder();
  const ledger = new FrameLedger();
  const out: DeliveredFrame[] = [];
  for (let tick = 1; tick <= ticks; tick++) {
    beforeTick?.(tick);
    writer.begin(tick);
    session.writeSourceFrame(writer, tick * 20, ledger);
    const bytes = writer.finish();
    ledger.settle(true);
    if (writer.frameCount === 0) continue;
    if (decoder.decode(bytes) !== "frames") throw new Error("not a FrameBatch");
    const reader = decoder.frames;
    while (reader.next()) {
      const view = new DataView(reader.buffer.buffer, reader.buffer.byteOffset + reader.pcmOffset, 640);
      out.push({
        tick,
        sequence: reader.sequence,
        isSilence: reader.isSilence,
        marker: view.getInt16(200, true),
        speakers: Array.from(reader.activeSpeakers.subarray(0, reader.activeSpeakerCount)),
        unmixed: Array.from(reader.unmixedSpeakerIds.subarray(0, reader.unmixedCount)),
      });
    }
  }
  return out;
}

/** Share of frames by delay in ticks (delivery tick - production tick; sequence n is made at tick n). */
export function delayShares(frames: DeliveredFrame[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const f of frames) counts.set(f.tick - f.sequence, (counts.get(f.tick - f.sequence) ?? 0) + 1);
  return new Map([...counts].map(([delay, n]) => [delay, n / frames.length]));
}
