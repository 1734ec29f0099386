import type { HandlerSpec } from "./bot-api.js";

/**
 * Turns validated BOT_MEDIA_HANDLERS entries (see config.ts) and their options from
 * BOT_MEDIA_HANDLER_OPTIONS (by position) into the worker's handler specs. A built-in's
 * options are merged with what its entry says (`player:<wav>` is the wavPath, `recorder:unmixed`
 * sets unmixed); each handler checks the result when the worker starts.
 */
export function handlerSpecsFromConfig(
  entries: readonly string[],
  optionsByPosition: readonly unknown[] = [],
): HandlerSpec[] {
  return entries.map((entry, index): HandlerSpec => {
    const options = optionsByPosition[index];
    if (entry === "echo") return { builtin: "echo", ...withOptions(options) } as HandlerSpec;
    if (entry === "recorder") return { builtin: "recorder", ...withOptions(options) } as HandlerSpec;
    if (entry === "recorder:unmixed")
      return { builtin: "recorder", options: merged(options, { unmixed: true }) } as HandlerSpec;
    if (entry.startsWith("player:"))
      return {
        builtin: "player",
        options: merged(options, { wavPath: entry.slice("player:".length) }),
      } as HandlerSpec;
    if (entry.startsWith("module:")) {
      const [module, exportName] = entry.slice("module:".length).split("#");
      return {
        module: module as string,
        ...(exportName ? { export: exportName } : {}),
        ...withOptions(options),
      };
    }
    throw new Error(`unknown media handler "${entry}"`);
  });
}

function withOptions(options: unknown): { options?: unknown } {
  return options === undefined ? {} : { options };
}

/**
 * What a built-in's entry says, merged into its configured options object. Options that are
 * not an object are passed as they are, for the handler's check to refuse with the reason.
 */
function merged(options: unknown, fromEntry: Record<string, unknown>): unknown {
  if (options === undefined) return fromEntry;
  if (options !== null && typeof options === "object" && !Array.isArray(options))
    return { ...(options as Record<string, unknown>), ...fromEntry };
  return options;
}
