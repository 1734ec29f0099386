import type { HandlerSpec } from "./bot-api.js";

/** Turns validated BOT_MEDIA_HANDLERS entries (see config.ts) into the worker's handler specs. */
export function handlerSpecsFromConfig(entries: readonly string[]): HandlerSpec[] {
  return entries.map((entry): HandlerSpec => {
    if (entry === "echo") return { builtin: "echo" };
    if (entry === "recorder") return { builtin: "recorder" };
    if (entry === "recorder:unmixed") return { builtin: "recorder", options: { unmixed: true } };
    if (entry.startsWith("player:"))
      return { builtin: "player", options: { wavPath: entry.slice("player:".length) } };
    if (entry.startsWith("module:")) {
      const [module, exportName] = entry.slice("module:".length).split("#");
      return exportName ? { module: module as string, export: exportName } : { module: module as string };
    }
    throw new Error(`unknown media handler "${entry}"`);
  });
}
