/**
 * Handler modules written in TypeScript (.ts, .mts, .cts) need a loader at run time. tsx is an
 * optional peer dependency: when a handler is TypeScript, the media worker registers tsx's ESM
 * loader (resolved from the handler's folder, then the working directory) before importing it.
 * Without tsx the start fails with one line saying what to do.
 */
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

/** Set on globalThis once a TypeScript loader is active in this thread (spawnWorker sets it too). */
export const TS_LOADER_MARK = Symbol.for("teams-media-bot.typescript-loader");

export function isTypeScriptModule(location: string): boolean {
  return /\.(c|m)?ts$/i.test(location.split(/[?#]/)[0] ?? "");
}

export class TypeScriptLoaderMissingError extends Error {
  constructor(location: string) {
    super(`handler ${location} is TypeScript: install tsx (npm i -D tsx) or point at compiled JavaScript`);
    this.name = "TypeScriptLoaderMissingError";
  }
}

/**
 * The URL of tsx's ESM API (tsx/esm/api, "import" condition: its CommonJS build cannot register
 * in a worker), resolved from the first folder that can see a tsx package; undefined if none.
 */
export function resolveTsxEsmApi(fromDirectories: readonly string[]): string | undefined {
  for (const directory of fromDirectories) {
    let manifestPath: string;
    try {
      manifestPath = createRequire(path.join(path.resolve(directory), "noop.js")).resolve("tsx/package.json");
    } catch {
      continue;
    }
    const require = createRequire(manifestPath);
    const manifest = require(manifestPath) as { exports?: Record<string, { import?: { default?: string } }> };
    const target = manifest.exports?.["./esm/api"]?.import?.default;
    if (typeof target === "string") return new URL(target, pathToFileURL(manifestPath)).href;
  }
  return undefined;
}

/**
 * Makes sure TypeScript handler `location` can be imported in this thread: nothing to do when a
 * loader is already active; otherwise tsx is found and registered, or TypeScriptLoaderMissingError.
 */
export async function ensureTypeScriptLoader(
  location: string,
  resolvedPath: string,
  cwd: string = process.cwd(),
): Promise<void> {
  const marks = globalThis as { [TS_LOADER_MARK]?: boolean };
  if (marks[TS_LOADER_MARK]) return;
  const api = resolveTsxEsmApi([path.dirname(resolvedPath), cwd]);
  if (api === undefined) throw new TypeScriptLoaderMissingError(location);
  const tsx = (await import(api)) as { register: () => unknown };
  tsx.register();
  marks[TS_LOADER_MARK] = true;
}
