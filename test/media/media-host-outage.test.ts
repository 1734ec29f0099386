/**
 * Media host outages against the real parts: a MediaEngine with its real BridgeClient, over
 * loopback to the media platform emulator, which keeps sessions for the reconnect grace as
 * the proto says. What the calls experience: kept (resumed), or reported lost with a reason.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BridgeClient } from "../../src/bridge/bridge-client.js";
import {
  MediaPlatformEmulator,
  type MediaPlatformEmulatorOptions,
} from "../../src/emulator/media/media-platform-emulator.js";
import { silentLogger } from "../../src/log/logger.js";
import { BridgeMediaSessionProvider } from "../../src/media/bridge-media-session-provider.js";
import { MediaEngine } from "../../src/media/media-engine.js";
import type { MediaSessionEvent } from "../../src/media/media-session-provider.js";
import type { WorkerEvent } from "../../src/media/worker-messages.js";
import { createMediaMetrics } from "../../src/metrics/media-metrics.js";
import { createRegistry } from "../../src/metrics/registry.js";
import { sendEchoHandler } from "./engine-fixture.js";
import { waitFor } from "./wait-for.js";

const SECRET = "host-outage-secret-0123456789";
const GRACE_MS = 5000;

const cleanups: (() => Promise<unknown> | undefined)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A small seeded generator in [0, 1) (a 32-bit LCG), so a trial's reconnect jitter repeats. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

async function startWorld(
  options: { random?: () => number; emulator?: Partial<MediaPlatformEmulatorOptions> } = {},
) {
  const emulator = await MediaPlatformEmulator.start({
    secret: SECRET,
    reconnectGraceMs: GRACE_MS,
    ...options.emulator,
  });
  cleanups.push(() => emulator.stop());
  const registry = createRegistry();
  const bridge = new BridgeClient({
    url: emulator.url,
    secret: SECRET,
    peer: "host-outage test",
    logger: silentLogger(),
    registry,
    reconnectGraceMs: GRACE_MS,
    random: options.random,
    pingIntervalMs: 0,
  });
  const dir = await mkdtemp(join(tmpdir(), "host-outage-"));
  const events: WorkerEvent[] = [];
  const engine = new MediaEngine({
    bridge,
    metrics: createMediaMetrics(registry),
    log: silentLogger(),
    handlers: [sendEchoHandler()],
    recordingsDir: dir,
    playoutQueueFrames: 10,
    jitterDepthFrames: 2,
    maxConcealFrames: 50,
    reconnectGraceMs: GRACE_MS,
    emit: (event) => events.push(event),
  });
  cleanups.push(async () => {
    await engine.shutdown();
    await rm(dir, { recursive: true, force: true });
  });
  engine.start();
  await waitFor(() => bridge.isOpen, 3000);
  const lost = () => events.filter((event) => event.type === "sessionLost");
  const metric = async (prefix: string) => {
    const line = (await registry.metrics()).split("\n").find((l) => l.startsWith(prefix));
    return Number(line?.split(" ").at(-1) ?? 0);
  };
  return { emulator, bridge, engine, events, lost, metric };
}

async function createCalls(engine: MediaEngine, count: number, prefix: string) {
  const created = [];
  for (let i = 0; i < count; i++)
    created.push(
      await engine.createSession({ callId: `${prefix}-${i}`, direction: "sendRecv", unmixedAudio: false }),
    );
  return created;
}

describe("media host outages (engine, bridge client, emulator, loopback)", () => {
  it("20 calls survive a host that refuses reconnects for 4 s of a 5 s grace, in every trial", async () => {
    // Seeds whose jitter under the old backoff (250 ms doubling, ±50 %, not bounded by the
    // grace) dialled before 4 s and next after 5 s (seed 2: 3.8 then 8.7 s; 6: 2.3 then
    // 5.05 s; 9: 3.0 then 6.5 s): each of them lost all 20 calls.
    for (const seed of [2, 6, 9]) {
      const world = await startWorld({ random: seeded(seed) });
      await createCalls(world.engine, 20, `refused-${seed}`);
      world.emulator.injectFault({ kind: "disconnect", refuseReconnectMs: 4000 });
      await waitFor(() => world.emulator.stats().sessionsResumed === 20 || world.lost().length > 0, 9000);
      expect(world.lost()).toEqual([]);
      expect(world.engine.sessionCount).toBe(20);
      expect(world.emulator.stats()).toMatchObject({
        sessionsResumed: 20,
        sessions: 20,
        detachedSessions: 0,
      });
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    }
  }, 60_000);

  it("a host restarted without its sessions answers with new ones: every call is reported lost, nothing resumed", async () => {
    const world = await startWorld();
    const created = await createCalls(world.engine, 20, "new");
    world.emulator.injectFault({ kind: "restart", keepSessions: false, downMs: 500 });
    await waitFor(() => world.lost().length === 20, 8000);
    for (const event of world.lost())
      expect(event).toMatchObject({
        reason: expect.stringMatching(
          /^media host did not resume the session: it answered with a new one \(audioRenderContextId, audioSourceContextId changed\)$/,
        ),
      });
    expect(world.engine.sessionCount).toBe(0);
    expect(await world.metric('media_sessions_lost_total{reason="host_new_session"}')).toBe(20);
    // The host took the proposed ids, and the new sessions no call is bound to are closed again.
    await waitFor(() => world.emulator.stats().sessions === 0, 3000);
    expect(world.emulator.stats()).toMatchObject({
      sessionsResumed: 0,
      sessionsEndedByRestart: 20,
      restarts: 1,
    });
    expect(created.every((c) => world.emulator.recording(c.callId) !== undefined)).toBe(true);
  }, 30_000);

  it("a host restarted with its sessions kept resumes every call", async () => {
    const world = await startWorld();
    await createCalls(world.engine, 20, "kept");
    world.emulator.injectFault({ kind: "restart", keepSessions: true, downMs: 500 });
    await waitFor(() => world.emulator.stats().sessionsResumed === 20 || world.lost().length > 0, 8000);
    expect(world.lost()).toEqual([]);
    expect(world.engine.sessionCount).toBe(20);
    expect(world.emulator.stats()).toMatchObject({ sessions: 20, sessionsEndedByRestart: 0, restarts: 1 });
  }, 30_000);

  it("a CreateSession whose connection drops before the answer gets its session after the reconnect, same media session id", async () => {
    const world = await startWorld({ emulator: { createSessionDelayMs: 400 } });
    let proposed: string | undefined;
    const original = world.bridge.createSession.bind(world.bridge);
    world.bridge.createSession = (request) => {
      proposed ??= request.mediaSessionId;
      return original(request);
    };
    const creating = world.engine.createSession({
      callId: "in-flight",
      direction: "sendRecv",
      unmixedAudio: false,
    });
    await waitFor(() => proposed !== undefined && world.emulator.stats().sessionsBeingCreated === 1, 2000);
    world.emulator.injectFault({ kind: "disconnect" }); // the platform is still creating it
    const created = await creating;
    expect(created.mediaSessionId).toBe(proposed);
    expect(world.engine.sessionCount).toBe(1);
    // The platform's session was kept through the drop and resumed: one session, not two.
    expect(world.emulator.stats()).toMatchObject({ sessions: 1, sessionsResumed: 1, detachedSessions: 0 });
    expect(world.emulator.session("in-flight")?.mediaSessionId).toBe(proposed);
    expect(await world.metric("media_session_create_retries_total")).toBe(1);
  }, 30_000);

  it("the media worker thread dials at short intervals during the grace (its settings reach its bridge client)", async () => {
    const emulator = await MediaPlatformEmulator.start({ secret: SECRET, reconnectGraceMs: GRACE_MS });
    cleanups.push(() => emulator.stop());
    const dir = await mkdtemp(join(tmpdir(), "host-outage-worker-"));
    const provider = await BridgeMediaSessionProvider.start({
      bridge: { url: emulator.url, secret: SECRET, reconnectGraceMs: GRACE_MS },
      media: { fqdn: "media.test", publicPort: 8445, unmixedAudio: false, recordingsDir: dir },
      logger: silentLogger(),
      workerLogLevel: "silent",
    });
    cleanups.push(async () => {
      await provider.close();
      await rm(dir, { recursive: true, force: true });
    });
    const events: MediaSessionEvent[] = [];
    provider.onEvent((event) => events.push(event));
    await provider.waitUntilConnected(3000);
    for (let i = 0; i < 5; i++)
      await provider.createSession({ callId: `worker-${i}`, direction: "sendRecv", unmixedAudio: false });
    emulator.injectFault({ kind: "disconnect", refuseReconnectMs: 2000 });
    await waitFor(() => emulator.stats().sessionsResumed === 5 || events.length > 0, 8000);
    expect(events.filter((event) => event.kind === "sessionLost")).toEqual([]);
    // Backoff alone dials at most 4 times in 2 s (the fifth at 0.125 + 0.25 + 0.5 + 1 + 2 s at
    // the least); the grace schedule about every 200 ms (about 9 refused; 5 leaves room for load).
    expect(emulator.stats().upgradesRefused).toBeGreaterThanOrEqual(5);
  }, 30_000);
});
