import { BridgeProtocolError, type BridgeProtocolReason } from "./bridge-protocol-error.js";
import { FrameBatchReader } from "./frame-batch-reader.js";
import {
  BODY_FIELD,
  DEFAULT_MAX_MESSAGE_BYTES,
  type EnvelopeBody,
  longToNumber,
  type pb,
  v1,
} from "./protocol.js";
import { WIRE_LEN, WIRE_VARINT, WireCursor } from "./wire.js";

/** Encodes one Envelope with the generated code (control messages; frames use FrameBatchWriter). */
export function encodeEnvelope(message: pb.IEnvelope): Uint8Array {
  return v1.Envelope.encode(message).finish();
}

/** What EnvelopeDecoder.decode() found; details are in the decoder's fields. */
export type DecodeKind =
  /** A FrameBatch: `decoder.frames` is positioned on it (its invalidFrames lists refused frames). */
  | "frames"
  /** Any other known message: `decoder.envelope` and `decoder.body`. */
  | "message"
  /** A body this version does not know (rule 5): count it and ignore it. `decoder.unknownField`. */
  | "unknown"
  /** Refused: `decoder.error`. */
  | "error";

const BODY_BY_FIELD: (EnvelopeBody | undefined)[] = [];
for (const [name, field] of Object.entries(BODY_FIELD)) BODY_BY_FIELD[field] = name as EnvelopeBody;
const LAST_BODY_FIELD = Math.max(...Object.values(BODY_FIELD));

/** Bodies whose `session` must name a session (0 = none is a protocol error). */
const SESSION_BODIES: ReadonlySet<EnvelopeBody> = new Set<EnvelopeBody>([
  "sessionCreated",
  "closeSession",
  "sessionClosed",
  "sendStatus",
  "dominantSpeaker",
  "tone",
  "mark",
  "markPlayed",
  "clear",
]);

/**
 * Decodes bridge messages for one connection. FrameBatch messages, the only per-tick traffic,
 * are not decoded into objects: `frames` (a FrameBatchReader) is positioned on them in place.
 * Everything else goes through the generated code and is validated. Never throws for bad
 * input: decode() returns "error" and `error` carries the reason.
 */
export class EnvelopeDecoder {
  readonly maxMessageBytes: number;
  readonly frames = new FrameBatchReader();
  /** Envelope.request_id of the last message. */
  requestId = 0;
  /** The last message when decode() returned "message". */
  envelope: pb.Envelope | null = null;
  body: EnvelopeBody | null = null;
  /** Field number of the unknown body when decode() returned "unknown". */
  unknownField = 0;
  error: BridgeProtocolError | null = null;

  private readonly cursor = new WireCursor();

  constructor(options: { maxMessageBytes?: number } = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  decode(bytes: Uint8Array): DecodeKind {
    this.requestId = 0;
    this.envelope = null;
    this.body = null;
    this.unknownField = 0;
    this.error = null;
    if (bytes.length > this.maxMessageBytes) {
      return this.fail(
        "oversized",
        `message of ${bytes.length} bytes exceeds the maximum of ${this.maxMessageBytes}`,
      );
    }
    const c = this.cursor;
    c.reset(bytes, 0, bytes.length);
    let bodyField = 0;
    let bodyStart = 0;
    let bodyEnd = 0;
    let unknownField = 0;
    while (c.pos < c.end) {
      const tagAt = c.pos;
      if (!c.varint()) return this.failCursor();
      const field = c.lo >>> 3;
      const wireType = c.lo & 7;
      if (field === 0 || c.hi !== 0) return this.fail("bad_wire_type", `bad field tag at byte ${tagAt}`);
      if (field === 1) {
        if (wireType !== WIRE_VARINT) return this.fail("bad_wire_type", "request_id is not a varint");
        if (!c.varint()) return this.failCursor();
        this.requestId = c.uint64;
      } else if (field <= LAST_BODY_FIELD && BODY_BY_FIELD[field] !== undefined) {
        if (wireType !== WIRE_LEN) {
          return this.fail("bad_wire_type", `body field ${field} has wire type ${wireType}`);
        }
        if (!c.length()) return this.failCursor();
        // proto3 oneof: the last body on the wire wins.
        bodyField = field;
        bodyStart = c.pos;
        bodyEnd = c.pos + c.lo;
        c.pos = bodyEnd;
      } else {
        if (!c.skip(wireType)) return this.failCursor();
        if (wireType === WIRE_LEN && field > LAST_BODY_FIELD) unknownField = field;
      }
    }
    if (bodyField === 0) {
      if (unknownField !== 0) {
        this.unknownField = unknownField;
        return "unknown";
      }
      return this.fail("missing_body", "envelope has no body");
    }
    if (bodyField === BODY_FIELD.frames) {
      if (!this.frames.reset(bytes, bodyStart, bodyEnd)) {
        this.error = this.frames.error;
        return "error";
      }
      return "frames";
    }
    let envelope: pb.Envelope;
    try {
      envelope = v1.Envelope.decode(bytes);
    } catch (error) {
      return this.fail(reasonOfDecodeError(error), (error as Error).message);
    }
    const body = envelope.body;
    if (!body) return this.fail("missing_body", "envelope has no body");
    const problem = validateBody(envelope, body);
    if (problem) return this.fail(problem[0], problem[1], problem[2]);
    this.envelope = envelope;
    this.body = body;
    this.requestId = longToNumber(envelope.requestId);
    return "message";
  }

  private fail(reason: BridgeProtocolReason, message: string, session = 0): "error" {
    this.error = new BridgeProtocolError(reason, message, session);
    return "error";
  }

  private failCursor(): "error" {
    const c = this.cursor;
    return this.fail(
      c.failure,
      c.failure === "truncated"
        ? `message truncated at byte ${c.failureAt}`
        : `bad varint at byte ${c.failureAt}`,
    );
  }
}

function reasonOfDecodeError(error: unknown): BridgeProtocolReason {
  const text = error instanceof Error ? error.message : String(error);
  if (/index out of range/i.test(text)) return "truncated";
  if (/wire type|varint/i.test(text)) return "bad_wire_type";
  return "invalid_message";
}

type Problem = [BridgeProtocolReason, string, number?];

function validateBody(envelope: pb.Envelope, body: EnvelopeBody): Problem | null {
  const value = envelope[body] as { session?: number } | null | undefined;
  if (!value) return ["missing_body", `body ${body} is empty`];
  if (SESSION_BODIES.has(body) && !value.session) return ["zero_session", `${body} without a session`];
  switch (body) {
    case "hello":
    case "helloAck": {
      const hello = envelope[body] as pb.Hello;
      if (!hello.protocolVersion) return ["invalid_message", `${body} without protocol_version`];
      return null;
    }
    case "createSession": {
      const create = envelope.createSession as pb.CreateSession;
      if (!create.callId) return ["invalid_message", "createSession without call_id"];
      return null;
    }
    case "mark":
    case "markPlayed": {
      const mark = envelope[body] as pb.PlayoutMark;
      if (!mark.name) return ["invalid_message", `${body} without a name`, mark.session];
      return null;
    }
    default:
      return null;
  }
}

const sharedDecoder = new EnvelopeDecoder({ maxMessageBytes: Number.MAX_SAFE_INTEGER });

/**
 * Decodes and validates one Envelope into generated objects, frames included (allocates: for
 * tests, tools and the emulator's control path, not per-frame code). Throws BridgeProtocolError.
 */
export function decodeEnvelope(bytes: Uint8Array, options: { maxMessageBytes?: number } = {}): pb.Envelope {
  const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (bytes.length > max) {
    throw new BridgeProtocolError(
      "oversized",
      `message of ${bytes.length} bytes exceeds the maximum of ${max}`,
    );
  }
  const kind = sharedDecoder.decode(bytes);
  switch (kind) {
    case "error":
      throw sharedDecoder.error as BridgeProtocolError;
    case "message":
      return sharedDecoder.envelope as pb.Envelope;
    case "unknown":
      throw new BridgeProtocolError("missing_body", `unknown body field ${sharedDecoder.unknownField}`);
    case "frames": {
      const invalid = sharedDecoder.frames.invalidFrames[0];
      if (invalid) throw new BridgeProtocolError(invalid.reason, invalid.message, invalid.session);
      try {
        return v1.Envelope.decode(bytes);
      } catch (error) {
        throw new BridgeProtocolError(reasonOfDecodeError(error), (error as Error).message);
      }
    }
  }
}
