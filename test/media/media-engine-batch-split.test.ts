/**
 * The media worker sends one render FrameBatch per tick across sessions; above the protocol's
 * 256 KiB (about 390 sessions) it goes out as several messages, and a batch the host's
 * messages were refused in is counted frame by frame.
 */
import { describe, expect, it } from "vitest";
import { BridgeProtocolError } from "../../src/bridge/bridge-protocol-error.js";
import { EnvelopeDecoder } from "../../src/bridge/codec.js";
import { FrameBatchWriter } from "../../src/bridge/frame-batch-writer.js";
import { MAX_FRAME_BATCH_BYTES, nowMicros, v1 } from "../../src/bridge/protocol.js";
import { startEngine } from "./engine-fixture.js";
import { pcmFor } from "./frame-helpers.js";

const SOURCE = v1.MediaContext.MEDIA_CONTEXT_AUDIO_SOURCE;
const RENDER = v1.MediaContext.MEDIA_CONTEXT_AUDIO_RENDER;

describe("MediaEngine render batches above the protocol's FrameBatch limit", () => {
  it("500 sessions' render frames of one tick go out as two messages of at most 256 KiB, each frame once", async () => {
    const { bridge, engine, clock, metric } = startEngine();
    const sessions = 500;
    for (let s = 1; s <= sessions; s++) {
      await engine.createSession({ callId: `c${s}`, direction: "sendRecv", unmixedAudio: false });
      bridge.emit("sendStatus", { session: s, active: true });
    }
    // One received frame per session (a host message under the 1 MiB receive limit).
    const writer = new FrameBatchWriter();
    writer.begin(nowMicros());
    for (let s = 1; s <= sessions; s++) writer.addFrame(s, SOURCE, 1, 200_000, pcmFor(1, s), 0, false);
    bridge.deliver(writer.finish());
    clock.tick();
    clock.tick();
    expect(bridge.sent.length).toBe(2);
    const decoder = new EnvelopeDecoder();
    const seen: number[] = [];
    for (const bytes of bridge.sent) {
      expect(bytes.length).toBeLessThanOrEqual(MAX_FRAME_BATCH_BYTES);
      expect(decoder.decode(bytes)).toBe("frames");
      const reader = decoder.frames;
      while (reader.next()) {
        expect(reader.context).toBe(RENDER);
        expect(Buffer.from(reader.pcm()).equals(Buffer.from(pcmFor(1, reader.session)))).toBe(true);
        seen.push(reader.session);
      }
    }
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: sessions }, (_, i) => i + 1));
    expect(await metric("media_frames_sent_total")).toBe(sessions);
    await engine.shutdown();
  });

  it("a refused host batch counts the frames it carried; a refused control message none", async () => {
    const { bridge, engine, metric } = startEngine();
    const error = new BridgeProtocolError(
      "oversized",
      "message of 1200000 bytes exceeds the maximum of 1048576",
    );
    error.framesLost = 1800;
    bridge.emit("protocolError", error);
    expect(await metric('media_frames_dropped_total{reason="malformed"}')).toBe(1800);
    // A refusal that lost no known frame (a control message, a message cut before its frames)
    // is no dropped audio: the bridge counts it in bridge_protocol_errors_total, and frames it
    // may have carried show up as a sequence gap (lost and concealed).
    bridge.emit("protocolError", new BridgeProtocolError("truncated", "message truncated at byte 3"));
    bridge.emit("protocolError", new BridgeProtocolError("invalid_message", "a second HelloAck"));
    expect(await metric('media_frames_dropped_total{reason="malformed"}')).toBe(1800);
    await engine.shutdown();
  });
});
