import { EventEmitter } from "node:events";
import type {
  BridgeClientEvents,
  CreateSessionRequest,
  SessionCreatedInfo,
} from "../bridge/bridge-client-types.js";
import { EnvelopeDecoder } from "../bridge/codec.js";
import { FrameBatchWriter } from "../bridge/frame-batch-writer.js";
import { type ToneName, v1 } from "../bridge/protocol.js";
import { FRAME_BYTES, NO_SPEAKER, TICKS_PER_FRAME } from "../media/audio-format.js";
import type { MediaBridge } from "../media/media-engine.js";
import type { MediaTimers } from "../media/media-timers.js";

const SOURCE = v1.MediaContext.MEDIA_CONTEXT_AUDIO_SOURCE as number;
const RENDER = v1.MediaContext.MEDIA_CONTEXT_AUDIO_RENDER as number;

/** One caller frame as the test kit composed it. */
export interface CallerFrame {
  /** 640 bytes of mixed PCM. */
  pcm: Uint8Array;
  isSilence: boolean;
  activeSpeakers: readonly number[];
  /** Per-speaker buffers (sessions with unmixed audio), at most four. */
  unmixed: readonly { speakerId: number; pcm: Uint8Array }[];
}

/** A frame the worker sent to the host for a session. */
export interface RenderedFrame {
  session: number;
  sequence: number;
  /** The virtual time it was sent at (ms). */
  atMs: number;
  /** A copy of its 640 bytes. */
  pcm: Uint8Array;
}

/**
 * The media host side of the bridge, in process, for the test kit: stands in for BridgeClient
 * below a real MediaEngine. Caller frames are written as protobuf FrameBatch messages with the
 * bridge's own writer and handed to the engine through the bridge's own decoder, as a
 * BridgeClient does; what the engine renders is decoded the same way. No socket, no handshake:
 * it is open from connect() on and answers CreateSession at once.
 */
export class EmulatedMediaHost extends EventEmitter<BridgeClientEvents> {
  isOpen = false;
  readonly health = "normal" as const;
  /** Frames the engine sent, in order, until taken with takeRendered(). */
  private rendered: RenderedFrame[] = [];
  /** Sessions the engine asked to flush (barge-in), with the time. */
  readonly clears: { session: number; atMs: number }[] = [];
  private nextSession = 1;
  private readonly inbound = new FrameBatchWriter({ ringSize: 1 });
  private readonly inboundDecoder = new EnvelopeDecoder();
  private readonly outboundDecoder = new EnvelopeDecoder();
  /** The caller side's sequence numbers and timestamps, per session. */
  private readonly sequences = new Map<number, number>();

  constructor(private readonly clock: MediaTimers) {
    super();
  }

  /** The engine's view of this host (typed as the part of BridgeClient it uses). */
  asBridge(): MediaBridge {
    return this as unknown as MediaBridge;
  }

  connect(): void {
    if (this.isOpen) return;
    this.isOpen = true;
    this.emit("open", {
      peer: "teams-media-bot test kit",
      protocolVersion: 1,
      capabilities: ["unmixed-audio", "playout-marks"],
      health: "normal",
      maxSessions: 0,
    });
  }

  async createSession(request: CreateSessionRequest): Promise<SessionCreatedInfo> {
    const session = this.nextSession++;
    this.sequences.set(session, 0);
    return {
      session,
      callId: request.callId,
      mediaSessionId:
        request.mediaSessionId ?? `00000000-0000-4000-8000-${String(session).padStart(12, "0")}`,
      mpUri: "net.tcp://media.test-kit.invalid:8445/MediaProcessor",
      audioRenderContextId: "11111111-1111-4111-8111-111111111111",
      audioSourceContextId: "22222222-2222-4222-8222-222222222222",
      skypeMediaBotsVersion: "test-kit",
      mediaStackVersion: "test-kit",
      mpVersion: "test-kit",
      mediaConfigurationJson: "",
    };
  }

  async closeSession(session: number, _reason?: string): Promise<void> {
    this.sequences.delete(session);
  }

  sendFrameBatch(bytes: Uint8Array, release?: (() => void) | null): boolean {
    try {
      if (this.outboundDecoder.decode(bytes) !== "frames")
        throw new Error(`the worker sent a bad FrameBatch: ${this.outboundDecoder.error?.message}`);
      const reader = this.outboundDecoder.frames;
      const atMs = this.clock.now();
      while (reader.next()) {
        if (reader.context !== RENDER)
          throw new Error(`the worker sent a frame for context ${reader.context}`);
        const pcm = new Uint8Array(FRAME_BYTES);
        reader.copyPcm(pcm);
        this.rendered.push({ session: reader.session, sequence: reader.sequence, atMs, pcm });
      }
    } finally {
      release?.();
    }
    return true;
  }

  sendClear(session: number): boolean {
    this.clears.push({ session, atMs: this.clock.now() });
    return true;
  }

  async close(): Promise<void> {
    this.isOpen = false;
  }

  /** The frames rendered since the last call. */
  takeRendered(): RenderedFrame[] {
    const frames = this.rendered;
    this.rendered = [];
    return frames;
  }

  /** Sends one caller frame of `session` to the worker, received now. */
  sendCallerFrame(session: number, frame: CallerFrame): void {
    const sequence = this.sequences.get(session);
    if (sequence === undefined) return;
    this.sequences.set(session, (sequence + 1) >>> 0);
    const writer = this.inbound;
    const nowMs = this.clock.now();
    const receivedAtUs = Math.round((performance.timeOrigin + nowMs) * 1000);
    writer.begin(receivedAtUs);
    const ticks = sequence * TICKS_PER_FRAME;
    writer.addFrame(session, SOURCE, sequence, ticks, frame.pcm, 0, frame.isSilence, frame.activeSpeakers);
    for (const buffer of frame.unmixed) writer.addUnmixed(buffer.speakerId, buffer.pcm, 0, ticks);
    const bytes = writer.finish();
    if (this.inboundDecoder.decode(bytes) !== "frames")
      throw new Error(`test kit wrote a bad FrameBatch: ${this.inboundDecoder.error?.message}`);
    // The engine converts the receive time back with performance.timeOrigin: virtual ms again.
    this.emit("frames", this.inboundDecoder.frames, receivedAtUs);
  }

  sendStatus(session: number, active: boolean): void {
    this.emit("sendStatus", { session, active });
  }

  dominantSpeaker(session: number, speakerId: number | null): void {
    this.emit("dominantSpeaker", { session, speakerId: speakerId ?? NO_SPEAKER });
  }

  tone(session: number, tone: ToneName): void {
    const timestampTicks = Math.round(this.clock.now() * 10_000);
    this.emit("tone", { session, tone, timestampTicks, timestampTicksExact: BigInt(timestampTicks) });
  }
}
