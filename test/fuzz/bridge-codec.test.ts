/**
 * Fuzzing the bridge decoder (EnvelopeDecoder, FrameBatchReader, decodeEnvelope) with random
 * bytes, protobuf-shaped bytes and mutated golden vectors: every input decodes to a valid
 * message or is refused with a BridgeProtocolError carrying a known reason; nothing else is
 * thrown, and a refused input leaves the decoder usable for the next message.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BridgeProtocolError } from "../../src/bridge/bridge-protocol-error.js";
import { type DecodeKind, decodeEnvelope, EnvelopeDecoder } from "../../src/bridge/codec.js";
import { BODY_FIELD, PCM_FRAME_BYTES } from "../../src/bridge/protocol.js";
import { fuzz, mutatedBytes, timeoutFor } from "./fuzz-runner.js";
import { goldenEnvelopes } from "./golden-envelopes.js";
import { protobufBytes } from "./protobuf-arbitraries.js";

/** Every BridgeProtocolReason a decoder may give (the others are the client's own). */
const DECODER_REASONS = new Set([
  "truncated",
  "bad_wire_type",
  "missing_body",
  "bad_pcm_length",
  "too_many_unmixed",
  "zero_session",
  "oversized",
  "invalid_message",
]);

const golden = goldenEnvelopes();
const goldenBytes = golden.map((vector) => vector.bytes);
const anyBytes = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.uint8Array({ maxLength: 2048 }),
  protobufBytes(),
  mutatedBytes(goldenBytes),
);

function expectPreciseError(error: unknown): asserts error is BridgeProtocolError {
  expect(error).toBeInstanceOf(BridgeProtocolError);
  const refused = error as BridgeProtocolError;
  expect(DECODER_REASONS.has(refused.reason), `reason ${refused.reason}`).toBe(true);
  expect(refused.message).toMatch(new RegExp(`^bridge protocol error \\(${refused.reason}\\): \\S`));
}

/** Walks what decode() said, as the bridge client and the media engine would. */
function checkDecoded(decoder: EnvelopeDecoder, kind: DecodeKind): void {
  switch (kind) {
    case "error":
      expectPreciseError(decoder.error);
      return;
    case "unknown":
      expect(decoder.unknownField).toBeGreaterThan(Math.max(...Object.values(BODY_FIELD)));
      return;
    case "message":
      expect(decoder.error).toBeNull();
      expect(decoder.envelope?.body).toBe(decoder.body);
      expect(decoder.body).not.toBeNull();
      return;
    case "frames": {
      const reader = decoder.frames;
      expect(reader.error).toBeNull();
      for (const invalid of reader.invalidFrames) {
        expect(DECODER_REASONS.has(invalid.reason), invalid.reason).toBe(true);
        expect(invalid.message).not.toBe("");
      }
      const pcm = new Uint8Array(PCM_FRAME_BYTES);
      let frames = 0;
      while (reader.next()) {
        frames += 1;
        expect(reader.session).toBeGreaterThan(0);
        expect(reader.pcmOffset + PCM_FRAME_BYTES).toBeLessThanOrEqual(reader.buffer.length);
        reader.copyPcm(pcm);
        for (let u = 0; u < reader.unmixedCount; u++) reader.copyUnmixedPcm(u, pcm);
      }
      expect(frames).toBe(reader.frameCount);
      return;
    }
  }
}

describe("fuzz: bridge decoder", () => {
  it(
    "EnvelopeDecoder.decode never throws: a valid message or a BridgeProtocolError with a reason",
    () => {
      const decoder = new EnvelopeDecoder({ maxMessageBytes: 4096 });
      fuzz("bridge EnvelopeDecoder.decode", 2000, anyBytes, (bytes) => {
        checkDecoded(decoder, decoder.decode(bytes));
      });
    },
    timeoutFor(2000, 20_000),
  );

  it(
    "decodeEnvelope returns an Envelope or throws a BridgeProtocolError, nothing else",
    () => {
      fuzz("bridge decodeEnvelope", 2000, anyBytes, (bytes) => {
        let envelope: ReturnType<typeof decodeEnvelope>;
        try {
          envelope = decodeEnvelope(bytes, { maxMessageBytes: 4096 });
        } catch (error) {
          expectPreciseError(error);
          return;
        }
        // Outside the try: a failed check here must not be taken for the decoder's error.
        expect(envelope.body).toBeTruthy();
      });
    },
    timeoutFor(2000, 20_000),
  );

  it(
    "a refused message leaves the decoder as good as new: the next golden vector decodes the same",
    () => {
      const decoder = new EnvelopeDecoder();
      const fresh = new EnvelopeDecoder();
      fuzz(
        "bridge decoder state after refused input",
        1000,
        fc.tuple(anyBytes, fc.constantFrom(...golden)),
        ([noise, vector]) => {
          decoder.decode(noise);
          const kind = decoder.decode(vector.bytes);
          expect(kind).toBe(fresh.decode(vector.bytes));
          expect(decoder.requestId).toBe(fresh.requestId);
          expect(decoder.body).toBe(fresh.body);
          expect(decoder.error).toBeNull();
          if (kind === "frames") {
            expect(decoder.frames.frameCount).toBe(fresh.frames.frameCount);
            expect(decoder.frames.invalidFrames).toEqual(fresh.frames.invalidFrames);
          }
        },
      );
    },
    timeoutFor(1000, 20_000),
  );
});
