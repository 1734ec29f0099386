import type { FramePlace } from "./refused-batch.js";

/**
 * Why a bridge message was refused. Stable strings: they are Prometheus label values
 * (bridge_protocol_errors_total{reason}) and appear in logs and Error messages to the peer.
 */
export type BridgeProtocolReason =
  /** The message ends inside a field (length or varint runs past the end). */
  | "truncated"
  /** A wire type protobuf does not define (3, 4, 6, 7) or a varint longer than 10 bytes. */
  | "bad_wire_type"
  /** An Envelope with no body at all. */
  | "missing_body"
  /** A frame whose pcm (or an unmixed buffer's pcm) is not exactly 640 bytes. */
  | "bad_pcm_length"
  /** A frame with more than four unmixed buffers. */
  | "too_many_unmixed"
  /** A frame without a session (session 0 names the connection, never a frame's session). */
  | "zero_session"
  /** A message larger than the configured maximum. */
  | "oversized"
  /** A known message whose content makes no sense (e.g. a Hello without protocol version). */
  | "invalid_message"
  /** Hello/HelloAck with another major protocol version. */
  | "version_mismatch"
  /** A text WebSocket message (the protocol is binary only). */
  | "not_binary"
  /** An answer to a request that had already timed out (a session it created is closed; a
   * SessionClosed that answers a timed-out CloseSession is still taken as the session's end). */
  | "late_answer";

/** A refused bridge message. Carries the reason as a label value and a human explanation. */
export class BridgeProtocolError extends Error {
  readonly reason: BridgeProtocolReason;
  /** Session concerned, 0 = the connection / unknown. */
  readonly session: number;
  /**
   * Audio frames lost with this refusal: 1 for a refused frame, the frames a refused
   * FrameBatch carried (as counted in its bytes), 0 for any other message.
   */
  framesLost = 0;
  /**
   * Where the frames of a refused FrameBatch belonged, as far as its bytes tell (session and
   * sequence): their receiver gives those places up at once. Empty for other refusals.
   */
  readonly refusedPlaces: FramePlace[] = [];

  constructor(reason: BridgeProtocolReason, message: string, session = 0) {
    super(`bridge protocol error (${reason}): ${message}`);
    this.name = "BridgeProtocolError";
    this.reason = reason;
    this.session = session;
  }
}
