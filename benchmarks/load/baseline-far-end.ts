import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
import { MediaClock } from "../../src/emulator/media/media-clock.js";
import { LatencyHistogram } from "../lib/latency-histogram.js";
import { FLOOR_HEADER_BYTES, FRAME_BYTES, type JsonFrame } from "./baseline-wire.js";
import type { BaselineKind, JsonLayout } from "./far-end-messages.js";

/** The far end of a baseline stops sending to a socket holding more than this (like the emulator). */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/**
 * The far end of a baseline design: a WebSocket server (no compression, loopback) with one
 * 20 ms clock that sends every stream's next frame to the bot side and times what comes back.
 */
export class BaselineFarEnd {
  framesSent = 0;
  framesReceived = 0;
  framesDropped = 0;
  echo = new LatencyHistogram();
  url = "";

  private readonly wss: WebSocketServer;
  private readonly clock: MediaClock;
  private readonly sockets: WebSocket[] = [];
  private tick = 0;
  private streamsWanted = false;

  private constructor(
    private readonly kind: BaselineKind,
    private readonly calls: number,
    private readonly layout: JsonLayout,
    private readonly source: Buffer,
  ) {
    this.wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
    this.clock = new MediaClock(20, () => this.onTick());
  }

  static async start(
    kind: BaselineKind,
    calls: number,
    layout: JsonLayout,
    source: Buffer,
  ): Promise<BaselineFarEnd> {
    const far = new BaselineFarEnd(kind, calls, layout, source);
    await new Promise<void>((resolve, reject) => {
      far.wss.once("listening", resolve);
      far.wss.once("error", reject);
    });
    const { port } = far.wss.address() as AddressInfo;
    far.url = `ws://127.0.0.1:${port}/`;
    far.wss.on("connection", (socket) => far.accept(socket));
    return far;
  }

  get skippedTicks(): number {
    return this.clock.skippedTicks;
  }

  /** Sockets the bot side must open before the clock starts: 1, or one per call. */
  get expectedSockets(): number {
    return this.kind === "jsonBase64" && this.layout === "perCall" ? this.calls : 1;
  }

  async stop(): Promise<void> {
    this.clock.stop();
    for (const socket of this.wss.clients) socket.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private accept(socket: WebSocket): void {
    socket.binaryType = "nodebuffer";
    this.sockets.push(socket);
    socket.on("message", (data: Buffer, isBinary) => this.onMessage(data, isBinary));
    socket.on("error", () => {});
    this.beginWhenReady();
  }

  /**
   * Streams start when asked (startStreams: the bot side has sampled its idle CPU, connected and
   * silent, as the worker's is) and every socket of the layout is there, whichever comes last.
   */
  startStreams(): void {
    this.streamsWanted = true;
    this.beginWhenReady();
  }

  private beginWhenReady(): void {
    if (this.streamsWanted && this.sockets.length === this.expectedSockets) this.clock.begin();
  }

  private onTick(): void {
    this.tick++;
    const nowMs = performance.now();
    const frameOffset = (this.tick % (this.source.length / FRAME_BYTES)) * FRAME_BYTES;
    if (this.kind === "floor") {
      const socket = this.sockets[0] as WebSocket;
      if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
        this.framesDropped += this.calls;
        return;
      }
      const batch = Buffer.allocUnsafe(FLOOR_HEADER_BYTES + this.calls * FRAME_BYTES);
      batch.writeUInt32LE(this.tick, 0);
      batch.writeUInt32LE(this.calls, 4);
      batch.writeDoubleLE(nowMs, 8);
      for (let s = 0; s < this.calls; s++) {
        this.source.copy(batch, FLOOR_HEADER_BYTES + s * FRAME_BYTES, frameOffset, frameOffset + FRAME_BYTES);
      }
      socket.send(batch, { binary: true });
      this.framesSent += this.calls;
      return;
    }
    const shared = this.layout === "shared";
    for (let s = 0; s < this.calls; s++) {
      const socket = this.sockets[shared ? 0 : s] as WebSocket;
      if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
        this.framesDropped++;
        continue;
      }
      // Every frame is encoded on its own, as each call's stream would be.
      const payloadBase64 = this.source.toString("base64", frameOffset, frameOffset + FRAME_BYTES);
      const frame: JsonFrame = shared
        ? { stream: s, seq: this.tick, timestampMs: nowMs, payloadBase64 }
        : { seq: this.tick, timestampMs: nowMs, payloadBase64 };
      socket.send(JSON.stringify(frame));
      this.framesSent++;
    }
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    const nowMs = performance.now();
    if (this.kind === "floor") {
      if (!isBinary || data.length < FLOOR_HEADER_BYTES) return;
      const frames = (data.length - FLOOR_HEADER_BYTES) / FRAME_BYTES;
      this.framesReceived += frames;
      // Every frame of the batch made the same trip.
      this.echo.recordMs(nowMs - data.readDoubleLE(8));
      return;
    }
    const frame = JSON.parse(data.toString()) as JsonFrame;
    this.framesReceived++;
    this.echo.recordMs(nowMs - frame.timestampMs);
  }
}
