import { describe, expect, it } from "vitest";
import {
  CALLS_API_REFUSAL_STATUS,
  CallsApiRefusal,
  type CallsApiRefusalReason,
} from "../../src/control/calls-api-refusal.js";
import { GraphError } from "../../src/graph/graph-error.js";
import { MeetingJoinUrlError } from "../../src/graph/meeting-join-url.js";
import { rawRequest } from "../signaling/helpers/service-harness.js";
import { CONTROL_TOKEN, callsApiServerPerTest } from "./calls-api-server.js";

const startServer = callsApiServerPerTest();

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const USER = "8b081ef6-4792-4def-b2c9-c363a1bf41d5";
const ORGANIZER = "5810cede-f3cc-42eb-b2c1-e9bd5d53ec96";
const THREAD = "19:meeting_NjE5ZWEyYjktNzFkNS00ZmQ2LTk0ZWUtYWJhNmZiZjAxYTQ2@thread.v2";
const JOIN_URL = `https://teams.microsoft.com/l/meetup-join/${encodeURIComponent(THREAD)}/0?context=${encodeURIComponent(
  JSON.stringify({ Tid: TENANT, Oid: ORGANIZER }),
)}`;

describe("the calls API: enabled only with BOT_CONTROL_TOKEN", () => {
  it("answers every /calls request 404 control_disabled without a token; health is unaffected", async () => {
    const server = await startServer({});
    for (const [method, path] of [
      ["GET", "/calls"],
      ["POST", "/calls/join"],
      ["DELETE", "/calls/abc"],
      ["GET", "/calls/nothing/here"],
    ] as const) {
      const response = await server.request(
        method,
        path,
        method === "POST" ? { body: { joinUrl: JOIN_URL } } : {},
      );
      expect({ path, status: response.status, body: response.json }).toEqual({
        path,
        status: 404,
        body: {
          error: { code: "control_disabled", message: "set BOT_CONTROL_TOKEN to enable the calls API" },
        },
      });
    }
    expect(server.control.requests).toEqual([]);
    expect(await server.requestsCounted({ outcome: "control_disabled" })).toBe(4);
    expect((await rawRequest(`${server.service.opsUrl}/healthz`)).status).toBe(200);
  });

  it("refuses a missing or wrong bearer token with 401, counted, and never logs a token", async () => {
    const server = await startServer();
    const wrongSameLength = CONTROL_TOKEN.replace(/.$/, "X");
    const cases: [Record<string, string>, string][] = [
      [{}, "missing_token"],
      [{ authorization: "" }, "missing_token"],
      [{ authorization: `Bearer ${wrongSameLength}` }, "invalid_token"],
      [{ authorization: "Bearer short" }, "invalid_token"],
      [{ authorization: `Basic ${CONTROL_TOKEN}` }, "invalid_token"],
      [{ authorization: `Bearer ${CONTROL_TOKEN} extra` }, "invalid_token"],
    ];
    for (const [headers, code] of cases) {
      const response = await server.request("GET", "/calls", {
        headers: { authorization: "", ...headers, ...(headers.authorization === undefined ? {} : {}) },
      });
      expect({
        headers,
        status: response.status,
        code: (response.json as { error: { code: string } }).error.code,
      }).toEqual({
        headers,
        status: 401,
        code,
      });
      expect(response.headers["www-authenticate"]).toMatch(/^Bearer realm="calls"/);
    }
    // The token is checked before the body is read: an oversized body without it is a 401, not a 413.
    const unread = await server.request("POST", "/calls/join", {
      raw: JSON.stringify({ joinUrl: "x".repeat(64 * 1024) }),
      headers: { authorization: "", "content-type": "application/json" },
    });
    expect(unread.status).toBe(401);
    expect(server.control.requests).toEqual([]);
    expect(await server.requestsCounted({ route: "GET /calls", outcome: "missing_token" })).toBe(2);
    expect(await server.requestsCounted({ route: "GET /calls", outcome: "invalid_token" })).toBe(4);

    const right = await server.request("GET", "/calls");
    expect(right.status).toBe(200);
    expect(right.json).toEqual({ calls: [] });
    expect(await server.requestsCounted({ route: "GET /calls", outcome: "ok" })).toBe(1);
    const logText = server.log.lines.map((line) => JSON.stringify(line)).join("\n");
    expect(logText).toContain("calls API refused");
    expect(logText).not.toContain(CONTROL_TOKEN);
    expect(logText).not.toContain(wrongSameLength);
  });

  it("answers 503 control_unavailable when the token is set but no CallsApiBackend is wired", async () => {
    const server = await startServer({ controlToken: CONTROL_TOKEN }, false);
    const response = await server.request("GET", "/calls");
    expect(response.status).toBe(503);
    expect(response.json).toEqual({
      error: { code: "control_unavailable", message: "the calls API is not wired to the bot" },
    });
  });
});

describe("POST /calls/join", () => {
  it("joins by join URL, by meeting id and passcode, and by chat info, with the join options", async () => {
    const server = await startServer();
    const bodies = [
      { joinUrl: JOIN_URL, lobbyTimeoutMs: 30_000, unmixedAudio: true, displayName: "Note taker" },
      { joinMeetingId: "123 456 789 012", passcode: "aBc123", tenantId: TENANT },
      {
        threadId: THREAD,
        messageId: "0",
        replyChainMessageId: "1700000000000",
        organizerId: ORGANIZER,
        tenantId: TENANT,
      },
    ];
    for (const body of bodies) {
      const response = await server.request("POST", "/calls/join", { body });
      expect(response.status).toBe(201);
      const placed = response.json as { callId: string; mediaSessionId: string; kind: string };
      expect(placed).toEqual({
        callId: expect.any(String),
        mediaSessionId: expect.any(String),
        kind: "meeting",
      });
      expect(response.headers.location).toBe(`/calls/${placed.callId}`);
    }
    expect(server.control.requests).toEqual([
      {
        method: "joinMeeting",
        args: [
          { kind: "joinUrl", joinUrl: JOIN_URL },
          { lobbyTimeoutMs: 30_000, unmixedAudio: true, displayName: "Note taker" },
        ],
      },
      {
        method: "joinMeeting",
        args: [
          { kind: "meetingId", joinMeetingId: "123 456 789 012", passcode: "aBc123", tenantId: TENANT },
          {},
        ],
      },
      {
        method: "joinMeeting",
        args: [
          {
            kind: "chatInfo",
            threadId: THREAD,
            messageId: "0",
            replyChainMessageId: "1700000000000",
            organizerId: ORGANIZER,
            tenantId: TENANT,
          },
          {},
        ],
      },
    ]);
    expect(await server.requestsCounted({ route: "POST /calls/join", outcome: "ok" })).toBe(3);
  });

  it("refuses each bad body with 400 naming the field, and places nothing", async () => {
    const server = await startServer();
    const cases: [unknown, string, RegExp][] = [
      [[], "", /body must be a JSON object/],
      [{}, "", /must have joinUrl, joinMeetingId .* or threadId/],
      [{ joinUrl: JOIN_URL, joinMeetingId: "1" }, "joinMeetingId", /cannot be combined with joinUrl/],
      [{ joinUrl: JOIN_URL, tenantId: TENANT }, "tenantId", /is not a field of a join by joinUrl/],
      [
        { joinUrl: JOIN_URL, extra: 1 },
        "extra",
        /is not a field of a join by joinUrl \(allowed: joinUrl, lobbyTimeoutMs/,
      ],
      [
        { joinUrl: "https://teams.live.com/meet/123" },
        "joinUrl",
        /is not a Teams meeting join link: teams\.live\.com/,
      ],
      [
        { joinUrl: "https://example.com/l/meetup-join/x/0" },
        "joinUrl",
        /host "example\.com" is not a Teams host/,
      ],
      [{ joinUrl: 42 }, "joinUrl", /must be a non-empty string, got 42/],
      [{ joinUrl: `https://teams.microsoft.com/${"x".repeat(5000)}` }, "joinUrl", /at most 4096 characters/],
      [{ joinUrl: JOIN_URL, lobbyTimeoutMs: 10 }, "lobbyTimeoutMs", /integer from 1000 to 3600000, got 10/],
      [{ joinUrl: JOIN_URL, lobbyTimeoutMs: "5000" }, "lobbyTimeoutMs", /got "5000"/],
      [{ joinUrl: JOIN_URL, unmixedAudio: "yes" }, "unmixedAudio", /must be true or false/],
      [{ joinUrl: JOIN_URL, displayName: "" }, "displayName", /non-empty string/],
      [{ joinUrl: JOIN_URL, displayName: "n".repeat(257) }, "displayName", /at most 256 characters/],
      [{ joinMeetingId: "123 456", passcode: "p" }, "tenantId", /is required/],
      [{ joinMeetingId: "12a", tenantId: TENANT }, "joinMeetingId", /meeting id's digits/],
      [{ joinMeetingId: "123", tenantId: "contoso" }, "tenantId", /must be a GUID, got "contoso"/],
      [{ joinMeetingId: "123", tenantId: TENANT, passcode: "p".repeat(65) }, "passcode", /at most 64/],
      [
        { joinMeetingId: "123", tenantId: TENANT, threadId: THREAD },
        "threadId",
        /cannot be combined with joinMeetingId/,
      ],
      [
        { threadId: "meeting", messageId: "0", organizerId: ORGANIZER, tenantId: TENANT },
        "threadId",
        /Teams thread id/,
      ],
      [
        { threadId: THREAD, messageId: "x", organizerId: ORGANIZER, tenantId: TENANT },
        "messageId",
        /message id/,
      ],
      [{ threadId: THREAD, messageId: "0", tenantId: TENANT }, "organizerId", /is required/],
      [
        { threadId: THREAD, messageId: "0", organizerId: "bob", tenantId: TENANT },
        "organizerId",
        /must be a GUID/,
      ],
      [
        { threadId: THREAD, messageId: "0", organizerId: ORGANIZER, tenantId: TENANT, passcode: "1" },
        "passcode",
        /is not a field of a join by threadId/,
      ],
    ];
    for (const [body, field, message] of cases) {
      const response = await server.request("POST", "/calls/join", { body });
      const error = (response.json as { error: { code: string; message: string; field?: string } }).error;
      expect({ body, status: response.status, code: error.code, field: error.field ?? "" }).toEqual({
        body,
        status: 400,
        code: "invalid_request",
        field,
      });
      expect(error.message).toMatch(message);
      if (field !== "") expect(error.message.startsWith(field)).toBe(true);
    }
    expect(server.control.requests).toEqual([]);
    expect(await server.requestsCounted({ route: "POST /calls/join", outcome: "invalid_request" })).toBe(
      cases.length,
    );
  });

  it("refuses bodies that are missing, not JSON, malformed or over 16 KiB", async () => {
    const server = await startServer();
    const cases: [{ raw?: string; headers?: Record<string, string> }, number, string][] = [
      [{}, 400, "empty_body"],
      [{ raw: "joinUrl=x", headers: { "content-type": "text/plain" } }, 415, "unsupported_media_type"],
      [{ raw: '{"joinUrl":', headers: { "content-type": "application/json" } }, 400, "malformed_json"],
      [
        {
          raw: JSON.stringify({ joinUrl: "x".repeat(17 * 1024) }),
          headers: { "content-type": "application/json" },
        },
        413,
        "body_too_large",
      ],
    ];
    for (const [options, status, code] of cases) {
      const response = await server.request("POST", "/calls/join", options);
      expect({
        status: response.status,
        code: (response.json as { error: { code: string } }).error.code,
      }).toEqual({
        status,
        code,
      });
    }
    expect(server.control.requests).toEqual([]);
  });
});

describe("POST /calls/user", () => {
  it("calls a user by id and tenant, with an optional display name", async () => {
    const server = await startServer();
    const response = await server.request("POST", "/calls/user", {
      body: { userId: USER, tenantId: TENANT, displayName: "Adele" },
    });
    expect(response.status).toBe(201);
    expect((response.json as { kind: string }).kind).toBe("user");
    expect(server.control.requests).toEqual([
      // The body's displayName names the callee, as in transfer and invite.
      { method: "callUser", args: [{ userId: USER, tenantId: TENANT, displayName: "Adele" }, {}] },
    ]);
  });

  it("refuses ids that are not GUIDs, missing fields and unknown fields", async () => {
    const server = await startServer();
    const cases: [unknown, string, RegExp][] = [
      [{ tenantId: TENANT }, "userId", /is required/],
      [
        { userId: "adele@contoso.com", tenantId: TENANT },
        "userId",
        /must be a GUID, got "adele@contoso.com"/,
      ],
      [{ userId: USER }, "tenantId", /is required/],
      [{ userId: USER, tenantId: TENANT, phone: "+1555" }, "phone", /is not a field of a call to a user/],
    ];
    for (const [body, field, message] of cases) {
      const response = await server.request("POST", "/calls/user", { body });
      const error = (response.json as { error: { message: string; field: string } }).error;
      expect({ status: response.status, field: error.field }).toEqual({ status: 400, field });
      expect(error.message).toMatch(message);
    }
    expect(server.control.requests).toEqual([]);
  });
});

describe("the routes of one call", () => {
  it("lists, gets, mutes, unmutes, transfers, invites and hangs up a call", async () => {
    const server = await startServer();
    const placed = await server.request("POST", "/calls/user", { body: { userId: USER, tenantId: TENANT } });
    const { callId } = placed.json as { callId: string };

    const list = await server.request("GET", "/calls");
    expect(list.json).toEqual({
      calls: [
        {
          id: callId,
          direction: "outgoing",
          state: "establishing",
          tenantId: TENANT,
          kind: "user",
          since: expect.any(String),
        },
      ],
    });
    const one = await server.request("GET", `/calls/${callId}`);
    expect(one.status).toBe(200);
    expect((one.json as { id: string }).id).toBe(callId);

    expect((await server.request("POST", `/calls/${callId}/mute`)).json).toEqual({ callId, muted: true });
    const unmute = await server.request("POST", `/calls/${callId}/unmute`, { body: {} });
    expect({ status: unmute.status, body: unmute.json }).toEqual({
      status: 200,
      body: { callId, muted: false },
    });
    const transfer = await server.request("POST", `/calls/${callId}/transfer`, {
      body: { userId: USER, tenantId: TENANT, displayName: "Adele" },
    });
    expect({ status: transfer.status, body: transfer.json }).toEqual({ status: 202, body: { callId } });
    const invite = await server.request("POST", `/calls/${callId}/invite`, {
      body: {
        participants: [
          { userId: USER, tenantId: TENANT },
          { userId: ORGANIZER, tenantId: TENANT },
        ],
      },
    });
    expect(invite.status).toBe(202);
    const hangUp = await server.request("DELETE", `/calls/${callId}`);
    expect({ status: hangUp.status, body: hangUp.json }).toEqual({ status: 202, body: { callId } });

    expect(server.control.requests.map((r) => [r.method, ...r.args])).toEqual([
      ["callUser", { userId: USER, tenantId: TENANT }, {}],
      ["listCalls"],
      ["getCall", callId],
      ["mute", callId],
      ["unmute", callId],
      ["transfer", callId, { userId: USER, tenantId: TENANT, displayName: "Adele" }],
      [
        "invite",
        callId,
        [
          { userId: USER, tenantId: TENANT },
          { userId: ORGANIZER, tenantId: TENANT },
        ],
      ],
      ["hangUp", callId],
    ]);
    for (const route of ["POST /calls/:id/mute", "POST /calls/:id/invite", "DELETE /calls/:id"])
      expect(await server.requestsCounted({ route, outcome: "ok" })).toBe(1);
    // Ended calls leave the list.
    expect((await server.request("GET", "/calls")).json).toEqual({ calls: [] });
    expect(
      server.log.lines.some((l) => l.msg === "calls API: hang up requested" && l.callId === callId),
    ).toBe(true);
  });

  it("answers 404 unknown_call for a call id that is not ours, 400 for one that cannot be a call id", async () => {
    const server = await startServer();
    const id = "2b3c4d5e-0000-4000-8000-000000000000";
    for (const [method, path, body] of [
      ["GET", `/calls/${id}`, undefined],
      ["DELETE", `/calls/${id}`, undefined],
      ["POST", `/calls/${id}/mute`, undefined],
      ["POST", `/calls/${id}/unmute`, undefined],
      ["POST", `/calls/${id}/transfer`, { userId: USER, tenantId: TENANT }],
      ["POST", `/calls/${id}/invite`, { participants: [{ userId: USER, tenantId: TENANT }] }],
    ] as const) {
      const response = await server.request(method, path, { body });
      expect({ path, status: response.status, body: response.json }).toEqual({
        path,
        status: 404,
        body: { error: { code: "unknown_call", message: `no call ${id} of this bot` } },
      });
    }
    const bad = await server.request("GET", `/calls/${"x".repeat(65)}`);
    expect(bad.status).toBe(400);
    expect((bad.json as { error: { field: string } }).error.field).toBe("call id");
    const badChars = await server.request("DELETE", "/calls/a%20b");
    expect(badChars.status).toBe(400);
    const noRoute = await server.request("POST", `/calls/${id}/record`, { body: {} });
    expect({
      status: noRoute.status,
      code: (noRoute.json as { error: { code: string } }).error.code,
    }).toEqual({
      status: 404,
      code: "not_found",
    });
    expect(await server.requestsCounted({ route: "other", outcome: "not_found" })).toBe(1);
  });

  it("validates mute, transfer and invite bodies", async () => {
    const server = await startServer();
    const id = "2b3c4d5e-0000-4000-8000-000000000000";
    const cases: [string, unknown, string, RegExp][] = [
      ["mute", { muted: true }, "muted", /this request takes no body/],
      ["unmute", [], "", /body must be a JSON object/],
      ["transfer", { userId: USER }, "tenantId", /is required/],
      [
        "transfer",
        { userId: USER, tenantId: TENANT, callId: "x" },
        "callId",
        /is not a field of a transfer target/,
      ],
      ["invite", {}, "participants", /is required/],
      ["invite", { participants: [] }, "participants", /array of 1 to 10 users/],
      [
        "invite",
        { participants: Array(11).fill({ userId: USER, tenantId: TENANT }) },
        "participants",
        /1 to 10/,
      ],
      [
        "invite",
        {
          participants: [
            { userId: USER, tenantId: TENANT },
            { userId: "x", tenantId: TENANT },
          ],
        },
        "participants[1].userId",
        /must be a GUID/,
      ],
      [
        "invite",
        { participants: [{ userId: USER, tenantId: TENANT, role: "x" }] },
        "participants[0].role",
        /is not a field of a participant/,
      ],
      ["invite", { participants: ["x"] }, "participants[0]", /must be an object/],
      [
        "invite",
        { participants: [{ userId: USER, tenantId: TENANT }], replacesCallId: "x" },
        "replacesCallId",
        /is not a field of an invitation/,
      ],
    ];
    for (const [action, body, field, message] of cases) {
      const response = await server.request("POST", `/calls/${id}/${action}`, { body });
      const error = (response.json as { error: { message: string; field?: string } }).error;
      expect({ action, body, status: response.status, field: error.field ?? "" }).toEqual({
        action,
        body,
        status: 400,
        field,
      });
      expect(error.message).toMatch(message);
    }
    expect(server.control.requests).toEqual([]);
  });
});

describe("refusals of the bot and of Graph", () => {
  it("maps each CallsApiRefusal reason to its status, with the reason as the code", async () => {
    const server = await startServer();
    const expected: Record<CallsApiRefusalReason, number> = {
      unknown_call: 404,
      tenant_not_allowed: 403,
      invalid_state: 409,
      capacity: 409,
      shutting_down: 503,
      starting: 503,
      media_unavailable: 503,
      invalid_target: 400,
      graph_error: 502,
      place_call_failed: 502,
    };
    expect(CALLS_API_REFUSAL_STATUS).toEqual(expected);
    for (const [reason, status] of Object.entries(expected)) {
      server.control.refuseWith = new CallsApiRefusal(reason as CallsApiRefusalReason, `refused: ${reason}`);
      const response = await server.request("POST", "/calls/user", {
        body: { userId: USER, tenantId: TENANT },
      });
      expect({ status: response.status, body: response.json }).toEqual({
        status,
        body: { error: { code: reason, message: `refused: ${reason}` } },
      });
      expect(await server.requestsCounted({ route: "POST /calls/user", outcome: reason })).toBe(1);
    }
  });

  it("answers a Graph refusal 502 with Graph's status, code and request id", async () => {
    const server = await startServer();
    server.control.refuseWith = new GraphError({
      action: "createCall",
      status: 403,
      code: "7503",
      message: "Application is not authorized to join this meeting",
      clientRequestId: "c-1",
      requestId: "r-1",
      attempts: 1,
    });
    const response = await server.request("POST", "/calls/join", { body: { joinUrl: JOIN_URL } });
    expect(response.status).toBe(502);
    expect(response.json).toEqual({
      error: {
        code: "graph_error",
        message:
          "Graph createCall failed with HTTP 403 (7503): Application is not authorized to join this meeting",
        graph: { status: 403, code: "7503", requestId: "r-1" },
      },
    });
  });

  it("answers a bad join link found by the bot 400, and its own bug 500 without detail or stack", async () => {
    const server = await startServer();
    server.control.refuseWith = new MeetingJoinUrlError("context.Oid is missing");
    const badLink = await server.request("POST", "/calls/join", { body: { joinUrl: JOIN_URL } });
    expect({ status: badLink.status, body: badLink.json }).toEqual({
      status: 400,
      body: {
        error: {
          code: "invalid_join_url",
          message: "not a Teams meeting join link: context.Oid is missing",
          field: "joinUrl",
        },
      },
    });
    server.control.refuseWith = new TypeError("cannot read properties of undefined (secret detail)");
    const bug = await server.request("POST", "/calls/join", { body: { joinUrl: JOIN_URL } });
    expect({ status: bug.status, body: bug.json }).toEqual({
      status: 500,
      body: { error: { code: "internal_error", message: "internal error" } },
    });
    expect(bug.body).not.toMatch(/secret detail|at .*\.ts/);
    expect(server.log.lines.some((l) => l.msg === "calls API handler failed" && l.level === 50)).toBe(true);
    // The listener lives on.
    expect((await server.request("GET", "/calls")).status).toBe(200);
  });
});
