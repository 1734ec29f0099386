import type WebSocket from "ws";
import type { BridgeProtocolError } from "../../bridge/bridge-protocol-error.js";
import { EnvelopeDecoder, encodeEnvelope } from "../../bridge/codec.js";
import { FrameBatchWriter } from "../../bridge/frame-batch-writer.js";
import { nowMicros, PROTOCOL_VERSION, type pb, v1 } from "../../bridge/protocol.js";
import type { Logger } from "../../log/logger.js";
import type { EmulatedSession } from "./emulated-session.js";
import { FrameLedger } from "./frame-ledger.js";
import type { EmulatorTimingObserver } from "./timing-observer.js";

/** Control messages held in one stall at most (either way); more are dropped and counted. */
const MAX_HELD_MESSAGES = 10_000;

/** What a connection needs from the emulator that owns it. */
export interface ConnectionHost {
  readonly logger: Logger;
  readonly maxMessageBytes: number;
  /** A tick's source frames are split into FrameBatch messages of at most this size. */
  readonly maxFrameBatchBytes: number;
  /** Source batches are dropped while the socket holds more than this unsent. */
  readonly maxBufferedBytes: number;
  helloAck(): pb.IHelloAck;
  createSession(connection: EmulatorConnection, request: pb.CreateSession, requestId: number): void;
  closeSession(connection: EmulatorConnection, session: number, reason: string, requestId: number): void;
  connectionClosed(connection: EmulatorConnection): void;
  /** Counted refusals, by reason, for stats. */
  countProtocolError(error: BridgeProtocolError): void;
  /** Diagnostics: told about each render batch read (null: none). */
  readonly timingObserver: EmulatorTimingObserver | null;
}

/**
 * One worker's WebSocket on the emulator: the protocol conversation (Hello, requests, render
 * frames, marks) and the batch of source frames sent to it every tick.
 */
export class EmulatorConnection {
  readonly id: number;
  readonly sessions = new Map<number, EmulatedSession>();
  /** Next session number when the emulator numbers sessions per connection (from 1, as .NET). */
  nextSession = 1;
  helloDone = false;
  peer = "";
  capabilities: string[] = [];
  /**
   * Until this time (performance.now()) the connection sends and reads nothing (the stall
   * fault, set through stall()). Frames of that time are lost; control messages wait in the
   * socket, as they would for a host process that stopped running, and go on at its end.
   */
  private stalledUntil = 0;
  private stallTimer: NodeJS.Timeout | undefined;
  /** Control messages the worker sent during the stall, read at its end (in order). */
  private readonly heldIncoming: Buffer[] = [];
  /** Control messages the host would have sent during the stall, sent at its end. */
  private readonly heldOutgoing: Uint8Array[] = [];
  /** Control messages dropped because more than MAX_HELD_MESSAGES waited in one stall. */
  heldMessagesDropped = 0;
  batchesSent = 0;
  /** Source batches not sent because the socket held more than maxBufferedBytes. */
  batchesDropped = 0;
  /** Source batches not sent because the host was stalled (fault). */
  batchesStalled = 0;
  /** Which session each frame of the source message being written belongs to. */
  readonly ledger = new FrameLedger();

  private readonly decoder: EnvelopeDecoder;
  /** This connection's source frames of one tick; full batches go out as they fill up. */
  readonly writer: FrameBatchWriter;

  constructor(
    id: number,
    readonly socket: WebSocket,
    private readonly host: ConnectionHost,
  ) {
    this.id = id;
    this.decoder = new EnvelopeDecoder({ maxMessageBytes: host.maxMessageBytes });
    this.writer = new FrameBatchWriter({
      ringSize: 2,
      maxMessageBytes: host.maxFrameBatchBytes,
      onFull: (bytes) => this.flushBatch(bytes),
    });
    socket.on("message", (data, isBinary) => this.onMessageGuarded(data as Buffer, isBinary));
    socket.on("close", () => {
      this.closed();
      host.connectionClosed(this);
    });
    socket.on("error", (error) => host.logger.debug({ err: error, connection: id }, "bridge socket error"));
  }

  get stalled(): boolean {
    return performance.now() < this.stalledUntil;
  }

  /** The stall fault: nothing sent or read for `ms`; control messages go on at its end. */
  stall(ms: number): void {
    this.stalledUntil = Math.max(this.stalledUntil, performance.now() + ms);
    clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(() => this.endStall(), this.stalledUntil - performance.now());
  }

  private endStall(): void {
    this.stallTimer = undefined;
    if (this.stalled) {
      this.stall(0);
      return;
    }
    const outgoing = this.heldOutgoing.splice(0);
    const incoming = this.heldIncoming.splice(0);
    if (this.socket.readyState !== this.socket.OPEN) return;
    for (const bytes of outgoing) this.socket.send(bytes, { binary: true });
    for (const data of incoming) this.onMessageGuarded(data, true);
  }

  private hold(queue: (Buffer | Uint8Array)[], message: Buffer | Uint8Array): void {
    if (this.heldIncoming.length + this.heldOutgoing.length >= MAX_HELD_MESSAGES) {
      this.heldMessagesDropped++;
      return;
    }
    queue.push(message);
  }

  /** Ends the stall timer with the connection (its held messages are dropped with it). */
  closed(): void {
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    this.heldIncoming.length = 0;
    this.heldOutgoing.length = 0;
  }

  send(envelope: pb.IEnvelope): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    if (this.stalled) {
      this.hold(this.heldOutgoing, encodeEnvelope(envelope));
      return;
    }
    this.socket.send(encodeEnvelope(envelope), { binary: true });
  }

  /** Sends bytes as they are (faults: malformed and oversized messages). */
  sendRaw(bytes: Uint8Array): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(bytes, { binary: true });
  }

  /**
   * Sends one FrameBatch message of source frames and settles the ledger: its frames count as
   * sent, or as dropped when it was not sent.
   */
  flushBatch(bytes: Uint8Array): void {
    this.ledger.settle(this.sendBatch(bytes));
  }

  /** Sends one FrameBatch message (a copy: ws keeps a server's bytes until they are written). */
  private sendBatch(bytes: Uint8Array): boolean {
    if (this.socket.readyState !== this.socket.OPEN) return false;
    if (this.stalled) {
      this.batchesStalled++;
      return false;
    }
    if (this.socket.bufferedAmount > this.host.maxBufferedBytes) {
      this.batchesDropped++;
      return false;
    }
    this.host.timingObserver?.sourceBatch(performance.now(), this.socket.bufferedAmount);
    this.socket.send(Buffer.from(bytes), { binary: true });
    this.batchesSent++;
    return true;
  }

  sendError(code: pb.ErrorCode, message: string, session = 0, requestId = 0): void {
    this.send({ requestId, error: { code, message, session } });
  }

  /**
   * A failure while handling one worker message is answered with Error{PLATFORM_ERROR} (with the
   * request id, so a pending request fails at once) instead of escaping into ws and ending the
   * emulator: the real host answers its worker, it does not crash.
   */
  private onMessageGuarded(data: Buffer, isBinary: boolean): void {
    try {
      this.onMessage(data, isBinary);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.host.logger.error({ err: error, connection: this.id }, "worker message failed");
      this.sendError(
        v1.ErrorCode.ERROR_CODE_PLATFORM_ERROR,
        `host failed: ${message}`,
        0,
        this.decoder.requestId,
      );
    }
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.stalled) {
      // A stalled host reads nothing either: its render frames of that time are lost, its
      // control messages (CreateSession, Ping, ...) are read when it runs again.
      if (isBinary && this.decoder.decode(data) !== "frames") this.hold(this.heldIncoming, data);
      return;
    }
    if (!isBinary) {
      this.sendError(v1.ErrorCode.ERROR_CODE_BAD_MESSAGE, "text messages are not part of the protocol");
      return;
    }
    const decoder = this.decoder;
    const kind = decoder.decode(data);
    if (kind === "error") {
      const error = decoder.error as BridgeProtocolError;
      this.host.countProtocolError(error);
      this.sendError(
        error.reason === "bad_pcm_length" ||
          error.reason === "too_many_unmixed" ||
          error.reason === "zero_session"
          ? v1.ErrorCode.ERROR_CODE_BAD_FRAME
          : v1.ErrorCode.ERROR_CODE_BAD_MESSAGE,
        error.message,
        error.session,
      );
      return;
    }
    if (kind === "unknown") return; // Rule 5.
    if (kind === "frames") {
      if (!this.helloDone) {
        this.refuseBeforeHello("frames");
        return;
      }
      this.onRenderFrames();
      return;
    }
    const envelope = decoder.envelope as pb.Envelope;
    const requestId = decoder.requestId;
    if (envelope.body === "hello") {
      this.onHello(envelope.hello as pb.Hello);
      return;
    }
    if (envelope.body === "ping") {
      const ping = envelope.ping as pb.Ping;
      this.send({ pong: { id: ping.id, pingSentAtUs: ping.sentAtUs, repliedAtUs: nowMicros() } });
      return;
    }
    if (envelope.body === "pong" || envelope.body === "error") return;
    if (!this.helloDone) {
      this.refuseBeforeHello(envelope.body ?? "?");
      return;
    }
    switch (envelope.body) {
      case "createSession":
        this.host.createSession(this, envelope.createSession as pb.CreateSession, requestId);
        return;
      case "closeSession": {
        const close = envelope.closeSession as pb.CloseSession;
        this.host.closeSession(this, close.session, close.reason, requestId);
        return;
      }
      case "mark": {
        const mark = envelope.mark as pb.PlayoutMark;
        const session = this.sessionOrError(mark.session, requestId);
        session?.addMark(mark.name);
        return;
      }
      case "clear": {
        const clear = envelope.clear as pb.ClearPlayout;
        const session = this.sessionOrError(clear.session, requestId);
        if (!session) return;
        for (const name of session.clear()) {
          this.send({ markPlayed: { session: session.session, name, played: false } });
        }
        return;
      }
      default:
        this.sendError(
          v1.ErrorCode.ERROR_CODE_BAD_MESSAGE,
          `${envelope.body} is not a message a worker sends`,
          0,
          requestId,
        );
    }
  }

  private onHello(hello: pb.Hello): void {
    if (hello.protocolVersion !== PROTOCOL_VERSION) {
      this.sendError(
        v1.ErrorCode.ERROR_CODE_VERSION_MISMATCH,
        `host speaks protocol ${PROTOCOL_VERSION}, worker ${hello.protocolVersion}`,
      );
      this.socket.close(1002, "protocol version mismatch");
      return;
    }
    this.helloDone = true;
    this.peer = hello.peer;
    this.capabilities = [...hello.capabilities];
    this.send({ helloAck: this.host.helloAck() });
  }

  private refuseBeforeHello(body: string): void {
    this.sendError(v1.ErrorCode.ERROR_CODE_BAD_MESSAGE, `${body} before Hello`);
  }

  sessionOrError(session: number, requestId = 0): EmulatedSession | undefined {
    const found = this.sessions.get(session);
    if (!found) {
      this.sendError(
        v1.ErrorCode.ERROR_CODE_UNKNOWN_SESSION,
        `no session ${session} on this connection`,
        session,
        requestId,
      );
    }
    return found;
  }

  private onRenderFrames(): void {
    const reader = this.decoder.frames;
    for (const invalid of reader.invalidFrames) {
      this.sendError(v1.ErrorCode.ERROR_CODE_BAD_FRAME, invalid.message, invalid.session);
    }
    const nowMs = performance.now();
    this.host.timingObserver?.renderBatch(nowMs, reader.sentAtUs, reader.frameCount);
    const unknown = new Set<number>();
    while (reader.next()) {
      const session = this.sessions.get(reader.session);
      if (!session) {
        unknown.add(reader.session);
        continue;
      }
      if (reader.context !== v1.MediaContext.MEDIA_CONTEXT_AUDIO_RENDER) continue;
      session.acceptRender(reader.buffer, reader.pcmOffset, nowMs);
    }
    for (const session of unknown) {
      this.sendError(
        v1.ErrorCode.ERROR_CODE_UNKNOWN_SESSION,
        `frame for unknown session ${session}`,
        session,
      );
    }
  }
}
