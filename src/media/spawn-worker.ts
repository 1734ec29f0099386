import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";

/**
 * Starts a worker thread running `entry` (a module URL next to the caller). Compiled .js runs
 * directly. A .ts entry (the project runs its sources under tsx, and so does vitest) is started
 * through a tiny bootstrap that registers tsx's loader inside the worker first: on Node 20,
 * `execArgv: ["--import", "tsx"]` does not reach a worker's own entry module.
 */
export function spawnWorker(entry: URL, workerData: unknown): Worker {
  if (!entry.pathname.endsWith(".ts")) return new Worker(fileURLToPath(entry), { workerData });
  const tsxApi = tsxEsmApiUrl();
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}

/**
 * The URL of module `name` next to the caller's module (`import.meta.url`), with the caller's
 * own extension: .ts under tsx and vitest, .js once compiled.
 */
export function siblingEntry(name: string, callerUrl: string): URL {
  return new URL(`./${name}${callerUrl.endsWith(".ts") ? ".ts" : ".js"}`, callerUrl);
}

/** tsx's ESM API module, resolved with the "import" condition (its CJS build cannot register in a worker). */
function tsxEsmApiUrl(): string {
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve("tsx/package.json");
  const manifest = require(manifestPath) as { exports?: Record<string, { import?: { default?: string } }> };
  const target = manifest.exports?.["./esm/api"]?.import?.default;
  if (typeof target !== "string") throw new Error("this tsx version has no ESM API (tsx/esm/api)");
  return new URL(target, pathToFileURL(manifestPath)).href;
}
