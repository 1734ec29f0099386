import { randomUUID } from "node:crypto";
import { BridgeClient } from "../../src/bridge/bridge-client.js";
import type { FrameBatchReader } from "../../src/bridge/frame-batch-reader.js";
import { FrameBatchWriter } from "../../src/bridge/frame-batch-writer.js";
import { MAX_FRAME_BATCH_BYTES, nowMicros, v1 } from "../../src/bridge/protocol.js";
import { SendBufferPool } from "../../src/bridge/send-buffer-pool.js";
import { createLogger } from "../../src/log/logger.js";

const SOURCE = v1.MediaContext.MEDIA_CONTEXT_AUDIO_SOURCE as number;
const RENDER = v1.MediaContext.MEDIA_CONTEXT_AUDIO_RENDER as number;
/** Largest session number the per-session arrays are grown to. */
const MAX_SESSION_NUMBER = 1 << 20;

/**
 * The bridge protocol with no media engine: the media worker's own transport (BridgeClient,
 * FrameBatchReader, pooled FrameBatchWriter, the same socket settings) against the same media
 * platform emulator, copying each received frame straight into a FrameBatch sent back as soon
 * as its batch is read. No jitter buffer, handlers, playout queue, pacer or per-frame metrics:
 * what the protocol itself costs. bench:load measures it beside the worker so the worker's
 * cost splits into protocol and engine.
 */
export class ProtocolEchoBot {
  framesReceived = 0;
  framesSent = 0;
  /** Frames not echoed: their session not active yet, or the socket's send buffer full. */
  framesDropped = 0;
  readonly mediaSessionIds: string[] = [];
  /** Per session number (the host numbers sessions of a connection from 1): send status Active. */
  private active = new Uint8Array(0);
  private renderSequence = new Uint32Array(0);
  private readonly writer = new FrameBatchWriter({
    sendBuffers: new SendBufferPool(MAX_FRAME_BATCH_BYTES),
    onFull: (bytes, frames, release) => this.send(bytes, frames, release),
  });

  private constructor(private readonly client: BridgeClient) {
    client.on("frames", (reader) => this.echo(reader));
    client.on("sendStatus", ({ session, active }) => {
      // Only sessions this bot created have a slot; any other number from the host is ignored
      // (a stray number must not size the arrays).
      if (session < this.active.length) this.active[session] = active ? 1 : 0;
    });
  }

  static async connect(url: string, secret: string, calls: number): Promise<ProtocolEchoBot> {
    const client = new BridgeClient({
      url,
      secret,
      peer: "bench:load protocol echo",
      logger: createLogger({ level: process.env.BOT_LOG_LEVEL ?? "warn", name: "bench-protocol-echo" }),
      requestTimeoutMs: 30_000,
      pingIntervalMs: 0,
    });
    const bot = new ProtocolEchoBot(client);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error("protocol echo: media host not open within 10 s")),
        10_000,
      );
      client.once("open", () => {
        clearTimeout(timer);
        resolve();
      });
      client.connect();
    });
    // In groups of 100, as bench:load creates the worker's sessions.
    for (let first = 0; first < calls; first += 100) {
      const group = Array.from({ length: Math.min(100, calls - first) }, () =>
        client.createSession({ callId: randomUUID(), direction: "sendRecv", unmixedAudio: false }),
      );
      for (const created of await Promise.all(group)) {
        bot.grow(created.session);
        bot.mediaSessionIds.push(created.mediaSessionId);
      }
    }
    return bot;
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  private echo(reader: FrameBatchReader): void {
    const writer = this.writer;
    const ticks = Math.round(performance.now() * 10_000);
    this.framesReceived += reader.invalidFrames.length;
    writer.begin(nowMicros());
    while (reader.next()) {
      this.framesReceived++;
      const session = reader.session;
      if (reader.context !== SOURCE || session >= this.active.length || this.active[session] === 0) {
        this.framesDropped++;
        continue;
      }
      const sequence = this.renderSequence[session] as number;
      writer.addFrame(session, RENDER, sequence, ticks, reader.buffer, reader.pcmOffset, false);
      this.renderSequence[session] = sequence + 1;
    }
    if (writer.frameCount === 0) return;
    const frames = writer.frameCount;
    const bytes = writer.finish();
    this.send(bytes, frames, writer.finishedRelease);
  }

  private send(bytes: Uint8Array, frames: number, release: (() => void) | null): void {
    if (this.client.sendFrameBatch(bytes, release)) this.framesSent += frames;
    else this.framesDropped += frames;
  }

  /** Session numbers index the per-session arrays: grown for each session the bot creates. */
  private grow(session: number): void {
    // The host numbers a connection's sessions from 1: a number far beyond the calls asked for
    // is a broken host, refused rather than allocated.
    if (!Number.isInteger(session) || session < 1 || session > MAX_SESSION_NUMBER)
      throw new Error(`protocol echo: the host numbered a session ${session}`);
    if (session < this.active.length) return;
    const size = Math.max(session + 1, this.active.length * 2, 64);
    const active = new Uint8Array(size);
    active.set(this.active);
    this.active = active;
    const sequences = new Uint32Array(size);
    sequences.set(this.renderSequence);
    this.renderSequence = sequences;
  }
}
