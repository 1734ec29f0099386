/**
 * Issue 17 finding 2, last clause: one malformed frame from an independent host cost three good
 * frames to latency_trim. The refused frame left a hole in its session's sequence; the jitter
 * buffer held the next frames waiting for it (up to its depth), then released them together, and
 * the echo's live queue trimmed the burst. The real media worker with the built-in echo (live
 * audio) against a scripted host on loopback that sends one frame per 20 ms and one bad frame
 * among them: of each kind a receiver refuses by itself (the rest of its batch is used), and in
 * a batch refused whole (its structure broken by the frame). Without the fix every kind lost 2
 * good frames to latency_trim, and the bad one was counted as concealed too.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type pb, v1 } from "../../src/bridge/protocol.js";
import { MEDIA_DROP_REASONS } from "../../src/metrics/media-metrics.js";
import { markedPcm, markerOf } from "./scripted-media-host.js";
import { sleep, waitFor } from "./wait-for.js";
import { startWorkerOnScriptedHost, type WorkerOnScriptedHost } from "./worker-on-scripted-host.js";

const FRAMES = 40;
/** The sequence number of the bad frame: the stream is well under way. */
const BAD = 15;

function varint(value: number): number[] {
  const bytes: number[] = [];
  let v = value;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return bytes;
}

/** Field `field` of wire type 2 (length-delimited) holding `payload`. */
function lengthDelimited(field: number, payload: Uint8Array): number[] {
  return [...varint((field << 3) | 2), ...varint(payload.length), ...payload];
}

/** An Envelope holding a FrameBatch of the given encoded AudioFrames, built byte by byte. */
function batchEnvelope(frames: Uint8Array[]): Uint8Array {
  const sentAtUs = Math.round((performance.timeOrigin + performance.now()) * 1000);
  const batch = [
    ...frames.flatMap((frame) => lengthDelimited(1, frame)),
    ...varint(2 << 3),
    ...varint(sentAtUs),
  ];
  return new Uint8Array(lengthDelimited(9, new Uint8Array(batch)));
}

function sourceFrame(session: number, sequence: number, marker: number): pb.IAudioFrame {
  return {
    session,
    context: v1.MediaContext.MEDIA_CONTEXT_AUDIO_SOURCE,
    sequence,
    timestampTicks: 1_000_000 + sequence * 200_000,
    pcm: markedPcm(marker),
  };
}

const encode = (frame: pb.IAudioFrame): Uint8Array => v1.AudioFrame.encode(frame).finish();

interface BadFrameKind {
  name: string;
  /** The media_frames_dropped_total reason it is counted under. */
  reason: string;
  /** The message that carries the bad frame in place of the good frame given. */
  message(frame: pb.IAudioFrame): Uint8Array;
}

/** A sound batch holding one bad frame: the frame is refused alone. */
const alone = (name: string, reason: string, bytes: (frame: pb.IAudioFrame) => Uint8Array): BadFrameKind => ({
  name,
  reason,
  message: (frame) => batchEnvelope([bytes(frame)]),
});

const KINDS: BadFrameKind[] = [
  alone("pcm of 639 bytes", "bad_size", (frame) =>
    encode({ ...frame, pcm: (frame.pcm as Uint8Array).subarray(0, 639) }),
  ),
  alone("the render context", "bad_context", (frame) =>
    encode({ ...frame, context: v1.MediaContext.MEDIA_CONTEXT_AUDIO_RENDER }),
  ),
  alone("no context", "bad_context", (frame) =>
    encode({ ...frame, context: v1.MediaContext.MEDIA_CONTEXT_UNSPECIFIED }),
  ),
  // The frame's own length is right, its pcm field says 640 bytes and holds 600.
  alone("a truncated pcm field", "malformed", (frame) => encode(frame).subarray(0, -40)),
  alone("a field of number 0", "malformed", (frame) => new Uint8Array([...encode(frame), 0x00, 0x01])),
  alone("five unmixed buffers", "malformed", (frame) =>
    encode({
      ...frame,
      unmixed: Array.from({ length: 5 }, (_, i) => ({ speakerId: i + 1, pcm: markedPcm(7) })),
    }),
  ),
  {
    // The batch's structure is broken: it is refused whole (its only frame is the bad one).
    name: "a batch whose frame runs past the batch's end",
    reason: "malformed",
    message: (frame) => {
      const bytes = encode(frame);
      const batch = [...varint((1 << 3) | 2), ...varint(bytes.length + 5), ...bytes];
      return new Uint8Array(lengthDelimited(9, new Uint8Array(batch)));
    },
  },
  {
    name: "a message cut off inside its frame",
    reason: "malformed",
    message: (frame) => batchEnvelope([encode(frame)]).subarray(0, 300),
  },
];

function droppedByReason(metrics: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const reason of MEDIA_DROP_REASONS) {
    const match = new RegExp(`media_frames_dropped_total\\{reason="${reason}"\\} (\\d+)`).exec(metrics);
    counts[reason] = Number(match?.[1] ?? Number.NaN);
  }
  return counts;
}

function concealed(metrics: string): number {
  return Number(/media_frames_concealed_total (\d+)/.exec(metrics)?.[1] ?? Number.NaN);
}

let worker: WorkerOnScriptedHost;
beforeAll(async () => {
  worker = await startWorkerOnScriptedHost({
    secret: "refused-frame-secret-01",
    reconnectGraceMs: 2000,
    handlers: async () => [{ builtin: "echo" }],
    // The fixed default target: a burst above it that stands is trimmed.
    adaptiveLiveTarget: false,
  });
});
afterAll(async () => {
  await worker?.stop();
});

describe("one refused frame among good ones, echoed live", () => {
  it.each(KINDS.map((kind, index) => ({ ...kind, index })))(
    "$name costs no good frame: it is counted once under $reason, the others are all echoed",
    async (kind) => {
      const { host, provider } = worker;
      const callId = `refused-${kind.index}`;
      await provider.createSession({ callId, direction: "sendRecv", unmixedAudio: false });
      const session = host.sessionOf(callId) as number;
      host.sendStatus(callId, true);
      const start = await provider.metrics();
      const before = droppedByReason(start);
      const concealedBefore = concealed(start);
      const base = 1000 * (kind.index + 1);
      // One frame per 20 ms on a grid, the far end's pace. A sender that fell behind (a busy
      // machine) starts a new grid instead of catching up: it sends no burst of its own.
      let due = performance.now();
      for (let sequence = 0; sequence < FRAMES; sequence++) {
        const frame = sourceFrame(session, sequence, base + sequence);
        host.sendRaw(sequence === BAD ? kind.message(frame) : batchEnvelope([encode(frame)]));
        due += 20;
        const wait = due - performance.now();
        if (wait < -20) due = performance.now();
        else if (wait > 0) await sleep(wait);
      }
      const echoed = () =>
        host.rendered
          .filter((f) => f.session === session && markerOf(f.pcm) >= base)
          .map((f) => markerOf(f.pcm));
      await waitFor(() => echoed().includes(base + FRAMES - 1), 5000);
      const text = await provider.metrics();
      const after = droppedByReason(text);
      const expected = Array.from({ length: FRAMES }, (_, i) => base + i).filter((m) => m !== base + BAD);
      const delta: Record<string, number> = {};
      const wanted: Record<string, number> = {};
      for (const reason of MEDIA_DROP_REASONS) {
        delta[reason] = (after[reason] as number) - (before[reason] as number);
        wanted[reason] = reason === kind.reason ? 1 : 0;
      }
      // Every good frame echoed, in order; the bad one counted once, under its reason only (not
      // as concealed too: silence stands in for it, but it was not lost on the way).
      expect({
        echoed: echoed(),
        dropped: delta,
        concealed: concealed(text) - concealedBefore,
      }).toEqual({ echoed: expected, dropped: wanted, concealed: 0 });
      await provider.closeSession(callId, "done");
    },
    20_000,
  );
});
