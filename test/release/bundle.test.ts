/**
 * The Windows release bundle as `npm run release:windows` builds it (once for this file: the
 * win-x64 publish of the host is the slow part, about a minute), opened and checked: the host
 * with the Skype platform, the bot's compiled JavaScript with every production dependency and
 * no development tooling, the template, the scripts, the README; the installed bot loads its
 * whole module graph with production dependencies only.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkBotTree, checkBundleEntries, REQUIRED_ENTRIES } from "../../scripts/release-windows-check.mjs";
import { ROOT, runProgram } from "./pwsh.js";

const BUILD_MS = 15 * 60_000;
const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  version: string;
  dependencies: Record<string, string>;
};
const TOP = `teams-media-bot-windows-x64-${pkg.version}`;
const hasBotService = existsSync(path.join(ROOT, "native-bridge", "src", "TeamsMediaBridge.BotService"));

describe("checkBundleEntries", () => {
  it("names what is missing and what must not ship", () => {
    const good = REQUIRED_ENTRIES.map((entry) => `${TOP}/${entry}`);
    expect(
      checkBundleEntries(good, { topFolder: TOP, botDependencies: [], requireBotService: false }),
    ).toEqual([]);
    const bad = [
      ...good.filter((entry) => !entry.endsWith("Microsoft.Skype.Bots.Media.dll")),
      `${TOP}/bot/node_modules/typescript/package.json`,
      `${TOP}/bot/node_modules/teams-media-bot/src/bot.ts`,
    ];
    expect(
      checkBundleEntries(bad, { topFolder: TOP, botDependencies: ["ws"], requireBotService: true }),
    ).toEqual([
      "missing: host/Microsoft.Skype.Bots.Media.dll",
      "missing: bot/node_modules/ws/package.json",
      "missing: bot-service/TeamsMediaBot.Service.exe",
      "dev tooling: bot/node_modules/typescript/package.json",
      "TypeScript source: bot/node_modules/teams-media-bot/src/bot.ts",
    ]);
  });
});

describe("npm run release:windows", () => {
  let out: string;
  let zip: string;
  let entries: string[];
  let seconds: number;

  beforeAll(async () => {
    out = await mkdtemp(path.join(tmpdir(), "tmb-release-"));
    const started = Date.now();
    const build = await runProgram(
      "node",
      [path.join(ROOT, "scripts", "release-windows.mjs"), "--out", out],
      {
        timeoutMs: BUILD_MS,
      },
    );
    seconds = (Date.now() - started) / 1000;
    if (build.code !== 0)
      throw new Error(
        `release-windows.mjs exited ${build.code}\n--- stdout\n${build.stdout}\n--- stderr\n${build.stderr}`,
      );
    zip = path.join(out, `${TOP}.zip`);
    entries = execFileSync("unzip", ["-Z1", zip], { maxBuffer: 64 * 1024 * 1024 })
      .toString()
      .split("\n")
      .filter(Boolean);
    const megabytes = (statSync(zip).size / 1024 / 1024).toFixed(1);
    console.log(
      `release bundle: ${TOP}.zip, ${megabytes} MB, ${entries.length} files, built in ${seconds.toFixed(0)} s`,
    );
  }, BUILD_MS);

  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it("holds the host with the Skype platform, the bot with its production dependencies, the template, the scripts, and no dev tooling", () => {
    expect(existsSync(zip)).toBe(true);
    const problems = checkBundleEntries(entries, {
      topFolder: TOP,
      botDependencies: Object.keys(pkg.dependencies),
      requireBotService: hasBotService,
    });
    expect(problems).toEqual([]);
    if (!hasBotService) expect(entries).toContain(`${TOP}/bot-service/MISSING.txt`);
    // The published host: framework-dependent net10.0 for win-x64.
    expect(entries).toContain(`${TOP}/host/TeamsMediaBridge.Host.runtimeconfig.json`);
    expect(entries.filter((e) => e.includes("/node_modules/.bin/"))).toEqual([]);
  });

  it("ships the packaging's template, scripts and README byte for byte", () => {
    for (const file of [
      "config/settings.template.json",
      "scripts/Install-TeamsMediaBot.ps1",
      "scripts/Test-TeamsMediaBot.ps1",
      "scripts/Uninstall-TeamsMediaBot.ps1",
      "scripts/TeamsMediaBot.Common.ps1",
      "README.txt",
    ]) {
      const shipped = execFileSync("unzip", ["-p", zip, `${TOP}/${file}`]);
      expect(shipped.equals(readFileSync(path.join(ROOT, "packaging", "windows", file))), file).toBe(true);
    }
  });

  it("installs a bot that loads with production dependencies only and has nothing native or platform-specific", async () => {
    const unpacked = path.join(out, "unpacked");
    execFileSync("unzip", ["-q", zip, `${TOP}/bot/*`, "-d", unpacked], { maxBuffer: 64 * 1024 * 1024 });
    const bot = path.join(unpacked, TOP, "bot");
    const tree = checkBotTree(bot);
    expect(tree.problems).toEqual([]);
    expect(tree.packages).toBeGreaterThan(Object.keys(pkg.dependencies).length);
    // A configuration file as the installer writes it, lacking BOT_APP_ID: the bot's whole
    // module graph loads (static imports) and it stops at the configuration, naming it.
    const config = path.join(out, "bot.json");
    await writeFile(config, JSON.stringify({ BOT_BRIDGE_SECRET: "0123456789abcdef-bridge" }));
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, BOT_CONFIG_FILE: config };
    const run = await runProgram(
      "node",
      [path.join(bot, "node_modules", "teams-media-bot", "dist", "bot.js")],
      {
        cwd: out,
        env: { ...Object.fromEntries(Object.keys(process.env).map((k) => [k, undefined])), ...env },
      },
    );
    expect(run.stderr).toMatch(/^configuration error: BOT_APP_ID/);
    expect(run.code).toBe(2);
  }, 120_000);
});
