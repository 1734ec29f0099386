import { describe, expect, it } from "vitest";
import { decideIncomingCall, type IncomingCallFacts } from "../../src/signaling/call-policy.js";

const FREE: IncomingCallFacts = {
  liveCalls: 0,
  maxCalls: 2,
  allowedTenants: [],
  mediaUnavailable: null,
  mediaHostWait: "possible",
  shuttingDown: false,
};

describe("incoming call policy", () => {
  it("a service-hosted call ignores the media host but not the tenant, shutdown or capacity", () => {
    const serviceHosted = { ...FREE, serviceHosted: true, mediaUnavailable: "disconnected" } as const;
    expect(decideIncomingCall(serviceHosted)).toEqual({ action: "answer" });
    expect(decideIncomingCall({ ...serviceHosted, mediaUnavailable: "overloaded" })).toEqual({
      action: "answer",
    });
    expect(decideIncomingCall({ ...serviceHosted, liveCalls: 2 })).toMatchObject({ why: "capacity" });
    expect(decideIncomingCall({ ...serviceHosted, shuttingDown: true })).toMatchObject({
      why: "shutting_down",
    });
    expect(
      decideIncomingCall({ ...serviceHosted, allowedTenants: ["72f988bf-86f1-41af-91ab-2d7cd011db47"] }),
    ).toMatchObject({ why: "tenant_not_allowed" });
  });

  it("holds a call only for a disconnected media host, while it may wait", () => {
    const disconnected = { ...FREE, mediaUnavailable: "disconnected" } as const;
    expect(decideIncomingCall(disconnected)).toEqual({ action: "waitForMediaHost" });
    expect(decideIncomingCall({ ...disconnected, mediaHostWait: "expired" })).toEqual({
      action: "reject",
      reason: "busy",
      why: "media_host_unreachable",
    });
    expect(decideIncomingCall({ ...disconnected, mediaHostWait: "none" })).toMatchObject({
      why: "media_unavailable",
    });
  });

  it("rejects at once for every other reason, a disconnected host notwithstanding", () => {
    for (const reason of ["overloaded", "heavilyLoaded", "capacity"] as const)
      expect(decideIncomingCall({ ...FREE, mediaUnavailable: reason })).toMatchObject({
        action: "reject",
        why: "media_unavailable",
      });
    const disconnected = { ...FREE, mediaUnavailable: "disconnected" } as const;
    // Calls already held count: a flood during an outage is turned away beyond maxCalls.
    expect(decideIncomingCall({ ...disconnected, liveCalls: 2 })).toMatchObject({ why: "capacity" });
    expect(decideIncomingCall({ ...disconnected, shuttingDown: true })).toMatchObject({
      why: "shutting_down",
    });
  });

  it("redirects at capacity when a redirect target is configured; nothing else is redirected", () => {
    expect(decideIncomingCall({ ...FREE, liveCalls: 2, canRedirect: true })).toEqual({
      action: "redirect",
      why: "capacity",
    });
    expect(decideIncomingCall({ ...FREE, liveCalls: 2, canRedirect: false })).toMatchObject({
      why: "capacity",
    });
    expect(decideIncomingCall({ ...FREE, canRedirect: true, mediaUnavailable: "overloaded" })).toMatchObject({
      action: "reject",
    });
    expect(decideIncomingCall({ ...FREE, canRedirect: true, shuttingDown: true })).toMatchObject({
      action: "reject",
    });
  });

  it("answers when nothing stands in the way, whatever the wait", () => {
    for (const mediaHostWait of ["possible", "none", "expired"] as const)
      expect(decideIncomingCall({ ...FREE, mediaHostWait })).toEqual({ action: "answer" });
  });
});
