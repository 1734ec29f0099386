import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../src/log/logger.js";
import { createSignalingMetrics } from "../../src/metrics/signaling-metrics.js";
import { HeldNotifications } from "../../src/signaling/held-notifications.js";
import type { SignalingEvent } from "../../src/signaling/notification-parser.js";

function setup(maxHeld = 3) {
  const registry = new Registry();
  const metrics = createSignalingMetrics(registry);
  const held = new HeldNotifications({ metrics, logger: silentLogger(), maxHeld });
  const count = async (outcome: string) =>
    (await metrics.heldNotifications.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
  return { held, count };
}

const state = (callId: string, s: "establishing" | "established"): SignalingEvent => ({
  kind: "callState",
  callId,
  state: s,
  rawState: s,
});

describe("HeldNotifications", () => {
  it("holds nothing while no createCall is in flight", () => {
    const { held } = setup();
    expect(held.hold(state("a", "establishing"))).toBe(false);
  });

  it("gives back one call's events in arrival order, leaving the others", async () => {
    const { held, count } = setup();
    held.begin();
    held.begin();
    expect(held.hold(state("a", "establishing"))).toBe(true);
    expect(held.hold(state("b", "establishing"))).toBe(true);
    expect(held.hold(state("a", "established"))).toBe(true);
    expect(held.take("a")).toEqual([state("a", "establishing"), state("a", "established")]);
    expect(await count("replayed")).toBe(2);
    held.end();
    expect(held.take("b")).toEqual([state("b", "establishing")]);
  });

  it("is bounded: beyond maxHeld a notification is not held and counted as overflow", async () => {
    const { held, count } = setup(2);
    held.begin();
    expect(held.hold(state("a", "establishing"))).toBe(true);
    expect(held.hold(state("b", "establishing"))).toBe(true);
    expect(held.hold(state("c", "establishing"))).toBe(false);
    expect(await count("overflow")).toBe(1);
  });

  it("drops what no 201 named once no createCall is in flight", async () => {
    const { held, count } = setup();
    held.begin();
    held.hold(state("stranger", "establishing"));
    held.end();
    expect(await count("dropped")).toBe(1);
    expect(held.take("stranger")).toEqual([]);
  });

  it("discards a call's events as dropped (not replayed) when its placing failed", async () => {
    const { held, count } = setup();
    held.begin();
    held.hold(state("failed", "establishing"));
    held.hold(state("other", "establishing"));
    held.discard("failed");
    expect(await count("dropped")).toBe(1);
    expect(await count("replayed")).toBe(0);
    expect(held.take("failed")).toEqual([]);
    expect(held.take("other")).toEqual([state("other", "establishing")]);
  });
});
