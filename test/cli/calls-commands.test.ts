import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CONTROL_TOKEN, callsApiServerPerTest } from "../control/calls-api-server.js";
import { runCli } from "./run-cli.js";

const startServer = callsApiServerPerTest();

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const USER = "8b081ef6-4792-4def-b2c9-c363a1bf41d5";
const THREAD = "19:meeting_NjE5ZWEyYjktNzFkNS00ZmQ2LTk0ZWUtYWJhNmZiZjAxYTQ2@thread.v2";
const JOIN_URL = `https://teams.microsoft.com/l/meetup-join/${encodeURIComponent(THREAD)}/0?context=${encodeURIComponent(
  JSON.stringify({ Tid: TENANT, Oid: USER }),
)}`;
const GUID_LINE = /^[0-9a-f-]{36}\n$/;

function tokenFile(content = `${CONTROL_TOKEN}\n`): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "calls-cli-")), "token");
  writeFileSync(file, content, { mode: 0o600 });
  return file;
}

describe("teams-media-bot join / call / calls / hangup against the calls API", () => {
  it("join <link> --wait prints the call id, reports the lobby, and exits 0 once established", async () => {
    const server = await startServer();
    server.control.script = [
      { state: "establishing", inLobby: true },
      { state: "establishing", inLobby: true },
      { state: "established" },
    ];
    const run = await runCli([
      "join",
      JOIN_URL,
      "--bot-url",
      server.service.opsUrl,
      "--token-file",
      tokenFile(),
      "--lobby-timeout",
      "30",
      "--unmixed",
      "--wait",
    ]);
    expect({ code: run.code, stderr: run.stderr }).toEqual({
      code: 0,
      stderr: "waiting in the meeting's lobby\nestablished\n",
    });
    expect(run.stdout).toMatch(GUID_LINE);
    expect(server.control.requests[0]).toEqual({
      method: "joinMeeting",
      args: [
        { kind: "joinUrl", joinUrl: JOIN_URL },
        { lobbyTimeoutMs: 30_000, unmixedAudio: true },
      ],
    });
    expect(server.control.requests.filter((r) => r.method === "getCall").map((r) => r.args[0])).toEqual(
      Array(3).fill(run.stdout.trim()),
    );
  }, 60_000);

  it("join --meeting-id with the token from BOT_CONTROL_TOKEN returns at once without --wait", async () => {
    const server = await startServer();
    const run = await runCli(
      [
        "join",
        "--meeting-id",
        "123 456 789 012",
        "--passcode",
        "aBc123",
        "--tenant",
        TENANT,
        "--bot-url",
        server.service.opsUrl,
      ],
      { env: { BOT_CONTROL_TOKEN: CONTROL_TOKEN } },
    );
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    expect(run.stdout).toMatch(GUID_LINE);
    expect(server.control.requests).toEqual([
      {
        method: "joinMeeting",
        args: [
          { kind: "meetingId", joinMeetingId: "123 456 789 012", passcode: "aBc123", tenantId: TENANT },
          {},
        ],
      },
    ]);
  }, 60_000);

  it("call --wait exits 1 with how the call ended when the callee declines", async () => {
    const server = await startServer();
    server.control.script = [
      { state: "establishing" },
      { state: "terminated", ended: { reason: "declined", resultInfo: { code: 603, subcode: 0 } } },
    ];
    const run = await runCli(
      [
        "call",
        "--user",
        USER,
        "--tenant",
        TENANT,
        "--display-name",
        "Adele",
        "--wait",
        "--bot-url",
        server.service.opsUrl,
      ],
      { env: { BOT_CONTROL_TOKEN: CONTROL_TOKEN } },
    );
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 1, stderr: "ended: declined (603/0)\n" });
    expect(run.stdout).toMatch(GUID_LINE);
    expect(server.control.requests[0]).toEqual({
      method: "callUser",
      // --display-name names the callee (the user's name in the call), not the bot.
      args: [{ userId: USER, tenantId: TENANT, displayName: "Adele" }, {}],
    });
  }, 60_000);

  it("join --wait gives up after --wait-timeout with exit 1 while the call is still establishing", async () => {
    const server = await startServer();
    const run = await runCli(
      ["join", JOIN_URL, "--wait", "--wait-timeout", "1", "--bot-url", server.service.opsUrl],
      { env: { BOT_CONTROL_TOKEN: CONTROL_TOKEN } },
    );
    expect({ code: run.code, stderr: run.stderr }).toEqual({
      code: 1,
      stderr: "not established after 1 s (state establishing)\n",
    });
  }, 60_000);

  it("calls lists the live calls; hangup ends one (exit 0) and refuses an unknown id (exit 1)", async () => {
    const server = await startServer();
    const placed = await server.request("POST", "/calls/user", { body: { userId: USER, tenantId: TENANT } });
    const { callId } = placed.json as { callId: string };
    const env = { BOT_CONTROL_TOKEN: CONTROL_TOKEN };
    const list = await runCli(["calls", "--bot-url", server.service.opsUrl], { env });
    expect(list.code).toBe(0);
    const lines = list.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^CALL ID +DIRECTION +KIND +STATE +TENANT +SINCE$/);
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(new RegExp(`^${callId} +outgoing +user +establishing +${TENANT} +\\d{4}-`)),
    ]);

    const json = await runCli(["calls", "--json", "--bot-url", server.service.opsUrl], { env });
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({ id: callId, kind: "user", tenantId: TENANT }),
    ]);

    const hangUp = await runCli(["hangup", callId, "--bot-url", server.service.opsUrl], { env });
    expect({ code: hangUp.code, stdout: hangUp.stdout }).toEqual({
      code: 0,
      stdout: `hang up requested: ${callId}\n`,
    });
    const again = await runCli(
      ["hangup", "6f0c0bd2-0000-4000-8000-000000000000", "--bot-url", server.service.opsUrl],
      { env },
    );
    expect({ code: again.code, stderr: again.stderr }).toEqual({
      code: 1,
      stderr:
        "teams-media-bot hangup: no call 6f0c0bd2-0000-4000-8000-000000000000 of this bot (unknown_call, HTTP 404)\n",
    });
  }, 60_000);

  it("says why in one line: the bot's refusal, a wrong or missing token, a bot not reachable", async () => {
    const server = await startServer();
    const url = server.service.opsUrl;
    const badLink = await runCli([
      "join",
      "https://example.com/l/meetup-join/x/0",
      "--bot-url",
      url,
      "--token-file",
      tokenFile(),
    ]);
    expect({ code: badLink.code, stderr: badLink.stderr }).toEqual({
      code: 1,
      stderr:
        'teams-media-bot join: joinUrl is not a Teams meeting join link: host "example.com" is not a Teams host (teams.microsoft.com, teams.cloud.microsoft, teams.microsoft.us, gov.teams.microsoft.us, dod.teams.microsoft.us) (invalid_request, HTTP 400)\n',
    });
    const wrong = await runCli([
      "calls",
      "--bot-url",
      url,
      "--token-file",
      tokenFile("not-the-token-0123456789abcdef0123"),
    ]);
    expect({ code: wrong.code, stderr: wrong.stderr }).toEqual({
      code: 1,
      stderr: "teams-media-bot calls: the bearer token is not BOT_CONTROL_TOKEN (invalid_token, HTTP 401)\n",
    });
    const none = await runCli(["calls", "--bot-url", url]);
    expect({ code: none.code, stderr: none.stderr }).toEqual({
      code: 1,
      stderr: "teams-media-bot calls: no token: set BOT_CONTROL_TOKEN or pass --token-file <file>\n",
    });
    const flags = await runCli(["join", JOIN_URL, "--meeting-id", "1", "--bot-url", url]);
    expect({ code: flags.code, stderr: flags.stderr }).toEqual({
      code: 1,
      stderr: "error: give a join link or --meeting-id, not both\n",
    });
    expect(server.control.requests).toEqual([]);
    await server.service.shutdown({ timeoutMs: 200 });
    const gone = await runCli(["calls", "--bot-url", url], { env: { BOT_CONTROL_TOKEN: CONTROL_TOKEN } });
    expect({ code: gone.code, stderr: gone.stderr }).toEqual({
      code: 1,
      stderr: `teams-media-bot calls: cannot reach the bot at ${url}: ECONNREFUSED\n`,
    });
  }, 60_000);
});
