#!/usr/bin/env node
/**
 * Builds the Windows x64 release bundle: release/teams-media-bot-windows-x64-<version>.zip with one
 * top folder of that name holding
 *   host\          dotnet publish of TeamsMediaBridge.Host for win-x64 with the Skype platform
 *   bot-service\   dotnet publish of TeamsMediaBridge.BotService (when that project exists)
 *   bot\           the packed package installed with production dependencies only
 *   config\settings.template.json, scripts\*.ps1, README.txt   (from packaging/windows)
 *
 *   node scripts/release-windows.mjs [--out <dir>]      (npm run release:windows)
 *
 * The .NET projects are published from a copy of native-bridge, so their obj/ folders never race
 * with a test building the same projects for Linux. The zip's entries are sorted and dated
 * 2000-01-01, so the same inputs list the same.
 */
import { execFileSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { checkBotTree } from "./release-windows-check.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const outArg = args.indexOf("--out");
const OUT = path.resolve(outArg >= 0 ? args[outArg + 1] : path.join(ROOT, "release"));
const version = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).version;
const NAME = `teams-media-bot-windows-x64-${version}`;
const WORK = path.join(OUT, ".work");
const STAGE = path.join(WORK, "stage", NAME);
const ZIP = path.join(OUT, `${NAME}.zip`);
const started = Date.now();
const env = { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: "1", DOTNET_NOLOGO: "1", NO_COLOR: "1" };

function step(what) {
  console.log(`[release:windows ${((Date.now() - started) / 1000).toFixed(0)}s] ${what}`);
}

function run(command, commandArgs, cwd) {
  execFileSync(command, commandArgs, { cwd, env, stdio: ["ignore", "inherit", "inherit"] });
}

rmSync(WORK, { recursive: true, force: true });
rmSync(ZIP, { force: true });
mkdirSync(STAGE, { recursive: true });

// --- the .NET parts, from a copy of native-bridge without build outputs ---
const nativeCopy = path.join(WORK, "native-bridge");
for (const part of ["Directory.Build.props", "proto", "src"]) {
  cpSync(path.join(ROOT, "native-bridge", part), path.join(nativeCopy, part), {
    recursive: true,
    filter: (source) => !/[\\/](bin|obj)$/.test(source),
  });
}
function publish(project, outDir) {
  // -p:SkypePlatform=true links the real media platform (native-bridge/README.md); the
  // BotService ignores it.
  run(
    "dotnet",
    [
      "publish",
      path.join(nativeCopy, "src", project),
      "-c",
      "Release",
      "-r",
      "win-x64",
      "-p:SkypePlatform=true",
      // Source paths as /_/ in the assemblies and PDBs: the same sources give the same bytes
      // wherever they were copied to (the copy has no .git for SourceLink's mapping).
      "-p:ContinuousIntegrationBuild=true",
      `-p:PathMap=${nativeCopy}=/_/native-bridge`,
      "-o",
      outDir,
      "-nologo",
      "-v",
      "quiet",
      // NU1603 (a newer dependency version resolved) is expected: see native-bridge/README.md.
      "-clp:ErrorsOnly",
    ],
    ROOT,
  );
}
step("dotnet publish TeamsMediaBridge.Host (win-x64, Skype platform)");
publish("TeamsMediaBridge.Host", path.join(STAGE, "host"));
// The same file-by-file check CI runs on native-bridge/publish-windows.sh's output.
run("bash", [path.join(ROOT, "native-bridge", "check-windows-publish.sh"), path.join(STAGE, "host")], ROOT);
const botServiceProject = path.join(ROOT, "native-bridge", "src", "TeamsMediaBridge.BotService");
if (existsSync(botServiceProject)) {
  step("dotnet publish TeamsMediaBridge.BotService (win-x64)");
  publish("TeamsMediaBridge.BotService", path.join(STAGE, "bot-service"));
} else {
  console.warn(
    "release:windows: native-bridge/src/TeamsMediaBridge.BotService is not in this tree: bot-service\\ holds only MISSING.txt (the bundle cannot be installed without it)",
  );
  mkdirSync(path.join(STAGE, "bot-service"));
  writeFileSync(
    path.join(STAGE, "bot-service", "MISSING.txt"),
    "TeamsMediaBot.Service.exe was not built: native-bridge/src/TeamsMediaBridge.BotService was missing from the tree this bundle was built from.\r\n",
  );
}

// --- the bot: the packed package, installed with production dependencies only ---
step("npm pack");
const packDir = path.join(WORK, "pack");
mkdirSync(packDir);
run("npm", ["pack", "--pack-destination", packDir, "--loglevel=error"], ROOT);
const tarball = readdirSync(packDir).find((name) => name.endsWith(".tgz"));
if (!tarball) throw new Error("npm pack wrote no tarball");
const botDir = path.join(STAGE, "bot");
mkdirSync(botDir);
writeFileSync(
  path.join(botDir, "package.json"),
  `${JSON.stringify({ name: "teams-media-bot-windows", version, private: true, description: "The bot as installed on a Windows media host" }, null, 2)}\n`,
);
step("npm install --omit=dev (the packed package, production dependencies)");
run(
  "npm",
  [
    "install",
    "--omit=dev",
    "--prefer-offline",
    "--no-audit",
    "--no-fund",
    "--loglevel=error",
    path.join(packDir, tarball),
  ],
  botDir,
);
// The dependency names the tarball's temporary path; the bundle installs from its own node_modules.
const botPackage = JSON.parse(readFileSync(path.join(botDir, "package.json"), "utf8"));
botPackage.dependencies = { "teams-media-bot": version };
writeFileSync(path.join(botDir, "package.json"), `${JSON.stringify(botPackage, null, 2)}\n`);
rmSync(path.join(botDir, "package-lock.json"), { force: true });
rmSync(path.join(botDir, "node_modules", ".package-lock.json"), { force: true });
// Symbolic links to Linux command shims: nothing on Windows runs them.
rmSync(path.join(botDir, "node_modules", ".bin"), { recursive: true, force: true });
const botCheck = checkBotTree(botDir);
if (botCheck.problems.length > 0)
  throw new Error(`the bot's tree is not fit for Windows:\n${botCheck.problems.join("\n")}`);

// --- configuration template, scripts, README ---
const packaging = path.join(ROOT, "packaging", "windows");
cpSync(path.join(packaging, "config"), path.join(STAGE, "config"), { recursive: true });
cpSync(path.join(packaging, "scripts"), path.join(STAGE, "scripts"), { recursive: true });
cpSync(path.join(packaging, "README.txt"), path.join(STAGE, "README.txt"));

// --- the zip: sorted entries, fixed dates, no extra attributes ---
step("zip");
const entries = [];
const fixed = new Date("2000-01-01T00:00:00Z");
const walk = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full);
    else entries.push(path.relative(path.dirname(STAGE), full));
    utimesSync(full, fixed, fixed);
  }
};
walk(STAGE);
entries.sort();
execFileSync("zip", ["-q", "-X", "-D", "-@", ZIP], {
  cwd: path.dirname(STAGE),
  input: `${entries.join("\n")}\n`,
  stdio: ["pipe", "inherit", "inherit"],
});
rmSync(WORK, { recursive: true, force: true });

const megabytes = (statSync(ZIP).size / 1024 / 1024).toFixed(1);
step(`${ZIP}: ${megabytes} MB, ${entries.length} files`);
console.log(
  `release:windows: bot dependencies ${botCheck.packages} packages, none with native or platform-specific binaries`,
);
