/**
 * The bundle checkers that bundle.test.ts runs on a real zip only expect "no problems" there;
 * here each checker is shown to find each kind of problem, so that expectation can fail.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkBotTree, checkBundleEntries, REQUIRED_ENTRIES } from "../../scripts/release-windows-check.mjs";

const TOP = "teams-media-bot-1.0.0-win-x64";
const whole = [...REQUIRED_ENTRIES, "bot/node_modules/ws/package.json"].map((e) => `${TOP}/${e}`);
const options = { topFolder: TOP, botDependencies: ["ws"], requireBotService: false };

describe("checkBundleEntries", () => {
  it("finds nothing in a whole listing", () => {
    expect(checkBundleEntries(whole, options)).toEqual([]);
  });

  it("names a missing entry, a bot dependency, the bot service, a stray entry, dev tooling and TypeScript sources", () => {
    const entries = [
      ...whole.filter((e) => !e.endsWith("host/NativeMedia.dll") && !e.includes("/ws/")),
      "stray.txt",
      `${TOP}/bot/node_modules/vitest/package.json`,
      `${TOP}/bot/node_modules/teams-media-bot/src/bot.ts`,
    ];
    expect(checkBundleEntries(entries, { ...options, requireBotService: true })).toEqual([
      `outside the top folder ${TOP}: stray.txt`,
      "missing: host/NativeMedia.dll",
      "missing: bot/node_modules/ws/package.json",
      "missing: bot-service/TeamsMediaBot.Service.exe",
      "dev tooling: bot/node_modules/vitest/package.json",
      "TypeScript source: bot/node_modules/teams-media-bot/src/bot.ts",
    ]);
  });
});

describe("checkBotTree", () => {
  it("counts packages and names native addons, platform-specific packages, install scripts and dev tooling", async () => {
    const bot = await mkdtemp(path.join(tmpdir(), "tmb-bot-tree-"));
    try {
      const pkg = async (name: string, manifest: Record<string, unknown>) => {
        await mkdir(path.join(bot, "node_modules", name), { recursive: true });
        await writeFile(
          path.join(bot, "node_modules", name, "package.json"),
          JSON.stringify({ name, ...manifest }),
        );
      };
      await pkg("ws", {});
      await pkg("protobufjs", { scripts: { postinstall: "node scripts/postinstall" } });
      await pkg("native-thing", { os: ["linux"], scripts: { install: "node-gyp rebuild" } });
      await pkg("typescript", {});
      await writeFile(path.join(bot, "node_modules", "native-thing", "addon.node"), "");
      const { problems, packages } = checkBotTree(bot);
      expect(packages).toBe(4);
      expect(problems.sort()).toEqual(
        [
          `native addon: ${path.join("node_modules", "native-thing", "addon.node")}`,
          "platform-specific package (os/cpu): native-thing",
          "install script (install) ran here, for this platform: native-thing",
          "dev tooling: typescript",
        ].sort(),
      );
    } finally {
      await rm(bot, { recursive: true, force: true });
    }
  });
});
