import WebSocket from "ws";
import { SendBufferPool } from "../../src/bridge/send-buffer-pool.js";
import { zeroMask } from "../../src/bridge/zero-mask.js";
import { FLOOR_HEADER_BYTES, FRAME_BYTES, type JsonFrame } from "./baseline-wire.js";
import type { BaselineKind, JsonLayout } from "./far-end-messages.js";

/** Like BridgeClient: a frame is dropped, not queued, while its socket holds more than this. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * The bot side of a baseline design, in this (the measured) process. Floor: copies each
 * frame of the tick's batch into one outgoing batch and sends it back (the least a bot that
 * owns its frames must do). JSON + base64: parses each message, decodes the payload, and
 * encodes and sends a message of its own per frame, as the closest peer's bridge does.
 */
export class BaselineBot {
  framesReceived = 0;
  framesSent = 0;
  framesDropped = 0;
  private readonly sockets: WebSocket[] = [];
  /** Outgoing batches: sent unmasked (as the bridge does on loopback), so the socket holds them. */
  private readonly out: SendBufferPool;

  private constructor(
    private readonly kind: BaselineKind,
    calls: number,
  ) {
    this.out = new SendBufferPool(FLOOR_HEADER_BYTES + calls * FRAME_BYTES);
  }

  static async connect(
    url: string,
    kind: BaselineKind,
    calls: number,
    layout: JsonLayout,
  ): Promise<BaselineBot> {
    const bot = new BaselineBot(kind, calls);
    const count = kind === "jsonBase64" && layout === "perCall" ? calls : 1;
    // Opened in groups so a thousand handshakes do not all wait at once.
    for (let first = 0; first < count; first += 100) {
      const group = Array.from({ length: Math.min(100, count - first) }, () => bot.open(url));
      bot.sockets.push(...(await Promise.all(group)));
    }
    return bot;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.sockets.map(
        (socket) =>
          new Promise<void>((resolve) => {
            if (socket.readyState === WebSocket.CLOSED) return resolve();
            socket.once("close", () => resolve());
            socket.terminate();
          }),
      ),
    );
  }

  private open(url: string): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      // Same transport settings as the bridge client on loopback: no compression, zero mask.
      const socket = new WebSocket(url, { perMessageDeflate: false, generateMask: zeroMask });
      socket.binaryType = "nodebuffer";
      socket.once("open", () => resolve(socket));
      socket.once("error", reject);
      socket.on("message", (data: Buffer, isBinary) =>
        this.kind === "floor" ? this.onBatch(socket, data, isBinary) : this.onJson(socket, data),
      );
    });
  }

  private onBatch(socket: WebSocket, data: Buffer, isBinary: boolean): void {
    if (!isBinary || data.length < FLOOR_HEADER_BYTES) return;
    const frames = (data.length - FLOOR_HEADER_BYTES) / FRAME_BYTES;
    this.framesReceived += frames;
    if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.framesDropped += frames;
      return;
    }
    const pooled = this.out.acquire(data.length);
    const out = pooled.view;
    data.copy(out, 0, 0, FLOOR_HEADER_BYTES);
    for (let f = 0; f < frames; f++) {
      const at = FLOOR_HEADER_BYTES + f * FRAME_BYTES;
      data.copy(out, at, at, at + FRAME_BYTES);
    }
    // Unmasked, the socket writes `out` as it is (maybe later): it goes back to the pool when written.
    socket.send(out, { binary: true }, pooled.release);
    this.framesSent += frames;
  }

  private onJson(socket: WebSocket, data: Buffer): void {
    const frame = JSON.parse(data.toString()) as JsonFrame;
    const pcm = Buffer.from(frame.payloadBase64, "base64");
    this.framesReceived++;
    if (pcm.length !== FRAME_BYTES) return;
    if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.framesDropped++;
      return;
    }
    const reply: JsonFrame =
      frame.stream === undefined
        ? { seq: frame.seq, timestampMs: frame.timestampMs, payloadBase64: pcm.toString("base64") }
        : {
            stream: frame.stream,
            seq: frame.seq,
            timestampMs: frame.timestampMs,
            payloadBase64: pcm.toString("base64"),
          };
    socket.send(JSON.stringify(reply));
    this.framesSent++;
  }
}
