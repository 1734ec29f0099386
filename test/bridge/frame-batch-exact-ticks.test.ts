/**
 * 64-bit ticks through the frame codec exactly: the media platform's timestamps are .NET
 * DateTime-style 100-ns ticks (about 6.39e17, above 2^53), which a number rounds by up to 64.
 */
import { describe, expect, it } from "vitest";
import { decodeEnvelope, EnvelopeDecoder, encodeEnvelope } from "../../src/bridge/codec.js";
import { FrameBatchWriter } from "../../src/bridge/frame-batch-writer.js";
import {
  int64FromBigInt,
  int64FromString,
  int64High,
  int64Low,
  int64ToBigInt,
  int64ToNumber,
} from "../../src/bridge/int64-parts.js";
import { longToBigInt, longToNumber, v1 } from "../../src/bridge/protocol.js";
import {
  varint64PartsSize,
  varint64Size,
  WireCursor,
  writeVarint64,
  writeVarint64Parts,
} from "../../src/bridge/wire.js";
import { youngBytesAllocated } from "../media/gc-counter.js";

/** Today's DateTime.UtcNow.Ticks, roughly, and values around the edges of 64 bits. */
const TICKS: bigint[] = [
  0n,
  1n,
  200_000n,
  2n ** 32n - 1n,
  2n ** 32n,
  2n ** 53n - 1n,
  2n ** 53n + 1n,
  638_999_999_999_800_001n,
  639_000_000_000_000_063n,
  2n ** 63n - 1n,
  -1n,
  -(2n ** 53n) - 3n,
  -(2n ** 63n),
];

const RENDER = v1.MediaContext.MEDIA_CONTEXT_AUDIO_RENDER as number;
const SOURCE = v1.MediaContext.MEDIA_CONTEXT_AUDIO_SOURCE as number;

describe("int64 halves", () => {
  it("bigint and string round trips are exact for every int64", () => {
    for (const value of TICKS) {
      const [high, low] = int64FromBigInt(value);
      expect(high >>> 0).toBe(high);
      expect(low >>> 0).toBe(low);
      expect(int64ToBigInt(high, low)).toBe(value);
      expect(int64FromString(String(value))).toEqual([high, low]);
      expect(int64ToNumber(high, low)).toBe(Number(value));
    }
    expect(() => int64FromString("1e5")).toThrow(RangeError);
    expect(() => int64FromString(String(2n ** 64n))).toThrow(RangeError);
  });

  it("int64High/int64Low split integral numbers like the generated code's two's complement", () => {
    for (const value of [
      0,
      1,
      2 ** 32,
      2 ** 52 + 3,
      -1,
      -(2 ** 32),
      -(2 ** 40) - 7,
      638_000_000_000_000_000,
    ]) {
      expect(int64ToBigInt(int64High(value), int64Low(value))).toBe(BigInt(value));
    }
  });

  it("varints of halves are the varints protobuf writes and reads back exactly", () => {
    const buf = new Uint8Array(16);
    const cursor = new WireCursor();
    for (const value of TICKS) {
      const [high, low] = int64FromBigInt(value);
      const end = writeVarint64Parts(buf, 0, high, low);
      expect(end).toBe(varint64PartsSize(high, low));
      const reference = v1.Ping.encode({ sentAtUs: value.toString() as unknown as number }).finish();
      // Ping{sent_at_us}: tag 0x10, then the varint.
      expect(Buffer.from(buf.subarray(0, end)).toString("hex")).toBe(
        Buffer.from(reference.subarray(1)).toString("hex"),
      );
      cursor.reset(buf, 0, end);
      expect(cursor.varint()).toBe(true);
      expect([cursor.hi, cursor.lo]).toEqual([high, low]);
      if (Number.isSafeInteger(Number(value))) {
        expect(writeVarint64(new Uint8Array(16), 0, Number(value))).toBe(end);
        expect(varint64Size(Number(value))).toBe(end);
      }
    }
  });
});

describe("control messages' int64 fields", () => {
  it("longToBigInt gives a decoded ToneReceived's platform ticks exactly (longToNumber rounds them)", () => {
    const ticks = 638_999_999_999_800_001n;
    const bytes = encodeEnvelope({
      tone: { session: 1, tone: 3, timestampTicks: ticks.toString() as unknown as number },
    });
    const tone = decodeEnvelope(bytes).tone;
    expect(longToBigInt(tone?.timestampTicks)).toBe(ticks);
    expect(BigInt(longToNumber(tone?.timestampTicks))).not.toBe(ticks);
    expect(longToBigInt(-5)).toBe(-5n);
    expect(longToBigInt(null)).toBe(0n);
  });
});

describe("FrameBatchWriter / FrameBatchReader with exact ticks", () => {
  it("writes and reads back every tick value exactly, frame and unmixed, byte for byte as the generated code", () => {
    const pcm = new Uint8Array(640).map((_, i) => i);
    const writer = new FrameBatchWriter();
    writer.begin(1_764_201_600_123_456);
    const frames = TICKS.map((ticks, i) => ({
      session: i + 1,
      context: SOURCE,
      sequence: i + 1,
      // proto3: a zero is not written (the generated code writes what the object holds).
      ...(ticks !== 0n ? { timestampTicks: ticks.toString() } : {}),
      pcm,
      unmixed: [
        {
          speakerId: 7,
          pcm,
          ...(ticks / 2n !== 0n ? { originalSenderTimestampTicks: (ticks / 2n).toString() } : {}),
        },
      ],
    }));
    for (const [i, ticks] of TICKS.entries()) {
      const [high, low] = int64FromBigInt(ticks);
      writer.addFrameExact(i + 1, SOURCE, i + 1, high, low, pcm, 0, false);
      const [uHigh, uLow] = int64FromBigInt(ticks / 2n);
      writer.addUnmixedExact(7, pcm, 0, uHigh, uLow);
    }
    const bytes = writer.finish();
    const reference = v1.Envelope.encode(
      v1.Envelope.fromObject({ frames: { frames, sentAtUs: "1764201600123456" } }),
    ).finish();
    expect(Buffer.from(bytes).equals(Buffer.from(reference))).toBe(true);

    const decoder = new EnvelopeDecoder();
    expect(decoder.decode(bytes)).toBe("frames");
    const reader = decoder.frames;
    for (const ticks of TICKS) {
      expect(reader.next()).toBe(true);
      expect(int64ToBigInt(reader.timestampTicksHigh, reader.timestampTicksLow)).toBe(ticks);
      expect(reader.timestampTicks).toBe(Number(ticks));
      expect(
        int64ToBigInt(
          reader.unmixedTimestampTicksHigh[0] as number,
          reader.unmixedTimestampTicksLow[0] as number,
        ),
      ).toBe(ticks / 2n);
    }
    expect(reader.next()).toBe(false);
    // And the generated decoder agrees (Long values, exact).
    const decoded = decodeEnvelope(bytes);
    expect((decoded.frames?.frames ?? []).map((f) => String(f.timestampTicks))).toEqual(TICKS.map(String));
  });

  it("forwarding a platform tick read from one batch into another keeps it exact (a number would not)", () => {
    const ticks = 638_999_999_999_800_001n;
    const pcm = new Uint8Array(640);
    const writer = new FrameBatchWriter();
    const [high, low] = int64FromBigInt(ticks);
    writer.begin(1);
    writer.addFrameExact(1, SOURCE, 1, high, low, pcm, 0, false);
    const decoder = new EnvelopeDecoder();
    decoder.decode(writer.finish().slice());
    const reader = decoder.frames;
    reader.next();
    const viaNumber = new FrameBatchWriter();
    viaNumber.begin(1);
    viaNumber.addFrame(1, RENDER, 1, reader.timestampTicks, pcm, 0, false);
    const viaHalves = new FrameBatchWriter();
    viaHalves.begin(1);
    viaHalves.addFrameExact(1, RENDER, 1, reader.timestampTicksHigh, reader.timestampTicksLow, pcm, 0, false);
    const timestampOf = (bytes: Uint8Array) =>
      BigInt(String(decodeEnvelope(bytes).frames?.frames?.[0]?.timestampTicks));
    expect(timestampOf(viaHalves.finish())).toBe(ticks);
    const rounded = timestampOf(viaNumber.finish());
    expect(rounded).not.toBe(ticks);
    expect(rounded - ticks).toBeLessThanOrEqual(64n);
    expect(ticks - rounded).toBeLessThanOrEqual(64n);
  });

  it("the exact calls allocate nothing per frame", async () => {
    const sessions = 200;
    const pcm = new Uint8Array(640).fill(3);
    const base = 638_999_999_999_800_000n;
    const [high, low0] = int64FromBigInt(base);
    const writer = new FrameBatchWriter();
    const decoder = new EnvelopeDecoder();
    let checksum = 0;
    const tick = (t: number) => {
      writer.begin(t + 1);
      for (let s = 0; s < sessions; s++) {
        writer.addFrameExact(s + 1, SOURCE, t, high, (low0 + t * 200_000) >>> 0, pcm, 0, false);
        writer.addUnmixedExact(9, pcm, 0, high, low0);
      }
      decoder.decode(writer.finish());
      const reader = decoder.frames;
      while (reader.next())
        checksum =
          (checksum + reader.timestampTicksLow + (reader.unmixedTimestampTicksHigh[0] as number)) | 0;
    };
    for (let t = 0; t < 200; t++) tick(t);
    const bytes = await youngBytesAllocated((attempt) => {
      for (let t = 0; t < 20; t++) tick(1000 + attempt * 20 + t);
    });
    expect(checksum).not.toBe(0);
    // A view per batch, spread over its 200 frames (the sum is kept a small integer: a
    // double in a closure variable would be boxed by the test itself).
    expect(bytes / (sessions * 20)).toBeLessThan(4);
  });
});
