/**
 * The engine renders a tick ahead of its deadline (Pacer.prepare) and sends it at the deadline.
 * A session closed in between must not have its frame reach the host after the close.
 */
import { describe, expect, it } from "vitest";
import { EnvelopeDecoder } from "../../src/bridge/codec.js";
import { FrameBatchWriter } from "../../src/bridge/frame-batch-writer.js";
import { nowMicros, v1 } from "../../src/bridge/protocol.js";
import { startEngine } from "./engine-fixture.js";
import { FakeBridge } from "./fake-bridge.js";
import { pcmFor } from "./frame-helpers.js";
import { ManualClock } from "./manual-clock.js";

const SOURCE = v1.MediaContext.MEDIA_CONTEXT_AUDIO_SOURCE;
const SESSIONS = 32;

/** What reached the bridge, in order: the sessions of each frame batch, and each close. */
class OrderedBridge extends FakeBridge {
  readonly events: string[] = [];
  private readonly reader = new EnvelopeDecoder();
  override sendFrameBatch(bytes: Uint8Array, release?: (() => void) | null): boolean {
    this.reader.decode(bytes);
    const sessions: number[] = [];
    while (this.reader.frames.next()) sessions.push(this.reader.frames.session);
    this.events.push(`frames ${sessions.join(",")}`);
    return super.sendFrameBatch(bytes, release);
  }
  override async closeSession(session: number): Promise<void> {
    this.events.push(`close ${session}`);
  }
}

/** A hand-driven clock with the precise sleep the pacer's lead needs. */
class SleepingManualClock extends ManualClock {
  sleep(ms: number): void {
    this.time += ms;
  }
}

describe("MediaEngine rendering ahead of the deadline", () => {
  it("sends a closed session's already rendered frame before the close, not after", async () => {
    const bridge = new OrderedBridge();
    const clock = new SleepingManualClock();
    const { engine } = startEngine({ bridge, clock }, { pacerLeadMs: 1.5 });
    for (let s = 1; s <= SESSIONS; s++) {
      await engine.createSession({ callId: `c${s}`, direction: "sendRecv", unmixedAudio: false });
      bridge.emit("sendStatus", { session: s, active: true });
    }
    bridge.events.length = 0;
    // Inside tick 1's lead: the 32nd received frame lets the engine render tick 1 ahead.
    clock.time = 18.75;
    const writer = new FrameBatchWriter();
    writer.begin(nowMicros());
    for (let s = 1; s <= SESSIONS; s++) writer.addFrame(s, SOURCE, 1, 200_000, pcmFor(1, s), 0, false);
    bridge.deliver(writer.finish());
    expect(bridge.events).toEqual([]); // rendered, not sent: the deadline has not come

    await engine.closeSession("c1", "test");
    // Sessions 1..31 had echoed when the tick was rendered (the 32nd frame triggered it).
    const rendered = Array.from({ length: SESSIONS - 1 }, (_, i) => i + 1).join(",");
    expect(bridge.events).toEqual([`frames ${rendered}`, "close 1"]);
    await engine.shutdown();
  });
});
