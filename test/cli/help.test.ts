import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, runCli } from "./run-cli.js";

const DOC = readFileSync(path.join(ROOT, "docs/cli.md"), "utf8");

/** The `--long` options of a --help text (commander lists each at a line's start). */
function helpOptions(help: string): string[] {
  return [...help.matchAll(/^ {2}(?:-\w, )?(--[a-z-]+)/gm)]
    .map((m) => m[1] as string)
    .filter((o) => o !== "--help");
}

/** The option names in the first column of a table under `heading` in docs/cli.md. */
function docOptions(heading: string): string[] {
  const section = DOC.slice(DOC.indexOf(heading), DOC.indexOf("\n## ", DOC.indexOf(heading) + 1));
  return [...section.matchAll(/^\| `(--[a-z-]+)/gm)].map((m) => m[1] as string);
}

describe("teams-media-bot --help", () => {
  it("lists the subcommands, with examples", async () => {
    const run = await runCli(["--help"]);
    expect(run.code).toBe(0);
    const commands = [...run.stdout.matchAll(/^ {2}(\w+)/gm)].map((m) => m[1]);
    expect(commands).toEqual(["dev", "bot", "emulator", "demo", "join", "call", "calls", "hangup", "help"]);
    expect(run.stdout).toMatch(/Examples:\n {2}\$ teams-media-bot demo/);
    const emulator = await runCli(["emulator", "--help"]);
    expect([...emulator.stdout.matchAll(/^ {2}(\w+)/gm)].map((m) => m[1])).toEqual([
      "graph",
      "media",
      "help",
    ]);
  }, 30_000);

  it("dev --help and docs/cli.md list the same options", async () => {
    const run = await runCli(["dev", "--help"]);
    expect(run.code).toBe(0);
    expect(helpOptions(run.stdout)).toEqual(docOptions("## `teams-media-bot dev <handler>`"));
    expect(run.stdout).toMatch(/Examples:/);
  }, 30_000);

  it("join, call, calls and hangup --help and docs/cli.md list the same options", async () => {
    for (const [command, heading] of [
      ["join", "## `teams-media-bot join [joinUrl]`"],
      ["call", "## `teams-media-bot call`"],
      ["calls", "## `teams-media-bot calls`"],
      ["hangup", "## `teams-media-bot hangup <callId>`"],
    ] as const) {
      const run = await runCli([command, "--help"]);
      expect(run.code).toBe(0);
      expect({ command, options: helpOptions(run.stdout) }).toEqual({
        command,
        options: docOptions(heading),
      });
      expect(run.stdout).toMatch(/Examples?:/);
    }
  }, 60_000);

  it("docs/cli.md has a section for every subcommand", async () => {
    for (const subcommand of [
      "dev <handler>",
      "bot",
      "emulator graph",
      "emulator media",
      "demo",
      "join [joinUrl]",
      "call",
      "calls",
      "hangup <callId>",
    ])
      expect(DOC).toContain(`## \`teams-media-bot ${subcommand}\``);
  });

  it("a bad option value is refused, naming the option and the rule", async () => {
    const run = await runCli(["dev", "./x.ts", "--calls", "0"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^error: option '--calls <n>' argument '0' is invalid\. must be an integer from 1 to 50\.\n/,
    );
  }, 30_000);
});
