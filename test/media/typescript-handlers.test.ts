/**
 * TypeScript handler modules (.ts/.mts/.cts): tsx is an optional peer dependency, registered
 * in the media worker only when a handler needs it. The compiled case is run for real: the
 * handler loader bundled to plain JavaScript (esbuild, tsx's own dependency) in a Node process
 * that has no TypeScript loader, as the published package's worker runs.
 */
import { spawn } from "node:child_process";
import { copyFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ensureTypeScriptLoader,
  isTypeScriptModule,
  resolveTsxEsmApi,
  TypeScriptLoaderMissingError,
} from "../../src/media/typescript-loader.js";

const ROOT = path.join(import.meta.dirname, "..", "..");
const FIXTURE = path.join(ROOT, "test/fixtures/echo-dtmf-bot.ts");
let scratch: string;
let runner: string;

beforeAll(async () => {
  // Outside the project: no node_modules/tsx above it.
  scratch = await mkdtemp(path.join(tmpdir(), "ts-handlers-"));
  await build({
    entryPoints: [path.join(ROOT, "src/media/handler-loader.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    packages: "external",
    outfile: path.join(scratch, "handler-loader.mjs"),
    logLevel: "silent",
  });
  runner = path.join(scratch, "load.mjs");
  await writeFile(
    runner,
    `import { loadHandlers } from ${JSON.stringify(pathToFileURL(path.join(scratch, "handler-loader.mjs")).href)};
try {
  const [loaded] = await loadHandlers([{ module: process.argv[2] }]);
  process.stdout.write(\`loaded \${typeof loaded.factory}\`);
} catch (error) {
  process.stdout.write(\`\${error.name}: \${error.message}\`);
}
`,
  );
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Runs the compiled loader on `module` in a plain Node process (no tsx) started in `cwd`. */
function loadInPlainNode(module: string, cwd: string): Promise<string> {
  const child = spawn(process.execPath, [runner, module], { cwd, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve) => child.once("exit", () => resolve(out)));
}

describe("TypeScript handler modules", () => {
  it("are told apart by their extension", () => {
    expect(
      ["a.ts", "./b.mts", "/c/d.cts", "file:///e.ts", "f.js", "g.mjs", "h.d.ts.js"].map(isTypeScriptModule),
    ).toEqual([true, true, true, true, false, false, false]);
  });

  it("find tsx from the first folder that can see it, or none", () => {
    expect(resolveTsxEsmApi([scratch])).toBeUndefined();
    expect(resolveTsxEsmApi([scratch, ROOT])).toMatch(/^file:\/\/.*\/node_modules\/tsx\/.*\.mjs$/);
  });

  it("without tsx, refuse with one line saying what to do", async () => {
    await expect(
      ensureTypeScriptLoader("./my-bot.ts", path.join(scratch, "my-bot.ts"), scratch),
    ).rejects.toEqual(new TypeScriptLoaderMissingError("./my-bot.ts"));
    expect(new TypeScriptLoaderMissingError("./my-bot.ts").message).toBe(
      "handler ./my-bot.ts is TypeScript: install tsx (npm i -D tsx) or point at compiled JavaScript",
    );
  });

  it("a compiled worker loads a .ts handler when tsx is resolvable from the working directory", async () => {
    expect(await loadInPlainNode(FIXTURE, ROOT)).toBe("loaded function");
  }, 30_000);

  it("a compiled worker refuses a .ts handler with no tsx in reach: the one line, as a HandlerLoadError", async () => {
    copyFileSync(FIXTURE, path.join(scratch, "my-bot.ts"));
    expect(await loadInPlainNode("./my-bot.ts", scratch)).toBe(
      "HandlerLoadError: handler ./my-bot.ts is TypeScript: install tsx (npm i -D tsx) or point at compiled JavaScript",
    );
  }, 30_000);
});
