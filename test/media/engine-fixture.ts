import { silentLogger } from "../../src/log/logger.js";
import type { CallHandler, MediaCall } from "../../src/media/bot-api.js";
import type { LoadedHandler } from "../../src/media/handler-loader.js";
import { MediaEngine, type MediaEngineOptions } from "../../src/media/media-engine.js";
import type { PacerClock } from "../../src/media/pacer.js";
import { createMediaMetrics } from "../../src/metrics/media-metrics.js";
import { createRegistry } from "../../src/metrics/registry.js";
import { FakeBridge } from "./fake-bridge.js";
import { ManualClock } from "./manual-clock.js";

/** A handler that sends back every frame it hears as buffered audio (`send`, not `sendLive`). */
export function sendEchoHandler(): LoadedHandler {
  return {
    name: "echo",
    factory: (call: MediaCall): CallHandler => ({
      onAudio(frame) {
        call.send(frame.pcm);
      },
    }),
    options: undefined,
  };
}

/**
 * A started MediaEngine over a fake bridge and a hand-driven clock, with the settings the
 * engine tests share (10-frame queues, jitter depth 2); `overrides` changes any option.
 * `metric(prefix)` reads the value of the first exposition line starting with prefix.
 * Plain module (no vitest import): bench:frames builds its engine with it too.
 */
export function startEngine<B extends FakeBridge = FakeBridge, C extends PacerClock = ManualClock>(
  setup: { bridge?: B; clock?: C; handlers?: LoadedHandler[] } = {},
  overrides: Partial<MediaEngineOptions> = {},
) {
  const bridge = setup.bridge ?? (new FakeBridge() as B);
  const clock = setup.clock ?? (new ManualClock() as unknown as C);
  const registry = createRegistry();
  const engine = new MediaEngine({
    bridge: bridge as never,
    metrics: createMediaMetrics(registry),
    log: silentLogger(),
    handlers: setup.handlers ?? [sendEchoHandler()],
    recordingsDir: "/nonexistent",
    playoutQueueFrames: 10,
    jitterDepthFrames: 2,
    maxConcealFrames: 50,
    reconnectGraceMs: 1000,
    emit: () => {},
    clock,
    ...overrides,
  });
  engine.start();
  const metric = async (prefix: string) => {
    const line = (await registry.metrics()).split("\n").find((l) => l.startsWith(prefix));
    return Number(line?.split(" ").at(-1));
  };
  return { bridge, clock, engine, registry, metric };
}
