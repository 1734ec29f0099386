import { Counter, type Registry } from "prom-client";
import { BODY_FIELD } from "./protocol.js";
import { WIRE_LEN, WireCursor } from "./wire.js";

const cursor = new WireCursor();

/**
 * How many AudioFrames a refused message carried, as far as its bytes tell: -1 when it is not
 * a FrameBatch at all. Refused batches (oversized, broken structure) are lost whole, and this
 * is what the receiver counts as lost for them instead of one "malformed" message. It only
 * skips over length-delimited fields (no frame is parsed), so it is cheap even for a message
 * far above the size limit. A frame cut off by the end of the message counts too: it was sent.
 */
export function framesInRefusedMessage(bytes: Uint8Array): number {
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
      if (!c.length()) break;
      c.pos += c.lo;
    } else if (field === 0 || !c.skip(wireType)) {
      break;
    }
  }
  return frames;
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
