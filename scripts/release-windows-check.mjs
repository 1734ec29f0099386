/**
 * What the Windows bundle must hold and must not: used by release-windows.mjs while it builds
 * and by test/release/bundle.test.ts on the finished zip.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/** Development tooling that must not ship: the bot runs compiled JavaScript. */
export const DEV_PACKAGES = [
  "typescript",
  "tsx",
  "vitest",
  "esbuild",
  "@biomejs/biome",
  "protobufjs-cli",
  "fast-check",
];

/**
 * Install scripts known to write nothing platform-specific (read and checked): anything else
 * that ran at `npm install` here may have built or downloaded a Linux binary.
 */
const HARMLESS_INSTALL_SCRIPTS = new Map([
  ["protobufjs", "scripts/postinstall.js only warns about version schemes"],
]);

/** A TypeScript source (not a declaration file). */
export const isTypeScriptSource = (file) =>
  /\.(ts|mts|cts|tsx)$/.test(file) && !/\.d\.(ts|mts|cts)$/.test(file);

/** Entries (relative to the top folder, '/' separated) every bundle has. */
export const REQUIRED_ENTRIES = [
  "host/TeamsMediaBridge.Host.exe",
  "host/TeamsMediaBridge.Host.dll",
  "host/TeamsMediaBridge.Platform.Skype.dll",
  "host/Microsoft.Skype.Bots.Media.dll",
  "host/NativeMedia.dll",
  "host/MediaPlatformStartupScript.bat",
  "host/appsettings.json",
  "bot/package.json",
  "bot/node_modules/teams-media-bot/package.json",
  "bot/node_modules/teams-media-bot/dist/bot.js",
  "config/settings.template.json",
  "scripts/TeamsMediaBot.Common.ps1",
  "scripts/Install-TeamsMediaBot.ps1",
  "scripts/Test-TeamsMediaBot.ps1",
  "scripts/Uninstall-TeamsMediaBot.ps1",
  "README.txt",
];

/** Problems of a zip listing (entries relative to the zip root); empty when the bundle is whole. */
export function checkBundleEntries(entries, { topFolder, botDependencies, requireBotService }) {
  const problems = [];
  const inside = new Set();
  for (const entry of entries) {
    if (entry.endsWith("/")) continue;
    if (!entry.startsWith(`${topFolder}/`)) problems.push(`outside the top folder ${topFolder}: ${entry}`);
    else inside.add(entry.slice(topFolder.length + 1));
  }
  const required = [...REQUIRED_ENTRIES];
  for (const dependency of botDependencies) required.push(`bot/node_modules/${dependency}/package.json`);
  if (requireBotService) required.push("bot-service/TeamsMediaBot.Service.exe");
  for (const entry of required) if (!inside.has(entry)) problems.push(`missing: ${entry}`);
  for (const entry of inside) {
    for (const dev of DEV_PACKAGES)
      if (entry.includes(`node_modules/${dev}/`)) problems.push(`dev tooling: ${entry}`);
    if (isTypeScriptSource(entry) && entry.startsWith("bot/node_modules/teams-media-bot/"))
      problems.push(`TypeScript source: ${entry}`);
  }
  return problems;
}

/**
 * Checks an installed bot folder: no dev tooling, no TypeScript sources, and no package with a
 * native or platform-specific binary (built or downloaded for this Linux machine, it would not
 * run on Windows). Returns the problems and the number of packages.
 */
export function checkBotTree(botDir) {
  const problems = [];
  let packages = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      const relative = path.relative(botDir, full);
      if (entry.isDirectory()) {
        walk(full);
        continue;
      }
      if (entry.name.endsWith(".node")) problems.push(`native addon: ${relative}`);
      if (entry.name === "binding.gyp") problems.push(`native build (binding.gyp): ${relative}`);
      // Dependencies may ship their sources (inert); the bot itself must be compiled JavaScript.
      if (isTypeScriptSource(entry.name) && relative.startsWith(path.join("node_modules", "teams-media-bot")))
        problems.push(`TypeScript source: ${relative}`);
      if (
        entry.name === "package.json" &&
        path.basename(path.dirname(path.dirname(full))).match(/^(node_modules|@.+)$/)
      ) {
        packages += 1;
        const manifest = JSON.parse(readFileSync(full, "utf8"));
        if (DEV_PACKAGES.includes(manifest.name)) problems.push(`dev tooling: ${manifest.name}`);
        if (manifest.os || manifest.cpu)
          problems.push(`platform-specific package (os/cpu): ${manifest.name}`);
        if (manifest.gypfile) problems.push(`native build (gypfile): ${manifest.name}`);
        const scripts = manifest.scripts ?? {};
        for (const hook of ["preinstall", "install", "postinstall"])
          if (scripts[hook] && !HARMLESS_INSTALL_SCRIPTS.has(manifest.name))
            problems.push(`install script (${hook}) ran here, for this platform: ${manifest.name}`);
      }
    }
  };
  walk(path.join(botDir, "node_modules"));
  return { problems, packages };
}
