import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { reportField, runCli, runScript } from "./run-cli.js";

const HANDLER = "test/fixtures/echo-dtmf-bot.ts";
const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function scratch(): Promise<{ dir: string; events: string; read: () => Record<string, unknown>[] }> {
  const dir = await mkdtemp(path.join(tmpdir(), "cli-dev-"));
  dirs.push(dir);
  const events = path.join(dir, "events.jsonl");
  return {
    dir,
    events,
    read: () =>
      existsSync(events)
        ? readFileSync(events, "utf8")
            .trim()
            .split("\n")
            .map((line) => JSON.parse(line))
        : [],
  };
}

describe("teams-media-bot dev", () => {
  it("runs a .ts handler on 2 calls from a tone for 2 s each, ends with the report, exit 0", async () => {
    const { dir, events, read } = await scratch();
    const run = await runCli([
      "dev",
      HANDLER,
      "--calls",
      "2",
      "--seconds",
      "2",
      "--tone",
      "440",
      "--options",
      JSON.stringify({ eventsPath: events }),
      "--recordings",
      dir,
    ]);
    expect(run.code, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(0);
    expect(reportField(run.stdout, "calls placed")).toBe("2");
    // The caller hung up after --seconds (the bot did not).
    expect(reportField(run.stdout, "call ended")).toMatch(/^200\/5001/);
    // The handler's effect: it echoed the tone back on both calls.
    const [received, sent] = (reportField(run.stdout, "frames received by the bot / sent by the bot") ?? "")
      .split(" / ")
      .map(Number);
    expect(received).toBeGreaterThan(2 * 50);
    expect(sent).toBeGreaterThan(2 * 50);
    expect(reportField(run.stdout, "echo round trip p50 (caller -> bot -> caller)")).toMatch(
      /^\d+(\.\d+)? ms$/,
    );
    // The live line (periodic lines when not a terminal) shows both levels: a 0.3 tone is ~ -13 dBFS.
    expect(run.stdout).toMatch(/caller -1\d dBFS {2}bot -\d+ dBFS {2}marks \d+ {2}dropped \d+ {2}echo rtt/);
    const started = read().filter((e) => e.event === "started");
    expect(new Set(started.map((e) => e.callId)).size).toBe(2);
  }, 60_000);

  it("keys piped to stdin arrive as DTMF on the handler's onTone; # makes the bot hang up", async () => {
    const { dir, events, read } = await scratch();
    const run = await runCli(
      [
        "dev",
        HANDLER,
        "--seconds",
        "20",
        "--silence",
        "--options",
        JSON.stringify({ eventsPath: events }),
        "--recordings",
        dir,
      ],
      { input: "7*\n#" },
    );
    expect(run.code, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(0);
    expect(
      read()
        .filter((e) => e.event === "tone")
        .map((e) => [e.tone, e.origin]),
    ).toEqual([
      ["7", "graph"],
      ["star", "graph"],
      ["pound", "graph"],
    ]);
    expect(reportField(run.stdout, "call ended")).toMatch(/^200\/7000/);
  }, 60_000);

  it("--meeting: the bot joins an emulated meeting of 3 speakers through its lobby; report; q hangs up", async () => {
    const { dir, events, read } = await scratch();
    const run = await runCli(
      [
        "dev",
        HANDLER,
        "--meeting",
        "--speakers",
        "3",
        "--unmixed",
        "--lobby",
        "1",
        "--seconds",
        "60",
        "--tone",
        "440",
        "--options",
        JSON.stringify({ eventsPath: events, roster: true }),
        "--recordings",
        dir,
      ],
      // q once the three speakers were heard: the user ends it (not --seconds).
      {
        later: { when: () => read().filter((e) => e.event === "speaker").length >= 3, text: "q" },
        timeoutMs: 80_000,
      },
    );
    expect(run.code, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(0);
    const joinUrl = /^meeting \S+: (https:\/\/teams\.microsoft\.com\/l\/meetup-join\/\S+)$/m.exec(run.stdout);
    expect(joinUrl, run.stdout).not.toBeNull();
    const callId = /^call (\S+) waiting in the meeting's lobby$/m.exec(run.stdout)?.[1];
    expect(run.stdout).toContain(`call ${callId} admitted from the lobby`);
    expect(run.stdout).toMatch(
      new RegExp(`call ${callId} joined the meeting: accepted in [\\d.]+ ms, established after [\\d.]+ ms`),
    );
    // The lobby (admitted after 1 s) is part of the time to established.
    expect(
      Number.parseFloat(
        reportField(run.stdout, "time to established (join -> established, lobby included)") ?? "",
      ),
    ).toBeGreaterThan(900);
    expect(reportField(run.stdout, "time to join accepted (createCall -> Graph 201)")).toMatch(/^[\d.]+ ms$/);
    // q: the bot left the meeting (hung up itself).
    expect(reportField(run.stdout, "call ended")).toMatch(/^200\/7000/);
    const noted = read();
    expect(new Set(noted.map((e) => e.callId))).toEqual(new Set([callId]));
    expect(noted.filter((e) => e.event === "callEvent").map((e) => e.type)).toEqual([
      "lobby",
      "admitted",
      "established",
      "ended",
    ]);
    // Three speakers with distinct source ids, each heard on its own unmixed stream.
    const roster = noted.filter((e) => e.event === "roster").at(-1)?.speakers as
      | { displayName: string; sourceIds: number[] }[]
      | undefined;
    expect(roster?.map((p) => p.displayName)).toEqual([
      "Speaker 1 (emulated)",
      "Speaker 2 (emulated)",
      "Speaker 3 (emulated)",
    ]);
    const heard = noted.filter((e) => e.event === "speaker").map((e) => e.speakerId);
    expect(new Set(heard)).toEqual(new Set(roster?.flatMap((p) => p.sourceIds)));
  }, 90_000);

  it("a handler file that does not exist: one line naming it, exit 1", async () => {
    const run = await runCli(["dev", "./no-such-bot.ts"]);
    expect(run).toEqual({
      code: 1,
      stdout: "",
      stderr: expect.stringMatching(
        /^teams-media-bot dev: handler \.\/no-such-bot\.ts not found \(looked for .*no-such-bot\.ts\)\n$/,
      ),
    });
  }, 30_000);

  it("a handler module without the named export: one line naming it, exit 1", async () => {
    const run = await runCli(["dev", `${HANDLER}#nothingHere`, "--seconds", "1"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^teams-media-bot dev: .*has no function export "nothingHere"\n$/);
  }, 30_000);
});

describe("npm start with BOT_MEDIA_HANDLERS=module:... and no BOT_APP_ID", () => {
  it("runs those handlers, with their BOT_MEDIA_HANDLER_OPTIONS, against the local emulators, not the demo bot", async () => {
    const { dir, events, read } = await scratch();
    const run = await runScript("src/main.ts", [], {
      env: {
        BOT_MEDIA_HANDLERS: `module:./${HANDLER}`,
        // The handler's options from the configuration, as `npm run bot` gives them.
        BOT_MEDIA_HANDLER_OPTIONS: JSON.stringify({ [`module:./${HANDLER}`]: { eventsPath: events } }),
        BOT_RECORDINGS_DIR: dir,
      },
      input: "#",
    });
    expect(run.code, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/running your handlers against the local emulators/);
    expect(read().map((e) => e.event)).toEqual(["started", "tone", "end"]);
    expect(reportField(run.stdout, "call ended")).toMatch(/^200\/7000/);
  }, 60_000);

  it("a handler module that does not exist: one line naming it, exit 1", async () => {
    const run = await runScript("src/main.ts", [], {
      env: { BOT_MEDIA_HANDLERS: "module:./missing-bot.ts" },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^npm start: handler \.\/missing-bot\.ts not found/);
  }, 30_000);
});
