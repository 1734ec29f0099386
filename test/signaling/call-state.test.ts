import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/log/logger.js";
import { createSignalingMetrics } from "../../src/metrics/signaling-metrics.js";
import { classifyTransition, isTransitionAllowed } from "../../src/signaling/call.js";
import { CallRegistry } from "../../src/signaling/call-registry.js";

function setup(options: { terminatedRetentionMs?: number; maxTerminated?: number } = {}) {
  const registry = new Registry();
  const metrics = createSignalingMetrics(registry);
  const calls = new CallRegistry({ logger: silentLogger(), metrics, ...options });
  return { registry, metrics, calls };
}

async function gauge(registry: Registry, state: string): Promise<number> {
  const metric = await registry.getSingleMetric("signaling_calls")?.get();
  return metric?.values.find((value) => value.labels.state === state)?.value ?? Number.NaN;
}

async function transitions(registry: Registry, from: string, to: string): Promise<number> {
  const metric = await registry.getSingleMetric("signaling_call_transitions_total")?.get();
  return metric?.values.find((value) => value.labels.from === from && value.labels.to === to)?.value ?? 0;
}

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

describe("call state machine", () => {
  it("allows the normal path and refuses leaving terminated", () => {
    expect(isTransitionAllowed("incoming", "answering")).toBe(true);
    expect(isTransitionAllowed("answering", "establishing")).toBe(true);
    expect(isTransitionAllowed("establishing", "established")).toBe(true);
    expect(isTransitionAllowed("established", "hold")).toBe(true);
    expect(isTransitionAllowed("hold", "established")).toBe(true);
    expect(isTransitionAllowed("established", "terminating")).toBe(true);
    expect(isTransitionAllowed("terminating", "terminated")).toBe(true);
    expect(isTransitionAllowed("terminated", "established")).toBe(false);
    expect(isTransitionAllowed("redirecting", "established")).toBe(false);
  });

  it("classifies out-of-order and duplicate notifications as harmless", () => {
    expect(classifyTransition("established", "establishing")).toBe("stale");
    expect(classifyTransition("established", "established")).toBe("duplicate");
    expect(classifyTransition("hold", "establishing")).toBe("stale");
    expect(classifyTransition("terminating", "established")).toBe("stale");
    expect(classifyTransition("terminated", "hold")).toBe("stale");
    expect(classifyTransition("redirecting", "established")).toBe("refused");
    // Skipping establishing (it arrives late) is a forward move.
    expect(classifyTransition("answering", "established")).toBe("applied");
  });
});

describe("call registry", () => {
  it("applies, counts and gauges transitions; ignores duplicates and stale ones", async () => {
    const { registry, calls } = setup();
    cleanup = () => calls.clear();
    const call = calls.add("c1", "incoming", "incoming", "t1");
    expect(await gauge(registry, "incoming")).toBe(1);
    expect(calls.transition(call, "answering")).toBe("applied");
    expect(calls.transition(call, "established")).toBe("applied");
    expect(calls.transition(call, "establishing")).toBe("stale");
    expect(calls.transition(call, "established")).toBe("duplicate");
    expect(call.state).toBe("established");
    expect(await gauge(registry, "incoming")).toBe(0);
    expect(await gauge(registry, "established")).toBe(1);
    expect(await transitions(registry, "answering", "established")).toBe(1);
    expect(await transitions(registry, "established", "establishing")).toBe(0);
    expect(calls.liveCount).toBe(1);
    expect(calls.countsByState().established).toBe(1);
  });

  it("records the end and wakes waiters when the last live call ends", async () => {
    const { calls } = setup();
    cleanup = () => calls.clear();
    const call = calls.add("c1", "incoming", "incoming");
    call.keepAliveTimer = setInterval(() => {}, 1000);
    const waiting = calls.waitForNoLiveCalls(5000);
    calls.transition(call, "terminated", {
      end: { resultInfo: { code: 200, subcode: 5001 }, localReason: undefined },
    });
    expect(await waiting).toBe(true);
    expect(call.keepAliveTimer).toBeUndefined();
    expect(call.end?.resultInfo).toEqual({ code: 200, subcode: 5001 });
    expect(call.endedAt).toBeTypeOf("number");
    expect(calls.liveCount).toBe(0);
    // A late notification finds the call and cannot revive it.
    expect(calls.transition(call, "established")).toBe("stale");
  });

  it("waitForNoLiveCalls times out with false", async () => {
    const { calls } = setup();
    cleanup = () => calls.clear();
    calls.add("c1", "incoming", "incoming");
    expect(await calls.waitForNoLiveCalls(20)).toBe(false);
  });

  it("forgets terminated calls after the retention time", async () => {
    const { registry, calls } = setup({ terminatedRetentionMs: 30 });
    cleanup = () => calls.clear();
    const call = calls.add("c1", "incoming", "incoming");
    calls.transition(call, "terminated");
    expect(calls.get("c1")).toBeDefined();
    expect(await gauge(registry, "terminated")).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(calls.get("c1")).toBeUndefined();
    expect(await gauge(registry, "terminated")).toBe(0);
  });

  it("keeps memory bounded: the oldest terminated calls are forgotten first", () => {
    const { calls } = setup({ maxTerminated: 3 });
    cleanup = () => calls.clear();
    for (let i = 0; i < 5; i += 1) calls.transition(calls.add(`c${i}`, "incoming", "incoming"), "terminated");
    expect(calls.snapshot().map((call) => call.callId)).toEqual(["c2", "c3", "c4"]);
  });

  it("refuses registering the same call twice", () => {
    const { calls } = setup();
    cleanup = () => calls.clear();
    calls.add("c1", "incoming", "incoming");
    expect(() => calls.add("c1", "incoming", "incoming")).toThrow(/already registered/);
  });
});
