import type { BridgeProtocolReason } from "./bridge-protocol-error.js";
import { int64High, int64Low } from "./int64-parts.js";

/** Protobuf wire types (https://protobuf.dev/programming-guides/encoding/). */
export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

const TWO_POW_32 = 4294967296;

/**
 * A position in a protobuf-encoded buffer, read without allocating: varints land in the
 * lo/hi fields, failures set `failure` and return false instead of throwing (hot path).
 */
export class WireCursor {
  buf: Uint8Array = new Uint8Array(0);
  pos = 0;
  end = 0;
  /** Low and high 32 bits of the last varint read (unsigned). */
  lo = 0;
  hi = 0;
  /** Why the last failing read failed. */
  failure: BridgeProtocolReason = "truncated";
  /** Offset where the last failure happened. */
  failureAt = 0;

  reset(buf: Uint8Array, start: number, end: number): void {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  private fail(reason: BridgeProtocolReason): false {
    this.failure = reason;
    this.failureAt = this.pos;
    return false;
  }

  /** Reads one varint (up to 10 bytes) into lo/hi. */
  varint(): boolean {
    const buf = this.buf;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= this.end) return this.fail("truncated");
      const byte = buf[pos++] as number;
      if (i < 4) lo |= (byte & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (byte & 0x0f) << 28;
        hi |= (byte & 0x7f) >>> 4;
      } else hi |= (byte & 0x7f) << (7 * i - 32);
      if (byte < 0x80) {
        this.pos = pos;
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return true;
      }
    }
    this.pos = pos;
    return this.fail("bad_wire_type");
  }

  /** The last varint as a uint32 (protobuf truncates wider values). */
  get uint32(): number {
    return this.lo;
  }

  /** The last varint as a signed int64 number (exact below 2^53 in magnitude). */
  get int64(): number {
    return (this.hi | 0) * TWO_POW_32 + this.lo;
  }

  /** The last varint as an unsigned uint64 number (exact below 2^53). */
  get uint64(): number {
    return this.hi * TWO_POW_32 + this.lo;
  }

  /** Reads a length prefix and checks that many bytes follow; leaves pos at the payload. */
  length(): boolean {
    if (!this.varint()) return false;
    if (this.hi !== 0 || this.lo > this.end - this.pos) return this.fail("truncated");
    return true;
  }

  /** Skips a field's value of the given wire type (unknown fields must be ignored, rule 3). */
  skip(wireType: number): boolean {
    switch (wireType) {
      case WIRE_VARINT:
        return this.varint();
      case WIRE_I64:
        if (this.end - this.pos < 8) return this.fail("truncated");
        this.pos += 8;
        return true;
      case WIRE_LEN:
        if (!this.length()) return false;
        this.pos += this.lo;
        return true;
      case WIRE_I32:
        if (this.end - this.pos < 4) return this.fail("truncated");
        this.pos += 4;
        return true;
      default:
        return this.fail("bad_wire_type");
    }
  }
}

/** Bytes a varint of this unsigned 32-bit value takes. */
export function varint32Size(value: number): number {
  const v = value >>> 0;
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

/** Bytes a varint of this int64 (an integral number; negative = 10 bytes) takes. */
export function varint64Size(value: number): number {
  if (value < 0) return 10;
  if (value < TWO_POW_32) return varint32Size(value);
  return varint64PartsSize(int64High(value), int64Low(value));
}

/** Bytes a varint of the 64 bits high:low (uint32 halves) takes. */
export function varint64PartsSize(high: number, low: number): number {
  const hi = high >>> 0;
  if (hi === 0) return varint32Size(low);
  // 32 bits of lo plus the bits of hi, 7 per byte.
  return hi < 0x8 ? 5 : hi < 0x400 ? 6 : hi < 0x20000 ? 7 : hi < 0x1000000 ? 8 : hi < 0x80000000 ? 9 : 10;
}

/** Writes a uint32 varint at pos; returns the new position. */
export function writeVarint32(buf: Uint8Array, pos: number, value: number): number {
  let v = value >>> 0;
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

/** Writes an int64 varint (two's complement for negatives, like protobufjs) at pos. */
export function writeVarint64(buf: Uint8Array, pos: number, value: number): number {
  if (value >= 0 && value < TWO_POW_32) return writeVarint32(buf, pos, value);
  return writeVarint64Parts(buf, pos, int64High(value), int64Low(value));
}

/** Writes the 64 bits high:low (uint32 halves) as a varint at pos; exact for any int64/uint64. */
export function writeVarint64Parts(buf: Uint8Array, pos: number, high: number, low: number): number {
  let lo = low >>> 0;
  let hi = high >>> 0;
  while (hi > 0 || lo >= 0x80) {
    buf[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  buf[pos++] = lo;
  return pos;
}
