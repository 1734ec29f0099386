/**
 * The bundle's config\settings.template.json documents every setting of both processes: each
 * BOT_* name the bot's code reads (a string literal anywhere in src/) or the README's
 * configuration table lists, and each the media host reads (HostSettings.cs, appsettings.json).
 * A setting added to the code without the template fails here; so does a template entry no
 * process reads, an entry marked for the wrong process, or a default that disagrees.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./pwsh.js";

interface TemplateEntry {
  value: unknown;
  required: boolean;
  for: string[];
  default: string | null;
  description: string;
}
interface Template {
  install: Record<string, { value: string; description: string }>;
  settings: Record<string, TemplateEntry>;
}

const template = JSON.parse(
  readFileSync(path.join(ROOT, "packaging", "windows", "config", "settings.template.json"), "utf8"),
) as Template;
const HOST = path.join(ROOT, "native-bridge", "src", "TeamsMediaBridge.Host");
const NAME = /["'`](BOT_[A-Z0-9_]*[A-Z0-9])["'`]/g;

function filesUnder(dir: string, extension: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(extension))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

function literalNames(files: string[]): Set<string> {
  const names = new Set<string>();
  for (const file of files)
    for (const match of readFileSync(file, "utf8").matchAll(NAME)) names.add(match[1] as string);
  return names;
}

/** The README's configuration table: name(s) in the first cell, default in the third. */
function readmeTable(): Map<string, string> {
  const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
  const section = readme.slice(
    readme.indexOf("## Configuration"),
    readme.indexOf("\n## ", readme.indexOf("## Configuration") + 5),
  );
  const rows = new Map<string, string>();
  for (const line of section.split("\n")) {
    const cells = line.split("|").map((cell) => cell.trim());
    if (!cells[1]?.startsWith("`BOT_")) continue;
    for (const match of (cells[1] as string).matchAll(/`(BOT_[A-Z0-9_]+)`/g))
      rows.set(match[1] as string, cells[3] ?? "");
  }
  return rows;
}

const botNames = literalNames(filesUnder(path.join(ROOT, "src"), ".ts"));
const readme = readmeTable();
const hostNames = literalNames([path.join(HOST, "HostSettings.cs")]);
const appsettings = JSON.parse(readFileSync(path.join(HOST, "appsettings.json"), "utf8")) as Record<
  string,
  string
>;
for (const name of Object.keys(appsettings)) hostNames.add(name);

describe("config/settings.template.json", () => {
  it("found the settings where the code keeps them", () => {
    // Guards the scan itself: a moved file would otherwise make every check below vacuous.
    expect(botNames.size).toBeGreaterThan(35);
    expect(readme.size).toBeGreaterThan(35);
    expect([...hostNames]).toEqual(
      expect.arrayContaining(["BOT_BRIDGE_SECRET", "BOT_MEDIA_CERT_THUMBPRINT"]),
    );
  });

  it("documents every BOT_* setting of the bot (src/ and the README's table), marked for the bot", () => {
    const missing = [...new Set([...botNames, ...readme.keys()])].filter((name) => !template.settings[name]);
    expect(missing, "settings in the code but not in the template").toEqual([]);
    const notForBot = [...botNames].filter((name) => !template.settings[name]?.for.includes("bot"));
    // BOT_MEDIA_INTERNAL_PORT etc. appear in src/ only as the host's names (emulator), never read by the bot.
    expect(notForBot.filter((name) => !hostNames.has(name))).toEqual([]);
  });

  it("documents every setting of the media host (HostSettings.cs, appsettings.json), marked for the host", () => {
    const missing = [...hostNames].filter((name) => !template.settings[name]);
    expect(missing, "host settings not in the template").toEqual([]);
    const notForHost = [...hostNames].filter((name) => !template.settings[name]?.for.includes("host"));
    expect(notForHost).toEqual([]);
  });

  it("has no entry that neither process reads, and a description for each", () => {
    const stale = Object.keys(template.settings).filter(
      (name) => !botNames.has(name) && !hostNames.has(name),
    );
    expect(stale).toEqual([]);
    for (const [name, entry] of Object.entries(template.settings)) {
      expect(entry.description.length, name).toBeGreaterThan(15);
      expect(entry.value, `${name} ships empty`).toBe("");
      for (const process of entry.for) expect(["bot", "host"]).toContain(process);
    }
  });

  it("states the same defaults as the host's appsettings.json and the README's table", () => {
    for (const [name, value] of Object.entries(appsettings))
      expect(template.settings[name]?.default, name).toBe(value);
    for (const [name, cell] of readme) {
      const single = /^`([^`]+)`$/.exec(cell);
      if (single) expect(template.settings[name]?.default, name).toBe(single[1]);
    }
  });

  it("marks required what the processes cannot start without", () => {
    const required = Object.entries(template.settings)
      .filter(([, entry]) => entry.required)
      .map(([name]) => name)
      .sort();
    expect(required).toEqual([
      "BOT_APP_ID",
      "BOT_BRIDGE_SECRET",
      "BOT_MEDIA_CERT_THUMBPRINT",
      "BOT_MEDIA_FQDN",
      "BOT_MEDIA_PUBLIC_IP",
      "BOT_PUBLIC_URL",
      "BOT_TENANT_ID",
    ]);
  });
});
