/**
 * isMainModule (src/bot.ts starts the bot only when it is the script node runs): true for the
 * script itself, also through a symlink (npm's bin links) and in a folder whose name has a
 * space, false for a module that script imports.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const MAIN_MODULE = new URL("../../src/app/main-module.ts", import.meta.url).href;
// tsx's loader by absolute URL: the scripts run in a folder outside the project.
const TSX = new URL("../../node_modules/tsx/dist/loader.mjs", import.meta.url).href;

describe("isMainModule", () => {
  let dir: string;

  beforeAll(async () => {
    dir = path.join(await mkdtemp(path.join(tmpdir(), "main-module-")), "a folder");
    await mkdir(dir);
    const probe = `import { isMainModule } from ${JSON.stringify(MAIN_MODULE)};\nexport const main = isMainModule(import.meta.url);\n`;
    await writeFile(path.join(dir, "probe.mjs"), `${probe}console.log("probe", main);\n`);
    await writeFile(path.join(dir, "importer.mjs"), 'import "./probe.mjs";\n');
    await symlink(path.join(dir, "probe.mjs"), path.join(dir, "bin link.mjs"));
  });

  afterAll(async () => {
    if (dir) await rm(path.dirname(dir), { recursive: true, force: true });
  });

  const runNode = async (script: string) =>
    (await promisify(execFile)(process.execPath, ["--import", TSX, script], { cwd: dir })).stdout.trim();

  it("is true for the script node was started with, by path, relative path or symlink", async () => {
    expect(await runNode(path.join(dir, "probe.mjs"))).toBe("probe true");
    expect(await runNode("probe.mjs")).toBe("probe true");
    expect(await runNode(path.join(dir, "bin link.mjs"))).toBe("probe true");
  });

  it("is false for a module the script imports", async () => {
    expect(await runNode(path.join(dir, "importer.mjs"))).toBe("probe false");
  });
});
