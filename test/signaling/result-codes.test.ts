import { describe, expect, it } from "vitest";
import { describeResultCode, isKnownResultCode } from "../../src/signaling/result-codes.js";

describe("result codes", () => {
  it.each([
    [200, 5001, "remote", false],
    [200, 4097, "remote", false],
    [200, 7000, "bot", false],
    [200, 10550, "bot", false],
    [200, 7015, "platform", false],
    [408, 8537, "platform", true],
    [408, 1106, "platform", true],
    [408, 8544, "platform", true],
    [410, 301005, "platform", true],
    [500, 1005, "platform", true],
  ] as const)("names %i/%i", (code, subcode, endedBy, botFault) => {
    const meaning = describeResultCode(code, subcode);
    expect(isKnownResultCode(code, subcode)).toBe(true);
    expect(meaning.endedBy).toBe(endedBy);
    expect(meaning.botFault).toBe(botFault);
    expect(meaning.meaning).not.toMatch(/unrecognized/);
  });

  it("explains the keepAlive and deadline codes", () => {
    expect(describeResultCode(408, 8537).meaning).toMatch(/keepAlive/);
    expect(describeResultCode(408, 1106).meaning).toMatch(/answer/);
  });

  it("falls back on the code for unknown subcodes, flagging server-side failures", () => {
    expect(isKnownResultCode(408, 1)).toBe(false);
    expect(describeResultCode(408, 1)).toEqual({
      meaning: "timed out (unrecognized subcode 1)",
      endedBy: "unknown",
      botFault: true,
    });
    expect(describeResultCode(200, 42).botFault).toBe(false);
    expect(describeResultCode(999, 1).meaning).toBe("unrecognized result 999/1");
  });
});
