import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GraphEmulator } from "../../../src/emulator/graph/graph-emulator.js";
import { httpsRequest } from "../../../src/graph/https-request.js";
import type { BotReceiver } from "./bot-receiver.js";
import { startEmulatorWithBot } from "./graph-test-kit.js";

let emulator: GraphEmulator;
let bot: BotReceiver;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ emulator, bot, close } = await startEmulatorWithBot());
});
afterAll(() => close());

function control(body: unknown) {
  return httpsRequest({
    url: `${emulator.url}/emulator/calls/batch`,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    timeoutMs: 5000,
    ca: emulator.caCertPem,
  });
}

const createdCalls = () =>
  bot.received.flatMap((r) => (r.body.value ?? []).filter((n) => n.changeType === "created"));

describe("POST /emulator/calls/batch", () => {
  it("rings the bot count times at the rate, from the emulator's own timer", async () => {
    const before = createdCalls().length;
    const started = Date.now();
    const response = await control({ count: 6, ratePerSecond: 50, meeting: true });
    expect(response.status).toBe(202);
    expect(JSON.parse(response.body.toString())).toEqual({ count: 6, ratePerSecond: 50 });
    await bot.waitUntil(() => createdCalls().length >= before + 6);
    // Six calls 20 ms apart: the last is placed 100 ms after the first, not all at once.
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    const placed = createdCalls().slice(before);
    expect(new Set(placed.map((n) => n.resourceUrl)).size).toBe(6);
    // The options of a single call apply to each (a meeting invite carries chatInfo).
    expect(placed.every((n) => JSON.stringify(n.resourceData).includes("chatInfo"))).toBe(true);
    expect(emulator.calls().length).toBeGreaterThanOrEqual(6);
  });

  it("a batch of one is placed at once", async () => {
    const before = createdCalls().length;
    const response = await control({ count: 1, ratePerSecond: 1 });
    expect(response.status).toBe(202);
    await bot.waitUntil(() => createdCalls().length === before + 1);
  });

  it.each([
    [{ count: 0, ratePerSecond: 10 }, "count must be an integer from 1 to 100000"],
    [{ count: 2.5, ratePerSecond: 10 }, "count must be an integer from 1 to 100000"],
    [{ count: 5 }, "ratePerSecond must be a number above 0 and at most 10000"],
    [{ count: 5, ratePerSecond: "fast" }, "ratePerSecond must be a number above 0 and at most 10000"],
    [{ count: 5, ratePerSecond: 10, appId: "nobody" }, "no app nobody is registered"],
  ])("refuses %o with 400 and places nothing", async (body, message) => {
    const before = emulator.calls().length;
    const response = await control(body);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body.toString()).error.message).toBe(message);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(emulator.calls().length).toBe(before);
  });
});
