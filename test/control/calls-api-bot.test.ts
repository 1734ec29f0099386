/**
 * The calls API wired to the real bot (BotApp with BOT_CONTROL_TOKEN), end to end through the
 * Graph emulator's meetings and callees and the media emulator, driven by the command-line tool
 * (`join`, `calls`, `hangup`, `call`) and by plain HTTP.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newEmulatedApp } from "../../src/demo/emulator-bot-env.js";
import { parseCalleeSpec } from "../../src/emulator/graph/callees.js";
import { runCli } from "../cli/run-cli.js";
import { closeSharedGraph, FaultStack } from "../faults/fault-stack.js";
import { waitFor } from "../media/wait-for.js";

const APP = newEmulatedApp();
const TENANT = APP.tenantId;
const TOKEN = `calls-api-bot-${randomUUID().replaceAll("-", "")}`;
const GUID_LINE = /^[0-9a-f-]{36}\n$/;

let stack: FaultStack;
let tokenFile: string;

beforeAll(async () => {
  stack = await FaultStack.start({
    graceMs: 2000,
    app: APP,
    env: { BOT_ALLOWED_TENANTS: TENANT, BOT_CONTROL_TOKEN: TOKEN },
  });
  tokenFile = path.join(mkdtempSync(path.join(tmpdir(), "calls-api-bot-")), "token");
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
}, 60_000);

afterAll(async () => {
  const left = await stack?.stop();
  await closeSharedGraph();
  if (left && left.length > 0) throw new Error(`handles left open: ${left.join(", ")}`);
});

function cli(args: string[]) {
  return runCli([...args, "--bot-url", stack.bot.signaling.opsUrl, "--token-file", tokenFile]);
}

/** The fields of the calls API's answers these tests read. */
interface ApiAnswer {
  callId: string;
  ended?: unknown;
  calls: { id: string }[];
  error: {
    code: string;
    message: string;
    field?: string;
    graph?: { status: number; code?: string };
    stage?: string;
  };
}

async function api(
  method: string,
  route: string,
  body?: unknown,
): Promise<{ status: number; json: ApiAnswer }> {
  const response = await fetch(`${stack.bot.signaling.opsUrl}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, json: (await response.json()) as ApiAnswer };
}

function meeting(spec: Record<string, unknown> = {}) {
  return stack.graph.createMeeting({
    tenantId: TENANT,
    participants: [{ displayName: "Ada", audio: { toneHz: 440 } }],
    ...spec,
  });
}

describe("the calls API wired to the bot", () => {
  it("join <link> --wait is established (exit 0); calls lists it; hangup ends it at Graph", async () => {
    const { joinUrl } = meeting();
    const join = await cli(["join", joinUrl, "--wait", "--wait-timeout", "30"]);
    expect({ code: join.code, stderr: join.stderr }).toEqual({ code: 0, stderr: "established\n" });
    expect(join.stdout).toMatch(GUID_LINE);
    const callId = join.stdout.trim();
    expect(stack.graph.call(callId)?.state).toBe("established");

    const calls = await cli(["calls"]);
    expect(calls.code).toBe(0);
    expect(calls.stdout).toContain(callId);
    expect(calls.stdout).toMatch(/established/);

    const hangup = await cli(["hangup", callId]);
    expect(hangup.code).toBe(0);
    await stack.graph.waitForCallState(callId, "terminated", 10_000);
    expect(stack.requestsFor(callId, "delete").map((r) => r.status)).toEqual([204]);
    // Ended placed calls stay visible with how they ended, and drop out of the live list.
    await waitFor(async () => (await api("GET", `/calls/${callId}`)).json.ended !== undefined, 5000);
    const ended = await api("GET", `/calls/${callId}`);
    expect(ended.json).toMatchObject({ id: callId, kind: "meeting", ended: { reason: "hungUp" } });
    expect((await api("GET", "/calls")).json.calls.map((c) => c.id)).not.toContain(callId);
  }, 90_000);

  it("join to a meeting with a lobby prints the lobby, then established", async () => {
    const { id, joinUrl } = meeting({ lobby: { admitAfterMs: 2500 } });
    const join = await cli(["join", joinUrl, "--lobby-timeout", "60", "--wait", "--wait-timeout", "30"]);
    expect({ code: join.code, stderr: join.stderr }).toEqual({
      code: 0,
      stderr: "waiting in the meeting's lobby\nestablished\n",
    });
    // The organizer ends the meeting (this also clears the emulator's lobby timer): the call
    // is then told as ended for the meeting's end.
    const callId = join.stdout.trim();
    stack.graph.meetings.end(
      stack.graph.meetings.get(id) as NonNullable<ReturnType<typeof stack.graph.meetings.get>>,
    );
    await stack.graph.waitForCallState(callId, "terminated", 10_000);
    await waitFor(async () => (await api("GET", `/calls/${callId}`)).json.ended !== undefined, 5000);
    expect((await api("GET", `/calls/${callId}`)).json.ended).toEqual({
      reason: "meetingEnded",
      resultInfo: expect.objectContaining({ code: 200, subcode: 5001 }),
    });
  }, 90_000);

  it("call --user <declining callee> --wait ends declined (exit 1)", async () => {
    const userId = randomUUID();
    stack.graph.callees.register(
      parseCalleeSpec({ userId, tenantId: TENANT, answer: "decline", afterMs: 300 }),
    );
    const call = await cli(["call", "--user", userId, "--tenant", TENANT, "--wait", "--wait-timeout", "30"]);
    expect(call.code).toBe(1);
    expect(call.stdout).toMatch(GUID_LINE);
    expect(call.stderr).toMatch(/^ended: declined \(603\/0/);
  }, 90_000);

  it("HTTP mute mutes the bot in the emulator's call; unmute undoes it", async () => {
    const { joinUrl } = meeting();
    const placed = await api("POST", "/calls/join", { joinUrl });
    expect(placed.status).toBe(201);
    expect(placed.json).toMatchObject({ kind: "meeting" });
    const callId = placed.json.callId;
    await stack.established(callId, 10_000);
    await waitFor(() => stack.botState(callId) === "established", 5000);
    const mute = await api("POST", `/calls/${callId}/mute`);
    expect({ status: mute.status, json: mute.json }).toEqual({ status: 200, json: { callId, muted: true } });
    // The emulator's roster of the call shows the bot's own participant muted.
    const emulated = stack.graph.call(callId);
    expect(emulated?.isMuted).toBe(true);
    expect(emulated?.participants.find((p) => p.id === emulated.myParticipantId)?.isMuted).toBe(true);
    expect((await api("POST", `/calls/${callId}/unmute`)).status).toBe(200);
    expect(stack.graph.call(callId)?.isMuted).toBe(false);
    // Graph refusing it is a 502 carrying Graph's status and code.
    stack.graph.injectFault({ match: { action: "mute" }, status: 429, retryAfterSeconds: 0, times: 10 });
    try {
      const refused = await api("POST", `/calls/${callId}/mute`);
      expect(refused.status).toBe(502);
      expect(refused.json.error).toMatchObject({ code: "graph_error", graph: { status: 429 } });
    } finally {
      stack.graph.clearFaults();
    }
    expect(stack.graph.call(callId)?.isMuted).toBe(false);
    expect((await api("DELETE", `/calls/${callId}`)).status).toBe(202);
    await stack.graph.waitForCallState(callId, "terminated", 10_000);
  }, 90_000);

  it("HTTP invite and transfer reach Graph for a call to a user; the transfer ends the call", async () => {
    const placed = await api("POST", "/calls/user", { userId: randomUUID(), tenantId: TENANT });
    expect(placed.status).toBe(201);
    const callId = placed.json.callId;
    await stack.established(callId, 10_000);
    await waitFor(() => stack.botState(callId) === "established", 5000);
    const invitee = randomUUID();
    const invite = await api("POST", `/calls/${callId}/invite`, {
      participants: [{ userId: invitee, tenantId: TENANT, displayName: "Grace" }],
    });
    expect({ status: invite.status, json: invite.json }).toEqual({ status: 202, json: { callId } });
    expect(stack.requestsFor(callId, "participants").map((r) => r.status)).toEqual([200]);
    const transfer = await api("POST", `/calls/${callId}/transfer`, {
      userId: randomUUID(),
      tenantId: TENANT,
    });
    expect({ status: transfer.status, json: transfer.json }).toEqual({ status: 202, json: { callId } });
    const ended = await stack.graph.waitForCallState(callId, "terminated", 10_000);
    expect(ended.resultInfo).toMatchObject({ code: 200, subcode: 7015 });
    // A completed transfer is not a failure: the placed call ends `transferred`.
    await waitFor(async () => (await api("GET", `/calls/${callId}`)).json.ended !== undefined, 5000);
    expect((await api("GET", `/calls/${callId}`)).json.ended).toMatchObject({ reason: "transferred" });
  }, 60_000);

  it("refuses a call id not ours 404, a bad join link 400 naming it, a tenant not allowed 403", async () => {
    const createsBefore = stack.graph.requestLog().filter((r) => r.action === "create").length;
    const notOurs = await api("POST", `/calls/${randomUUID()}/mute`);
    expect({ status: notOurs.status, code: notOurs.json.error.code }).toEqual({
      status: 404,
      code: "unknown_call",
    });
    expect((await api("DELETE", `/calls/${randomUUID()}`)).status).toBe(404);

    const badLink = await api("POST", "/calls/join", { joinUrl: "https://example.com/l/meetup-join/x" });
    expect(badLink.status).toBe(400);
    expect(badLink.json.error).toMatchObject({ code: "invalid_request", field: "joinUrl" });
    expect(badLink.json.error.message).toMatch(/teams\.microsoft\.com|host/i);

    const otherTenant = await api("POST", "/calls/user", { userId: randomUUID(), tenantId: randomUUID() });
    expect({ status: otherTenant.status, code: otherTenant.json.error.code }).toEqual({
      status: 403,
      code: "tenant_not_allowed",
    });
    expect(stack.graph.requestLog().filter((r) => r.action === "create").length).toBe(createsBefore);

    // createCall refused by Graph: 502 with Graph's status, nothing left.
    stack.graph.injectFault({ match: { action: "create" }, status: 429, retryAfterSeconds: 0, times: 10 });
    try {
      const refused = await api("POST", "/calls/join", { joinUrl: meeting().joinUrl });
      expect(refused.status).toBe(502);
      expect(refused.json.error).toMatchObject({
        code: "graph_error",
        stage: "create_refused",
        graph: { status: 429 },
      });
    } finally {
      stack.graph.clearFaults();
    }
    expect((await api("GET", "/calls")).json.calls).toEqual([]);
  }, 60_000);
});
