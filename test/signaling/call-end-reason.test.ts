import { describe, expect, it } from "vitest";
import { callEndReasonOf } from "../../src/signaling/call-end-reason.js";

const ended = (code: number, subcode: number) => ({ code, subcode });

describe("callEndReasonOf (shared-16 mapping of Graph's call end reason codes)", () => {
  it.each([
    [200, 5000, true, "removed"],
    [200, 5300, false, "removed"],
    [200, 5855, true, "lobbyTimeout"],
    [200, 5001, true, "meetingEnded"],
    [200, 5030, true, "meetingEnded"],
    [200, 5001, false, "remoteEnded"],
    [200, 4097, false, "remoteEnded"],
    [200, 4521, false, "remoteEnded"],
    [200, 18503, false, "remoteEnded"],
    [200, 7000, true, "hungUp"],
    [200, 10550, false, "hungUp"],
    [603, 0, false, "declined"],
    [486, 0, false, "busy"],
    [480, 10037, false, "unreachable"],
    [480, 10199, false, "unreachable"],
    [408, 10057, false, "unreachable"],
    [408, 1106, false, "failed"],
    [200, 7015, true, "transferred"],
    [200, 7015, false, "transferred"],
    [500, 0, true, "failed"],
  ] as const)("%i/%i (meeting %s) -> %s", (code, subcode, meeting, reason) => {
    expect(callEndReasonOf(ended(code, subcode), meeting)).toBe(reason);
  });

  it("no resultInfo (ended locally) is failed", () => {
    expect(callEndReasonOf(undefined, true)).toBe("failed");
  });
});
