import { Counter, type Registry } from "prom-client";
import { BODY_FIELD } from "./protocol.js";
import { WIRE_LEN, WIRE_VARINT, WireCursor } from "./wire.js";

const cursor = new WireCursor();
const frameCursor = new WireCursor();

/** A refused frame's place in its session's received stream (see the .proto's "Refused frames"). */
export interface FramePlace {
  session: number;
  sequence: number;
}

/**
 * How many AudioFrames a refused message carried, as far as its bytes tell: -1 when it is not
 * a FrameBatch at all. Refused batches (oversized, broken structure) are lost whole, and this
 * is what the receiver counts as lost for them instead of one "malformed" message. It only
 * skips over length-delimited fields (no frame is parsed), so it is cheap even for a message
 * far above the size limit. A frame cut off by the end of the message counts too: it was sent.
 *
 * With `places`, also lists where the frames' bytes name their place (a session and a
 * sequence: read, or left out of a frame that arrived whole, proto3's 0), so that the receiver
 * gives those places up at once instead of waiting for frames that were refused.
 */
export function framesInRefusedMessage(bytes: Uint8Array, places?: FramePlace[]): number {
  const c = cursor;
  c.reset(bytes, 0, bytes.length);
  let batchStart = -1;
  let batchEnd = -1;
  while (c.pos < c.end) {
    if (!c.varint()) break;
    const field = c.lo >>> 3;
    const wireType = c.lo & 7;
    if (field === BODY_FIELD.frames && wireType === WIRE_LEN) {
      if (!c.varint()) break;
      // proto3 oneof: the last body wins; a length past the end is cut to what arrived.
      batchStart = c.pos;
      batchEnd = c.hi !== 0 || c.lo > c.end - c.pos ? c.end : c.pos + c.lo;
      c.pos = batchEnd;
    } else if (field === 0 || !c.skip(wireType)) {
      break;
    }
  }
  if (batchStart < 0) return -1;
  let frames = 0;
  c.reset(bytes, batchStart, batchEnd);
  while (c.pos < c.end) {
    if (!c.varint()) break;
    const field = c.lo >>> 3;
    const wireType = c.lo & 7;
    if (field === 1 && wireType === WIRE_LEN) {
      frames++;
      if (!c.varint()) break;
      const whole = c.hi === 0 && c.lo <= c.end - c.pos;
      const frameEnd = whole ? c.pos + c.lo : c.end;
      if (places !== undefined) placeOfFrame(bytes, c.pos, frameEnd, whole, places);
      if (!whole) break;
      c.pos = frameEnd;
    } else if (field === 0 || !c.skip(wireType)) {
      break;
    }
  }
  return frames;
}

/** Adds the place of the AudioFrame in bytes[start, end) when its fields name one. */
function placeOfFrame(
  bytes: Uint8Array,
  start: number,
  end: number,
  whole: boolean,
  places: FramePlace[],
): void {
  const c = frameCursor;
  c.reset(bytes, start, end);
  let session = 0;
  let sequence = 0;
  let sequenceKnown = false;
  let readToEnd = true;
  while (c.pos < c.end) {
    if (!c.varint()) {
      readToEnd = false;
      break;
    }
    const field = c.lo >>> 3;
    const wireType = c.lo & 7;
    if (wireType === WIRE_VARINT && (field === 1 || field === 3)) {
      if (!c.varint()) {
        readToEnd = false;
        break;
      }
      if (field === 1) session = c.uint32;
      else {
        sequence = c.uint32;
        sequenceKnown = true;
      }
    } else if (field === 0 || !c.skip(wireType)) {
      readToEnd = false;
      break;
    }
  }
  if (session !== 0 && (sequenceKnown || (whole && readToEnd))) places.push({ session, sequence });
}

/** Counters of FrameBatch messages a receiver refused whole, by BridgeProtocolReason. */
export interface RefusedBatchMetrics {
  /** bridge_batches_refused_total{reason}: one per refused FrameBatch message. */
  batches: Counter<"reason">;
  /** bridge_refused_batch_frames_total{reason}: the frames those messages carried. */
  frames: Counter<"reason">;
}

export function createRefusedBatchMetrics(registry: Registry): RefusedBatchMetrics {
  const registers = [registry];
  return {
    batches: new Counter({
      name: "bridge_batches_refused_total",
      help: "FrameBatch messages refused whole (oversized, broken structure), by reason",
      labelNames: ["reason"],
      registers,
    }),
    frames: new Counter({
      name: "bridge_refused_batch_frames_total",
      help: "Audio frames lost in FrameBatch messages refused whole, as counted in their bytes, by reason",
      labelNames: ["reason"],
      registers,
    }),
  };
}
