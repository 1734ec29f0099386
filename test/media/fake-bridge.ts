import { EventEmitter } from "node:events";
import type { CreateSessionRequest, SessionCreatedInfo } from "../../src/bridge/bridge-client-types.js";
import { EnvelopeDecoder } from "../../src/bridge/codec.js";
import { nowMicros } from "../../src/bridge/protocol.js";

export interface FakeBridgeOptions {
  /** mpUri reported for every created session. */
  mpUri?: string;
}

/**
 * Stands in for BridgeClient around a real MediaEngine (pass it as `bridge: bridge as never`):
 * creates sessions, records what the engine sends and lets the caller deliver batches.
 * Plain module (no vitest) so benchmarks can use it too; subclasses override sendFrameBatch
 * to inspect or count the engine's output instead of keeping copies.
 */
export class FakeBridge extends EventEmitter {
  isOpen = true;
  health = "normal" as const;
  /** Copies of the FrameBatch messages the engine sent (while `keep`). */
  sent: Uint8Array[] = [];
  /** Sessions the engine asked to clear, in order. */
  clears: number[] = [];
  /** False: sent batches are accepted but not kept (allocation tests). */
  keep = true;
  private next = 1;
  private readonly decoder = new EnvelopeDecoder();
  private readonly mpUri: string;

  constructor(options: FakeBridgeOptions = {}) {
    super();
    this.mpUri = options.mpUri ?? "net.tcp://media.test:8445/MediaProcessor";
  }

  connect(): void {}
  async createSession(request: CreateSessionRequest): Promise<SessionCreatedInfo> {
    const session = this.next++;
    return {
      session,
      callId: request.callId,
      // A proposed id is taken, as the protocol's hosts do.
      mediaSessionId:
        request.mediaSessionId || `00000000-0000-4000-8000-${String(session).padStart(12, "0")}`,
      mpUri: this.mpUri,
      audioRenderContextId: "11111111-1111-4111-8111-111111111111",
      audioSourceContextId: "22222222-2222-4222-8222-222222222222",
      skypeMediaBotsVersion: "1",
      mediaStackVersion: "1",
      mpVersion: "1",
      mediaConfigurationJson: "",
    };
  }
  async closeSession(_session?: number, _reason?: string): Promise<void> {}
  /** Keeps a copy (with `keep`), then gives a pooled batch back as the real bridge does once written. */
  sendFrameBatch(bytes: Uint8Array, release?: (() => void) | null): boolean {
    if (this.keep) this.sent.push(Uint8Array.from(bytes));
    release?.();
    return true;
  }
  sendClear(session: number): boolean {
    this.clears.push(session);
    return true;
  }
  async close(): Promise<void> {}
  /** Delivers an encoded Envelope{frames} the way BridgeClient does. */
  deliver(bytes: Uint8Array): void {
    // A throw rather than expect(): assertion objects would count in allocation tests.
    if (this.decoder.decode(bytes) !== "frames")
      throw new Error(`bad test batch: ${this.decoder.error?.message}`);
    this.emit("frames", this.decoder.frames, nowMicros());
  }
}
