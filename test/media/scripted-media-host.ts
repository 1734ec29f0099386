import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { WebSocket, WebSocketServer } from "ws";
import { decodeEnvelope, encodeEnvelope } from "../../src/bridge/codec.js";
import { type pb, v1 } from "../../src/bridge/protocol.js";
import { FRAME_BYTES } from "../../src/media/audio-format.js";

type Envelope = ReturnType<typeof decodeEnvelope>;

/** A render frame the worker sent, with the connection it came on (1 = the first). */
export interface RenderedFrame {
  connection: number;
  session: number;
  sequence: number;
  pcm: Buffer;
}

/**
 * A media host written from the .proto's rules alone, on loopback, driven by the test: it
 * answers Hello, CreateSession (a resume, same call and media session ids, gets the kept
 * session's configuration under a new number), Ping and CloseSession; the test sends source
 * frames and send status, cuts the connection without a close frame, refuses reconnects for a
 * while, and reads every render frame the worker sent.
 */
export class ScriptedMediaHost {
  readonly rendered: RenderedFrame[] = [];
  /** Every FrameBatch the worker sent: its sent_at_us and this host's clock when it arrived (µs). */
  readonly batches: { sentAtUs: number; receivedAtUs: number }[] = [];
  /** Connections accepted so far (refused ones not counted). */
  connections = 0;
  private socket: WebSocket | undefined;
  /** Kept sessions by media session id: what SessionCreated says, on every connection. */
  private readonly kept = new Map<string, { callId: string; created: Record<string, string> }>();
  private readonly numbers = new Map<string, number>();
  private nextNumber = 1;
  private refuseUntil = 0;
  private readonly resumeWaiters: ((session: number) => void)[] = [];

  private constructor(private readonly server: WebSocketServer) {
    server.on("connection", (socket) => this.accept(socket));
  }

  static async start(): Promise<ScriptedMediaHost> {
    const server = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    await once(server, "listening");
    return new ScriptedMediaHost(server);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as { port: number }).port}/bridge`;
  }

  /** This connection's number for the call's session (after SessionCreated). */
  sessionOf(callId: string): number | undefined {
    return this.numbers.get(callId);
  }

  sendStatus(callId: string, active: boolean): void {
    this.send({
      sendStatus: {
        session: this.numbers.get(callId),
        status: active ? v1.SendStatus.SEND_STATUS_ACTIVE : v1.SendStatus.SEND_STATUS_INACTIVE,
      },
    });
  }

  /** One FrameBatch of source frames for the call: each frame's samples all equal its marker. */
  sendFrames(callId: string, frames: { sequence: number; marker: number }[]): void {
    const session = this.numbers.get(callId);
    this.send({
      frames: {
        sentAtUs: Math.round((performance.timeOrigin + performance.now()) * 1000),
        frames: frames.map(({ sequence, marker }) => ({
          session,
          context: v1.MediaContext.MEDIA_CONTEXT_AUDIO_SOURCE,
          sequence,
          timestampTicks: sequence * 200_000,
          pcm: markedPcm(marker),
        })),
      },
    });
  }

  /** Sends bytes as one binary message, as they are (a malformed message, built by the test). */
  sendRaw(bytes: Uint8Array): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(bytes);
  }

  /**
   * Drops the connection without a WebSocket close frame (the TCP connection is destroyed),
   * and refuses new connections (destroyed at once) for `refuseMs`. Sessions are kept.
   */
  cut(refuseMs: number): void {
    this.refuseUntil = performance.now() + refuseMs;
    this.socket?.terminate();
    this.socket = undefined;
    this.numbers.clear();
  }

  /** Resolves with the session's new number once the worker resumed it on a later connection. */
  resumed(): Promise<number> {
    return new Promise((resolve) => this.resumeWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    for (const client of this.server.clients) client.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: WebSocket): void {
    if (performance.now() < this.refuseUntil) {
      socket.terminate();
      return;
    }
    this.socket?.terminate();
    this.socket = socket;
    this.numbers.clear();
    const connection = ++this.connections;
    socket.on("message", (data: Buffer) => {
      if (this.socket !== socket) return;
      this.onMessage(connection, decodeEnvelope(data));
    });
  }

  private onMessage(connection: number, envelope: Envelope): void {
    const requestId = envelope.requestId;
    switch (envelope.body) {
      case "hello":
        this.send({ helloAck: { protocolVersion: 1, peer: "scripted host", health: 1, maxSessions: 100 } });
        break;
      case "createSession":
        this.createSession(envelope.createSession as pb.CreateSession, requestId);
        break;
      case "ping":
        this.send({ pong: { id: envelope.ping?.id, pingSentAtUs: envelope.ping?.sentAtUs } });
        break;
      case "closeSession": {
        const session = envelope.closeSession?.session ?? 0;
        this.send({ requestId, sessionClosed: { session, reason: "closed" } });
        break;
      }
      case "frames":
        this.batches.push({
          sentAtUs: Number(envelope.frames?.sentAtUs ?? 0),
          receivedAtUs: Math.round((performance.timeOrigin + performance.now()) * 1000),
        });
        for (const frame of envelope.frames?.frames ?? []) {
          this.rendered.push({
            connection,
            session: frame.session ?? 0,
            sequence: frame.sequence ?? 0,
            pcm: Buffer.from(frame.pcm ?? []),
          });
        }
        break;
    }
  }

  private createSession(request: pb.CreateSession, requestId: unknown): void {
    const mediaSessionId = request.mediaSessionId || randomUUID();
    const known = this.kept.get(mediaSessionId.toLowerCase());
    const session = this.nextNumber++;
    const created = known?.created ?? {
      mediaSessionId,
      mpUri: "net.tcp://media.test:8445/MediaProcessor",
      audioRenderContextId: randomUUID(),
      audioSourceContextId: randomUUID(),
      skypeMediaBotsVersion: "1.0",
      mediaStackVersion: "1.0",
      mpVersion: "1.0",
      mediaConfigurationJson: "",
    };
    this.kept.set(mediaSessionId.toLowerCase(), { callId: request.callId, created });
    this.numbers.set(request.callId, session);
    this.send({
      requestId: requestId as number,
      sessionCreated: { session, callId: request.callId, ...created },
    });
    if (known !== undefined) for (const wake of this.resumeWaiters.splice(0)) wake(session);
  }

  private send(envelope: Parameters<typeof encodeEnvelope>[0]): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(encodeEnvelope(envelope));
  }
}

/** A frame whose 320 samples all equal `marker` (loud: no quiet-frame rule applies to it). */
export function markedPcm(marker: number): Uint8Array {
  const pcm = new Int16Array(FRAME_BYTES / 2).fill(marker);
  return new Uint8Array(pcm.buffer);
}

/** The marker of a frame made by markedPcm (its first sample). */
export function markerOf(pcm: Buffer): number {
  return pcm.readInt16LE(0);
}
