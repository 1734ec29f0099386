import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { resolveTsxEsmApi, TS_LOADER_MARK } from "./typescript-loader.js";

/**
 * Starts a worker thread running `entry` (a module URL next to the caller). Compiled .js runs
 * directly. A .ts entry (the project runs its sources under tsx, and so does vitest) is started
 * through a tiny bootstrap that registers tsx's loader inside the worker first: on Node 20,
 * `execArgv: ["--import", "tsx"]` does not reach a worker's own entry module.
 */
export function spawnWorker(entry: URL, workerData: unknown): Worker {
  if (!entry.pathname.endsWith(".ts")) return new Worker(fileURLToPath(entry), { workerData });
  const tsxApi = tsxEsmApiUrl();
  // The mark tells the worker's handler loader that TypeScript handlers load already.
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); globalThis[Symbol.for(${JSON.stringify(TS_LOADER_MARK.description)})] = true; return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}

/**
 * The URL of module `name` next to the caller's module (`import.meta.url`), with the caller's
 * own extension: .ts under tsx and vitest, .js once compiled.
 */
export function siblingEntry(name: string, callerUrl: string): URL {
  return new URL(`./${name}${callerUrl.endsWith(".ts") ? ".ts" : ".js"}`, callerUrl);
}

/** tsx's ESM API next to this module (a .ts entry means the project runs under tsx). */
function tsxEsmApiUrl(): string {
  const api = resolveTsxEsmApi([path.dirname(fileURLToPath(import.meta.url))]);
  if (api === undefined)
    throw new Error("a .ts worker entry needs tsx, and no tsx with an ESM API (tsx/esm/api) was found");
  return api;
}
