import { describe, expect, it } from "vitest";
import {
  BridgeRequestError,
  type CreateSessionRequest,
  type SessionCreatedInfo,
} from "../../src/bridge/bridge-client-types.js";
import type { LoadedHandler } from "../../src/media/handler-loader.js";
import type { WorkerEvent } from "../../src/media/worker-messages.js";
import { startEngine } from "./engine-fixture.js";
import { FakeBridge } from "./fake-bridge.js";

interface HeldCreate {
  request: CreateSessionRequest;
  resolve: (info: SessionCreatedInfo) => void;
  reject: (error: Error) => void;
}

/** A bridge whose CreateSession answers wait for the test (while `held`), and which records closes. */
class HeldBridge extends FakeBridge {
  held = false;
  readonly creates: HeldCreate[] = [];
  readonly closes: number[] = [];
  /** Forces this number on every created session (a misbehaving host). */
  forcedNumber: number | undefined;

  override async createSession(request: CreateSessionRequest): Promise<SessionCreatedInfo> {
    if (this.held) return new Promise((resolve, reject) => this.creates.push({ request, resolve, reject }));
    const info = await super.createSession(request);
    return this.forcedNumber === undefined ? info : { ...info, session: this.forcedNumber };
  }

  override async closeSession(session?: number): Promise<void> {
    this.closes.push(session as number);
  }

  /** Answers a held CreateSession with the configuration FakeBridge gives every session (a resume repeats it). */
  answer(index: number, session: number, changes: Partial<SessionCreatedInfo> = {}): void {
    const held = this.creates[index] as HeldCreate;
    void super.createSession(held.request).then((info) => held.resolve({ ...info, ...changes, session }));
  }

  drop(reason: string): void {
    this.isOpen = false;
    this.emit("disconnected", { reason });
  }

  reopen(): void {
    this.isOpen = true;
    this.emit("open", {
      peer: "test host",
      protocolVersion: 1,
      capabilities: [],
      health: "normal",
      maxSessions: 0,
    });
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 5));
const params = (callId: string) => ({ callId, direction: "sendRecv" as const, unmixedAudio: false });

/** Call A, its host lost and back: the engine's resume CreateSession waits in bridge.creates[0]. */
async function resumingOneCall() {
  const events: WorkerEvent[] = [];
  const { bridge, engine } = startEngine(
    { bridge: new HeldBridge() },
    { emit: (event) => events.push(event), reconnectGraceMs: 5000 },
  );
  await engine.createSession(params("A"));
  bridge.held = true;
  bridge.drop("first drop");
  bridge.reopen();
  await settle();
  expect(bridge.creates).toHaveLength(1);
  return { bridge, engine, lost: () => events.filter((event) => event.type === "sessionLost") };
}

describe("media engine: host loss, resume and session numbers", () => {
  it("a host lost again while sessions are being resumed keeps the calls for the next grace period", async () => {
    const { bridge, engine, lost } = await resumingOneCall();
    bridge.drop("second drop");
    bridge.creates[0]?.reject(new BridgeRequestError("DISCONNECTED", "bridge disconnected: second drop"));
    await settle();
    expect(lost()).toEqual([]);
    expect(engine.sessionCount).toBe(1);
    // The host comes back once more: the call is resumed this time.
    bridge.reopen();
    await settle();
    expect(bridge.creates).toHaveLength(2);
    expect(bridge.creates[1]?.request.callId).toBe("A");
    bridge.answer(1, 1);
    await settle();
    expect(engine.sessionCount).toBe(1);
    expect(lost()).toEqual([]);
    await engine.shutdown();
  });

  it("a host that does not answer the resume (bridge still open) loses the call", async () => {
    const { bridge, engine, lost } = await resumingOneCall();
    bridge.creates[0]?.reject(
      new BridgeRequestError("TIMEOUT", "createSession got no answer within 5000 ms"),
    );
    await settle();
    expect(lost().map((event) => event.callId)).toEqual(["A"]);
    await engine.shutdown();
  });

  it("a call closed while its resume is in flight names no old number, and its late answer is closed", async () => {
    const { bridge, engine } = startEngine({ bridge: new HeldBridge() }, { reconnectGraceMs: 5000 });
    await engine.createSession(params("A")); // session 1
    await engine.createSession(params("B")); // session 2
    bridge.held = true;
    bridge.drop("drop");
    bridge.reopen();
    await settle();
    expect(bridge.creates.map((held) => held.request.callId)).toEqual(["A", "B"]);
    bridge.answer(1, 1); // the new connection numbers from 1: B is session 1 now
    await settle();
    await engine.closeSession("A", "caller hung up");
    expect(bridge.closes).toEqual([]); // not 1: that is B's session now
    bridge.answer(0, 2); // A's resume answers afterwards: the host made session 2 for nobody
    await settle();
    expect(bridge.closes).toEqual([2]);
    expect(engine.sessionCount).toBe(1);
    await engine.shutdown();
  });

  it("a clear while the host is away is not sent with the old session number", async () => {
    let clearCall: (() => void) | undefined;
    const handler: LoadedHandler = {
      name: "barge-in",
      options: undefined,
      factory: (call) => {
        clearCall = () => call.clear();
        return {};
      },
    };
    const { bridge, engine } = startEngine(
      { bridge: new HeldBridge(), handlers: [handler] },
      { reconnectGraceMs: 5000 },
    );
    await engine.createSession(params("A"));
    bridge.drop("drop");
    bridge.isOpen = true; // reconnected, resume not answered yet
    clearCall?.();
    expect(bridge.clears).toEqual([]);
    await engine.shutdown();
  });

  it("events the host sends right behind a resumed session reach the call", async () => {
    const speakers: (number | null)[] = [];
    const tones: string[] = [];
    const handler: LoadedHandler = {
      name: "listener",
      options: undefined,
      factory: () => ({
        onDominantSpeaker: (speakerId) => speakers.push(speakerId),
        onTone: (tone) => tones.push(tone),
      }),
    };
    const { bridge, engine } = startEngine(
      { bridge: new HeldBridge(), handlers: [handler] },
      { reconnectGraceMs: 5000 },
    );
    await engine.createSession(params("A"));
    bridge.held = true;
    bridge.drop("drop");
    bridge.reopen();
    await settle();
    // The host resumes the session as number 3 and, in the same read, says who speaks.
    bridge.emit("sendStatus", { session: 3, active: true });
    bridge.emit("dominantSpeaker", { session: 3, speakerId: 77 });
    bridge.emit("tone", { session: 3, tone: "5" });
    bridge.answer(0, 3);
    await settle();
    expect(speakers).toEqual([77]);
    expect(tones).toEqual(["5"]);
    await engine.shutdown();
  });

  it("a session number another call holds is refused, not taken over", async () => {
    const bridge = new HeldBridge();
    bridge.forcedNumber = 1;
    const { engine } = startEngine({ bridge });
    await engine.createSession(params("A"));
    await expect(engine.createSession(params("B"))).rejects.toThrow(
      "media host numbered a new session 1, which call A already has",
    );
    expect(engine.sessionCount).toBe(1);
    bridge.forcedNumber = 0;
    await expect(engine.createSession(params("C"))).rejects.toThrow("numbers start at 1");
    await engine.shutdown();
  });

  it("a call closed while its CreateSession is in flight is not added, and the host's session is closed", async () => {
    const { bridge, engine } = startEngine({ bridge: new HeldBridge() });
    bridge.held = true;
    const creating = engine.createSession(params("C"));
    await settle();
    await expect(engine.createSession(params("C"))).rejects.toThrow("already has a media session");
    expect(await engine.closeSession("C", "caller hung up")).toBe(true);
    bridge.answer(0, 7);
    await expect(creating).rejects.toThrow("was closed while its media session was being created");
    expect(engine.sessionCount).toBe(0);
    expect(bridge.closes).toEqual([7]);
    await engine.shutdown();
  });

  it("handlers created after their call was closed still get onEnd", async () => {
    let release: (() => void) | undefined;
    const ended: string[] = [];
    const handler: LoadedHandler = {
      name: "slow factory",
      options: undefined,
      factory: async () => {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        return { onEnd: (reason) => void ended.push(reason) };
      },
    };
    const { engine } = startEngine({ handlers: [handler] });
    const creating = engine.createSession(params("S"));
    await settle();
    await engine.closeSession("S", "caller hung up");
    release?.();
    await expect(creating).rejects.toThrow("was closed while its media session was being created");
    expect(ended).toHaveLength(1);
    await engine.shutdown();
  });

  it("a resume answered with a new session (other contexts) loses the call: closed on the host, counted, reported", async () => {
    const events: WorkerEvent[] = [];
    const { bridge, engine, metric } = startEngine(
      { bridge: new HeldBridge() },
      { emit: (event) => events.push(event), reconnectGraceMs: 5000 },
    );
    await engine.createSession(params("A"));
    await engine.createSession(params("B"));
    bridge.held = true;
    bridge.drop("host killed");
    bridge.reopen();
    await settle();
    // A restarted host: the same media session id (it takes the proposed one), new contexts.
    bridge.answer(0, 1, { audioRenderContextId: "33333333-3333-4333-8333-333333333333" });
    // A kept session, its GUIDs in upper case: the same session (GUIDs compare case-blind).
    const keptB = bridge.creates[1]?.request.mediaSessionId as string;
    bridge.answer(1, 2, {
      mediaSessionId: keptB.toUpperCase(),
      audioSourceContextId: "22222222-2222-4222-8222-222222222222".toUpperCase(),
    });
    await settle();
    const lost = events.filter((event) => event.type === "sessionLost");
    expect(lost).toEqual([
      {
        type: "sessionLost",
        callId: "A",
        reason:
          "media host did not resume the session: it answered with a new one (audioRenderContextId changed)",
      },
    ]);
    expect(bridge.closes).toEqual([1]);
    expect(engine.sessionCount).toBe(1);
    expect(await metric('media_sessions_lost_total{reason="host_new_session"}')).toBe(1);
    await engine.shutdown();
  });

  it("proposes a GUID media session id, and sends the CreateSession again after its connection dropped", async () => {
    const { bridge, engine, metric } = startEngine({ bridge: new HeldBridge() }, { reconnectGraceMs: 5000 });
    bridge.held = true;
    const creating = engine.createSession(params("N"));
    await settle();
    const first = bridge.creates[0]?.request as CreateSessionRequest;
    expect(first.mediaSessionId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    bridge.drop("cut");
    bridge.creates[0]?.reject(new BridgeRequestError("DISCONNECTED", "bridge disconnected: cut"));
    await settle();
    expect(bridge.creates).toHaveLength(1); // waits for the host
    bridge.reopen();
    await settle();
    expect(bridge.creates).toHaveLength(2);
    const retry = bridge.creates[1]?.request as CreateSessionRequest;
    expect(retry).toMatchObject({ callId: "N", mediaSessionId: first.mediaSessionId, direction: "sendRecv" });
    bridge.answer(1, 4);
    const created = await creating;
    expect(created.mediaSessionId).toBe(first.mediaSessionId);
    expect(engine.sessionCount).toBe(1);
    expect(await metric("media_session_create_retries_total")).toBe(1);
    await engine.shutdown();
  });

  it("a CreateSession whose host does not return within the grace fails with the drop", async () => {
    const { bridge, engine } = startEngine({ bridge: new HeldBridge() }, { reconnectGraceMs: 50 });
    bridge.held = true;
    const creating = engine.createSession(params("G"));
    await settle();
    bridge.drop("cut");
    bridge.creates[0]?.reject(new BridgeRequestError("DISCONNECTED", "bridge disconnected: cut"));
    await expect(creating).rejects.toThrow("bridge disconnected: cut");
    expect(bridge.creates).toHaveLength(1);
    expect(engine.sessionCount).toBe(0);
    await engine.shutdown();
  });
});
