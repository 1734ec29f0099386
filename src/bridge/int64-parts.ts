/**
 * 64-bit protobuf integers as two uint32 halves (the two's complement bits: high, low).
 *
 * A JS number is exact only up to 2^53, but the media platform's timestamps are .NET
 * DateTime-style 100-ns ticks (about 6.39e17 today, above 2^53): as numbers they are off by
 * up to 64 ticks. The frame codec keeps them as halves, which is exact and allocates nothing;
 * numbers and bigints are conversions for code that can afford them.
 */

const TWO_POW_32 = 4294967296;

/** High 32 bits (unsigned) of an integral number's 64-bit two's complement. */
export function int64High(value: number): number {
  if (value >= 0) return Math.floor(value / TWO_POW_32) >>> 0;
  const magnitude = -value;
  const mhi = Math.floor(magnitude / TWO_POW_32) >>> 0;
  const mlo = (magnitude - mhi * TWO_POW_32) >>> 0;
  // Two's complement: invert, add one (the carry reaches the high half only when lo is 0).
  return (~mhi + (mlo === 0 ? 1 : 0)) >>> 0;
}

/** Low 32 bits (unsigned) of an integral number's 64-bit two's complement. */
export function int64Low(value: number): number {
  if (value >= 0) return (value - Math.floor(value / TWO_POW_32) * TWO_POW_32) >>> 0;
  const magnitude = -value;
  const mlo = (magnitude - Math.floor(magnitude / TWO_POW_32) * TWO_POW_32) >>> 0;
  return (~mlo + 1) >>> 0;
}

/** The signed int64 the halves hold, as the nearest number (exact below 2^53 in magnitude). */
export function int64ToNumber(high: number, low: number): number {
  return (high | 0) * TWO_POW_32 + (low >>> 0);
}

/** The signed int64 the halves hold, exactly (allocates a bigint: not for per-frame paths). */
export function int64ToBigInt(high: number, low: number): bigint {
  return BigInt.asIntN(64, (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0));
}

/** [high, low] of a bigint taken as a signed (or unsigned) 64-bit value, wrapped to 64 bits. */
export function int64FromBigInt(value: bigint): [high: number, low: number] {
  const bits = BigInt.asUintN(64, value);
  return [Number(bits >> 32n), Number(bits & 0xffffffffn)];
}

/** [high, low] of a decimal int64 string, such as the proto3 JSON mapping writes. */
export function int64FromString(text: string): [high: number, low: number] {
  if (!/^-?\d+$/.test(text)) throw new RangeError(`not an integer: ${JSON.stringify(text)}`);
  const value = BigInt(text);
  if (value < -(2n ** 63n) || value >= 2n ** 64n) throw new RangeError(`${text} does not fit 64 bits`);
  return int64FromBigInt(value);
}
