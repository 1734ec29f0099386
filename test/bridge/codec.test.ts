import { describe, expect, it } from "vitest";
import { BridgeProtocolError } from "../../src/bridge/bridge-protocol-error.js";
import { decodeEnvelope, EnvelopeDecoder, encodeEnvelope } from "../../src/bridge/codec.js";
import { BODY_FIELD, type EnvelopeBody, type pb, v1 } from "../../src/bridge/protocol.js";

const pcm = (seed: number) => Uint8Array.from({ length: 640 }, (_, i) => (i * 7 + seed) & 0xff);

/** One sample of every Envelope body, as plain objects the generated code accepts. */
const SAMPLES: Record<EnvelopeBody, pb.IEnvelope> = {
  hello: { hello: { protocolVersion: 1, peer: "worker", capabilities: ["unmixed-audio"] } },
  helloAck: {
    helloAck: {
      protocolVersion: 1,
      peer: "host",
      capabilities: ["playout-marks"],
      health: 1,
      maxSessions: 50,
    },
  },
  health: { health: { previous: 1, current: 2 } },
  createSession: {
    requestId: 7,
    createSession: { callId: "call-1", mediaSessionId: "m", direction: 1, format: 1, unmixedAudio: true },
  },
  sessionCreated: {
    requestId: 7,
    sessionCreated: {
      session: 3,
      callId: "call-1",
      mediaSessionId: "5b0c1e8e-0000-4000-8000-000000000001",
      mpUri: "net.tcp://media.example.com:8445/MediaProcessor",
      audioRenderContextId: "r",
      audioSourceContextId: "s",
      skypeMediaBotsVersion: "1",
      mediaStackVersion: "2",
      mpVersion: "3",
      mediaConfigurationJson: "{}",
    },
  },
  closeSession: { requestId: 8, closeSession: { session: 3, reason: "hang up" } },
  sessionClosed: { requestId: 8, sessionClosed: { session: 3, callId: "call-1", reason: "closed" } },
  frames: {
    frames: {
      sentAtUs: 1_700_000_000_000_000,
      frames: [
        {
          session: 3,
          context: 1,
          sequence: 9,
          timestampTicks: 638_000_000_000_000,
          pcm: pcm(1),
          isSilence: true,
          activeSpeakers: [10, 20],
          unmixed: [{ speakerId: 10, pcm: pcm(2), originalSenderTimestampTicks: 5 }],
        },
      ],
    },
  },
  sendStatus: { sendStatus: { session: 3, status: 1 } },
  dominantSpeaker: { dominantSpeaker: { session: 3, speakerId: 0xffffffff } },
  tone: { tone: { session: 3, tone: 11, timestampTicks: 12345 } },
  mark: { mark: { session: 3, name: "greeting-end" } },
  markPlayed: { markPlayed: { session: 3, name: "greeting-end", played: true } },
  clear: { clear: { session: 3 } },
  ping: { ping: { id: 99, sentAtUs: 1_700_000_000_000_001 } },
  pong: { pong: { id: 99, pingSentAtUs: 1_700_000_000_000_001, repliedAtUs: 1_700_000_000_000_500 } },
  error: { requestId: 7, error: { code: 4, message: "full", session: 0 } },
};

function plain(envelope: pb.Envelope): Record<string, unknown> {
  return v1.Envelope.toObject(envelope, {
    longs: Number,
    bytes: Array,
    defaults: false,
    oneofs: false,
  }) as Record<string, unknown>;
}

describe("codec round trip", () => {
  it.each(Object.keys(BODY_FIELD) as EnvelopeBody[])("%s survives encode/decode", (body) => {
    const sample = SAMPLES[body];
    const bytes = encodeEnvelope(sample);
    const decoded = decodeEnvelope(bytes);
    expect(decoded.body).toBe(body);
    expect(plain(decoded)).toEqual(plain(v1.Envelope.fromObject(sample)));

    const decoder = new EnvelopeDecoder();
    const kind = decoder.decode(bytes);
    expect(decoder.requestId).toBe(Number(sample.requestId ?? 0));
    if (body === "frames") {
      expect(kind).toBe("frames");
      expect(decoder.frames.frameCount).toBe(1);
      expect(decoder.frames.sentAtUs).toBe(1_700_000_000_000_000);
    } else {
      expect(kind).toBe("message");
      expect(decoder.body).toBe(body);
    }
  });
});

function reasonOf(bytes: Uint8Array, max?: number): string {
  const decoder = new EnvelopeDecoder(max === undefined ? {} : { maxMessageBytes: max });
  const kind = decoder.decode(bytes);
  if (kind !== "error") return kind;
  expect(decoder.error).toBeInstanceOf(BridgeProtocolError);
  return decoder.error?.reason ?? "?";
}

function frameEnvelope(frame: pb.IAudioFrame, extra: pb.IAudioFrame[] = []): Uint8Array {
  return encodeEnvelope({ frames: { frames: [frame, ...extra], sentAtUs: 1 } });
}

describe("codec refuses bad messages with the right reason", () => {
  it("truncated messages, at every cut of a control message", () => {
    const bytes = encodeEnvelope(SAMPLES.sessionCreated);
    for (let cut = 1; cut < bytes.length; cut++) {
      const reason = reasonOf(bytes.subarray(0, cut));
      // A cut right after request_id leaves a valid envelope without body.
      expect(["truncated", "missing_body"]).toContain(reason);
    }
    expect(reasonOf(bytes.subarray(0, bytes.length - 1))).toBe("truncated");
  });

  it("truncated frame batch", () => {
    const bytes = frameEnvelope(SAMPLES.frames.frames?.frames?.[0] as pb.IAudioFrame);
    expect(reasonOf(bytes.subarray(0, bytes.length - 3))).toBe("truncated");
    expect(() => decodeEnvelope(bytes.subarray(0, 100))).toThrow(/truncated/);
  });

  it("unknown wire types (3, 4, 6, 7) and a zero field number", () => {
    for (const wireType of [3, 4, 6, 7]) {
      expect(reasonOf(Uint8Array.from([(20 << 3) | wireType, 0]))).toBe("bad_wire_type");
    }
    expect(reasonOf(Uint8Array.from([0x00, 0x01]))).toBe("bad_wire_type");
    // A body field with the wrong wire type.
    expect(reasonOf(Uint8Array.from([(BODY_FIELD.ping << 3) | 0, 1]))).toBe("bad_wire_type");
    // A varint longer than 10 bytes.
    expect(reasonOf(Uint8Array.from([0x08, ...new Array(11).fill(0xff), 0x01]))).toBe("bad_wire_type");
  });

  it("missing body", () => {
    expect(reasonOf(new Uint8Array(0))).toBe("missing_body");
    expect(reasonOf(encodeEnvelope({ requestId: 5 }))).toBe("missing_body");
  });

  it("an unknown body is reported as unknown, not as an error (rule 5)", () => {
    // field 40, length-delimited, 2 bytes of content.
    const decoder = new EnvelopeDecoder();
    expect(decoder.decode(Uint8Array.from([0xc2, 0x02, 0x02, 0x08, 0x01]))).toBe("unknown");
    expect(decoder.unknownField).toBe(40);
  });

  it("unknown fields inside known messages are skipped (rule 3)", () => {
    const ping = encodeEnvelope(SAMPLES.ping);
    // Append field 30 (varint) and field 31 (fixed32) to the envelope.
    const bytes = Uint8Array.from([...ping, 0xf0, 0x01, 0x05, 0xfd, 0x01, 1, 2, 3, 4]);
    const decoder = new EnvelopeDecoder();
    expect(decoder.decode(bytes)).toBe("message");
    expect(decoder.body).toBe("ping");
  });

  it("frame pcm that is not 640 bytes", () => {
    expect(() => decodeEnvelope(frameEnvelope({ session: 1, pcm: new Uint8Array(639) }))).toThrow(
      expect.objectContaining({ reason: "bad_pcm_length", session: 1 }),
    );
    expect(() => decodeEnvelope(frameEnvelope({ session: 1 }))).toThrow(/bad_pcm_length/);
    expect(() =>
      decodeEnvelope(
        frameEnvelope({ session: 1, pcm: pcm(0), unmixed: [{ speakerId: 1, pcm: new Uint8Array(641) }] }),
      ),
    ).toThrow(/bad_pcm_length/);
  });

  it("more than four unmixed buffers", () => {
    const unmixed = [1, 2, 3, 4, 5].map((speakerId) => ({ speakerId, pcm: pcm(speakerId) }));
    expect(() => decodeEnvelope(frameEnvelope({ session: 2, pcm: pcm(0), unmixed }))).toThrow(
      expect.objectContaining({ reason: "too_many_unmixed" }),
    );
    expect(
      decodeEnvelope(frameEnvelope({ session: 2, pcm: pcm(0), unmixed: unmixed.slice(0, 4) })).body,
    ).toBe("frames");
  });

  it("session 0 on a frame and on session messages", () => {
    expect(() => decodeEnvelope(frameEnvelope({ pcm: pcm(0) }))).toThrow(/zero_session/);
    expect(reasonOf(encodeEnvelope({ sendStatus: { session: 0, status: 1 } }))).toBe("zero_session");
    expect(reasonOf(encodeEnvelope({ mark: { name: "x" } }))).toBe("zero_session");
  });

  it("invalid control content", () => {
    expect(reasonOf(encodeEnvelope({ hello: { peer: "no version" } }))).toBe("invalid_message");
    expect(reasonOf(encodeEnvelope({ createSession: { direction: 1 } }))).toBe("invalid_message");
    expect(reasonOf(encodeEnvelope({ mark: { session: 1 } }))).toBe("invalid_message");
  });

  it("oversized messages", () => {
    const bytes = encodeEnvelope(SAMPLES.frames);
    expect(reasonOf(bytes, bytes.length - 1)).toBe("oversized");
    expect(reasonOf(bytes, bytes.length)).toBe("frames");
    expect(() => decodeEnvelope(bytes, { maxMessageBytes: 100 })).toThrow(/oversized/);
  });

  it("a bad frame costs only that frame; the batch's other sessions keep theirs", () => {
    const good = (session: number): pb.IAudioFrame => ({
      session,
      context: 1,
      sequence: session,
      pcm: pcm(session),
    });
    const bytes = frameEnvelope(good(1), [
      { session: 2, pcm: new Uint8Array(10) },
      good(3),
      { session: 0, pcm: pcm(0) },
      good(4),
    ]);
    const decoder = new EnvelopeDecoder();
    expect(decoder.decode(bytes)).toBe("frames");
    const reader = decoder.frames;
    expect(reader.frameCount).toBe(3);
    expect(reader.invalidFrames.map((f) => [f.reason, f.session])).toEqual([
      ["bad_pcm_length", 2],
      ["zero_session", 0],
    ]);
    const sessions: number[] = [];
    while (reader.next()) sessions.push(reader.session);
    expect(sessions).toEqual([1, 3, 4]);
    // The decoder carries on with the next message.
    expect(decoder.decode(encodeEnvelope(SAMPLES.ping))).toBe("message");
  });
});
