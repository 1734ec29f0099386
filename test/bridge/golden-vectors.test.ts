/**
 * The protocol's golden vectors (native-bridge/proto/golden/), written by the C# generated code:
 * the TypeScript side must encode each manifest `json` (proto3 JSON mapping) to exactly the
 * committed bytes, decode each `.bin` back to that JSON, and the frame fast path
 * (FrameBatchWriter / FrameBatchReader) must agree with both.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { decodeEnvelope, EnvelopeDecoder } from "../../src/bridge/codec.js";
import { FrameBatchWriter } from "../../src/bridge/frame-batch-writer.js";
import { int64FromString, int64ToBigInt } from "../../src/bridge/int64-parts.js";
import { BODY_FIELD, v1 } from "../../src/bridge/protocol.js";

const GOLDEN = path.resolve(import.meta.dirname, "../../native-bridge/proto/golden");

interface Vector {
  name: string;
  file: string;
  description: string;
  bytes: number;
  hex: string;
  json: Record<string, unknown>;
}

interface Manifest {
  messageType: string;
  protocolVersion: number;
  vectors: Vector[];
}

/** Every body case of Envelope must be covered by at least one vector. */
const BODY_CASES = Object.keys(BODY_FIELD);

/** protobufjs toObject options that give the proto3 JSON mapping the manifest uses. */
const PROTO3_JSON = { longs: String, enums: String, bytes: String, defaults: false, json: true } as const;

const manifest = JSON.parse(readFileSync(path.join(GOLDEN, "manifest.json"), "utf8")) as Manifest;

function goldenBytes(vector: Vector): Uint8Array {
  const file = path.join(GOLDEN, vector.file);
  if (!existsSync(file)) throw new Error(`golden vector ${vector.name}: ${vector.file} is missing`);
  return new Uint8Array(readFileSync(file));
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

/** proto3 JSON spells enums by name, bytes as base64; unknown enum values stay numbers. */
function toProto3Json(message: InstanceType<typeof v1.Envelope>): unknown {
  return JSON.parse(JSON.stringify(v1.Envelope.toObject(message, PROTO3_JSON)));
}

describe("golden protocol vectors", () => {
  it("the manifest describes Envelope of protocol version 1 and covers every body case", () => {
    expect(manifest.messageType).toBe("teamsbot.bridge.v1.Envelope");
    expect(manifest.protocolVersion).toBe(v1.ProtocolVersion.PROTOCOL_VERSION_CURRENT);
    expect(manifest.vectors.length).toBeGreaterThanOrEqual(BODY_CASES.length);
    const covered = new Set(manifest.vectors.flatMap((v) => Object.keys(v.json)));
    for (const body of BODY_CASES) expect(covered, `no vector has body ${body}`).toContain(body);
  });

  it("every vector's .bin exists and matches the manifest's size and hex", () => {
    for (const vector of manifest.vectors) {
      const bytes = goldenBytes(vector);
      expect(bytes.length, vector.name).toBe(vector.bytes);
      expect(hex(bytes), vector.name).toBe(vector.hex);
    }
  });

  it("no .bin in the folder is left out of the manifest", async () => {
    const { readdirSync } = await import("node:fs");
    const listed = new Set(manifest.vectors.map((v) => v.file));
    const files = readdirSync(GOLDEN).filter((f) => f.endsWith(".bin"));
    expect(files.filter((f) => !listed.has(f))).toEqual([]);
  });

  describe.each(manifest.vectors.map((v) => [v.name, v] as const))("%s", (_name, vector) => {
    it("fromObject(json) encodes to the .bin byte for byte", () => {
      const message = v1.Envelope.fromObject(vector.json);
      expect(hex(v1.Envelope.encode(message).finish())).toBe(hex(goldenBytes(vector)));
    });

    it("the .bin decodes (validated) to the json", () => {
      const envelope = decodeEnvelope(goldenBytes(vector), { maxMessageBytes: 1 << 20 });
      expect(toProto3Json(envelope)).toEqual(vector.json);
    });

    it("EnvelopeDecoder classifies it and keeps the request id", () => {
      const decoder = new EnvelopeDecoder();
      const kind = decoder.decode(goldenBytes(vector));
      expect(decoder.error).toBeNull();
      expect(kind).toBe("frames" in vector.json ? "frames" : "message");
      const requestId = vector.json.requestId;
      // request ids above 2^53 are not exact as numbers; the generated decoder keeps them (above).
      if (typeof requestId === "string" && Number(requestId) <= Number.MAX_SAFE_INTEGER) {
        expect(decoder.requestId).toBe(Number(requestId));
      }
      if (kind === "message")
        expect(decoder.body).toBe(Object.keys(vector.json).find((k) => k !== "requestId"));
    });
  });
});

interface JsonUnmixed {
  speakerId?: number;
  pcm: string;
  originalSenderTimestampTicks?: string;
}
interface JsonFrame {
  session?: number;
  context?: string;
  sequence?: number;
  timestampTicks?: string;
  pcm: string;
  isSilence?: boolean;
  activeSpeakers?: number[];
  unmixed?: JsonUnmixed[];
}
interface JsonBatch {
  frames?: JsonFrame[];
  sentAtUs?: string;
}

const frameVectors = manifest.vectors.filter((v) => "frames" in v.json);
const batchOf = (vector: Vector) => vector.json.frames as JsonBatch;
const pcmOf = (base64: string) => new Uint8Array(Buffer.from(base64, "base64"));
const contextOf = (name: string | undefined) =>
  name === undefined ? 0 : ((v1.MediaContext as unknown as Record<string, number>)[name] ?? Number.NaN);

/** 64-bit fields the number-based calls carry exactly only up to 2^53. */
function exactAsNumber(vector: Vector): boolean {
  const values = (batchOf(vector).frames ?? []).flatMap((f) => [
    f.timestampTicks,
    ...(f.unmixed ?? []).map((u) => u.originalSenderTimestampTicks),
  ]);
  values.push(batchOf(vector).sentAtUs);
  return values.every((v) => v === undefined || Number.isSafeInteger(Number(v)));
}

/**
 * Writes the batch as the media worker and the emulator do; ticks go in as exact uint32
 * halves (addFrameExact/addUnmixedExact) unless `asNumbers` (addFrame/addUnmixed).
 */
function writeWithFastPath(batch: JsonBatch, asNumbers = false): Uint8Array {
  const writer = new FrameBatchWriter({ initialCapacity: 4096 });
  writer.begin(Number(batch.sentAtUs ?? 0));
  for (const frame of batch.frames ?? []) {
    const pcm = pcmOf(frame.pcm);
    const session = frame.session ?? 0;
    const context = contextOf(frame.context);
    const sequence = frame.sequence ?? 0;
    const silence = frame.isSilence ?? false;
    const speakers = frame.activeSpeakers ?? null;
    if (asNumbers) {
      writer.addFrame(
        session,
        context,
        sequence,
        Number(frame.timestampTicks ?? 0),
        pcm,
        0,
        silence,
        speakers,
      );
    } else {
      const [high, low] = int64FromString(frame.timestampTicks ?? "0");
      writer.addFrameExact(session, context, sequence, high, low, pcm, 0, silence, speakers);
    }
    for (const u of frame.unmixed ?? []) {
      if (asNumbers) {
        writer.addUnmixed(u.speakerId ?? 0, pcmOf(u.pcm), 0, Number(u.originalSenderTimestampTicks ?? 0));
      } else {
        const [high, low] = int64FromString(u.originalSenderTimestampTicks ?? "0");
        writer.addUnmixedExact(u.speakerId ?? 0, pcmOf(u.pcm), 0, high, low);
      }
    }
  }
  return writer.finish().slice();
}

describe("golden frame vectors through the fast path", () => {
  it("there are frame vectors: source with unmixed audio, render, empty", () => {
    expect(frameVectors.map((v) => v.name).sort()).toEqual([
      "frames_empty",
      "frames_render",
      "frames_source",
    ]);
  });

  describe.each(frameVectors.map((v) => [v.name, v] as const))("%s", (_name, vector) => {
    it("FrameBatchReader reads every field the json holds", () => {
      const decoder = new EnvelopeDecoder();
      expect(decoder.decode(goldenBytes(vector))).toBe("frames");
      const reader = decoder.frames;
      const batch = batchOf(vector);
      expect(reader.invalidFrames).toEqual([]);
      expect(reader.sentAtUs).toBe(Number(batch.sentAtUs ?? 0));
      const expected = batch.frames ?? [];
      expect(reader.frameCount).toBe(expected.length);
      for (const frame of expected) {
        expect(reader.next()).toBe(true);
        expect(reader.session).toBe(frame.session ?? 0);
        expect(reader.context).toBe(contextOf(frame.context));
        expect(reader.sequence).toBe(frame.sequence ?? 0);
        // Number() rounds a value above 2^53 exactly as the reader does (correctly rounded).
        expect(reader.timestampTicks).toBe(Number(frame.timestampTicks ?? 0));
        // The halves are exact: 638999999999800000 comes back as itself, not ...799936.
        expect(String(int64ToBigInt(reader.timestampTicksHigh, reader.timestampTicksLow))).toBe(
          frame.timestampTicks ?? "0",
        );
        expect(reader.isSilence).toBe(frame.isSilence ?? false);
        expect(hex(reader.pcm())).toBe(hex(pcmOf(frame.pcm)));
        const speakers = Array.from(reader.activeSpeakers.subarray(0, reader.activeSpeakerCount));
        expect(speakers).toEqual(frame.activeSpeakers ?? []);
        const unmixed = frame.unmixed ?? [];
        expect(reader.unmixedCount).toBe(unmixed.length);
        unmixed.forEach((u, i) => {
          expect(reader.unmixedSpeakerIds[i]).toBe(u.speakerId ?? 0);
          expect(reader.unmixedTimestampTicks[i]).toBe(Number(u.originalSenderTimestampTicks ?? 0));
          expect(
            String(
              int64ToBigInt(
                reader.unmixedTimestampTicksHigh[i] as number,
                reader.unmixedTimestampTicksLow[i] as number,
              ),
            ),
          ).toBe(u.originalSenderTimestampTicks ?? "0");
          const pcm = new Uint8Array(640);
          reader.copyUnmixedPcm(i, pcm);
          expect(hex(pcm)).toBe(hex(pcmOf(u.pcm)));
        });
      }
      expect(reader.next()).toBe(false);
    });

    it("FrameBatchWriter (ticks as exact halves) writes the .bin byte for byte", () => {
      expect(hex(writeWithFastPath(batchOf(vector)))).toBe(hex(goldenBytes(vector)));
    });

    if (exactAsNumber(vector)) {
      it("FrameBatchWriter (ticks as numbers) writes the .bin byte for byte", () => {
        expect(hex(writeWithFastPath(batchOf(vector), true))).toBe(hex(goldenBytes(vector)));
      });
    } else {
      // Ticks as numbers are exact only up to 2^53: this vector's DateTime-era tick value
      // (6.39e17) is why the exact calls exist. The number calls still encode what they get.
      it("FrameBatchWriter (ticks as numbers) rounds a tick above 2^53 as the generated encoder does", () => {
        const batch = batchOf(vector);
        const rounded = JSON.parse(JSON.stringify(vector.json), (key, value) =>
          key === "timestampTicks" || key === "originalSenderTimestampTicks" || key === "sentAtUs"
            ? String(BigInt(Number(value)))
            : value,
        );
        const reference = v1.Envelope.encode(v1.Envelope.fromObject(rounded)).finish();
        expect(hex(writeWithFastPath(batch, true))).toBe(hex(reference));
        expect(hex(reference)).not.toBe(hex(goldenBytes(vector)));
      });
    }
  });
});
