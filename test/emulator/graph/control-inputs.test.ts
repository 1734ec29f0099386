import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GraphEmulator } from "../../../src/emulator/graph/graph-emulator.js";
import { httpsRequest } from "../../../src/graph/https-request.js";
import { startEmulatorWithBot } from "./graph-test-kit.js";

let emulator: GraphEmulator;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ emulator, close } = await startEmulatorWithBot());
});
afterAll(() => close());

async function control(path: string, body: unknown): Promise<{ status: number; message?: string }> {
  const response = await httpsRequest({
    url: `${emulator.url}/emulator${path}`,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    timeoutMs: 5000,
    ca: emulator.caCertPem,
  });
  const parsed = JSON.parse(response.body.toString() || "{}") as { error?: { message?: string } };
  return { status: response.status, message: parsed.error?.message };
}

describe("Graph emulator control inputs are checked, not coerced", () => {
  it.each([
    [{ drop: "3" }, 'drop must be an integer in [0, 10000], got "3"'],
    [{ drop: 2.5 }, "drop must be an integer in [0, 10000], got 2.5"],
    [{ duplicate: -1 }, "duplicate must be an integer in [0, 10000], got -1"],
    [{ drop: 1, reorderPair: "yes" }, 'reorderPair must be true or false, got "yes"'],
  ])("notification-faults %o: 400 naming the field, nothing applied", async (body, message) => {
    expect(await control("/notification-faults", body)).toEqual({ status: 400, message });
  });

  it("prompt-files needs {uri, path} as strings", async () => {
    expect(await control("/prompt-files", { uri: "https://cdn.contoso.com/a.wav" })).toEqual({
      status: 400,
      message: "prompt-files needs {uri, path}, both strings",
    });
    expect(
      (await control("/prompt-files", { uri: "https://cdn.contoso.com/a.wav", path: "/tmp/a.wav" })).status,
    ).toBe(200);
  });

  it("notification-faults with valid counts is accepted", async () => {
    expect(
      (await control("/notification-faults", { drop: 0, duplicate: 0, reorderPair: false })).status,
    ).toBe(200);
  });

  it.each([
    [
      { state: "established", timeoutMs: "abc" },
      'timeoutMs must be a number of ms in [0, 2147483647], got "abc"',
    ],
    [
      { state: "established", timeoutMs: 1e12 },
      "timeoutMs must be a number of ms in [0, 2147483647], got 1000000000000",
    ],
    [{ timeoutMs: 10 }, "missing state"],
  ])("calls/:id/wait %o: 400 naming the field", async (body, message) => {
    expect(await control("/calls/no-such-call/wait", body)).toEqual({ status: 400, message });
  });
});
