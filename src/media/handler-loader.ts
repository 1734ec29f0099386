import { isAbsolute, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { CallHandler, CallHandlerFactory, HandlerSpec, MediaCall } from "./bot-api.js";
import { createEchoHandler } from "./processors/echo.js";
import { createPlayerHandler, type PlayerOptions } from "./processors/player.js";
import { createRecorderHandler, type RecorderOptions } from "./processors/recorder.js";
import { ensureTypeScriptLoader, isTypeScriptModule } from "./typescript-loader.js";

/** A handler spec resolved to its factory and options, ready to run for each call. */
export interface LoadedHandler {
  name: string;
  factory: CallHandlerFactory;
  options: unknown;
}

export class HandlerLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HandlerLoadError";
  }
}

/**
 * Resolves handler specs once, when the worker starts, so a missing module or export fails
 * the start with a clear message instead of failing every call.
 */
export async function loadHandlers(specs: readonly HandlerSpec[]): Promise<LoadedHandler[]> {
  const loaded: LoadedHandler[] = [];
  for (const spec of specs) {
    if ("builtin" in spec) {
      switch (spec.builtin) {
        case "echo":
          loaded.push({ name: "echo", factory: createEchoHandler, options: undefined });
          break;
        case "player":
          if (typeof spec.options?.wavPath !== "string")
            throw new HandlerLoadError("builtin player needs options.wavPath");
          loaded.push({
            name: "player",
            factory: (call, options) => createPlayerHandler(call, options as PlayerOptions),
            options: spec.options,
          });
          break;
        case "recorder":
          loaded.push({
            name: "recorder",
            factory: (call, options) => createRecorderHandler(call, options as RecorderOptions),
            options: spec.options ?? {},
          });
          break;
        default:
          throw new HandlerLoadError(
            `unknown builtin handler ${JSON.stringify((spec as { builtin: unknown }).builtin)}`,
          );
      }
      continue;
    }
    const location = spec.module;
    if (typeof location !== "string" || location === "")
      throw new HandlerLoadError("handler module must be a file path or file: URL");
    // A relative path is relative to the working directory the bot was started in.
    const url = location.startsWith("file:")
      ? location
      : pathToFileURL(isAbsolute(location) ? location : resolve(location)).href;
    if (isTypeScriptModule(location)) {
      try {
        await ensureTypeScriptLoader(location, fileURLToPath(url));
      } catch (error) {
        throw new HandlerLoadError((error as Error).message);
      }
    }
    let module: Record<string, unknown>;
    try {
      module = (await import(url)) as Record<string, unknown>;
    } catch (error) {
      throw new HandlerLoadError(`cannot load handler module ${location}: ${(error as Error).message}`);
    }
    const exportName = spec.export ?? "default";
    const factory = module[exportName];
    if (typeof factory !== "function") {
      throw new HandlerLoadError(`handler module ${location} has no function export "${exportName}"`);
    }
    loaded.push({
      name: `${location}#${exportName}`,
      factory: factory as CallHandlerFactory,
      options: spec.options,
    });
  }
  return loaded;
}

/** Creates one call's handlers; a factory that throws is logged and left out (the call goes on). */
export async function createCallHandlers(
  loaded: readonly LoadedHandler[],
  call: MediaCall,
): Promise<CallHandler[]> {
  const handlers: CallHandler[] = [];
  for (const entry of loaded) {
    try {
      const handler = await entry.factory(call, entry.options);
      if (handler !== null && typeof handler === "object") handlers.push(handler);
      else call.log.error({ handler: entry.name }, "handler factory returned no handler object");
    } catch (error) {
      call.log.error(
        { err: error, handler: entry.name },
        "handler factory threw; the call goes on without it",
      );
    }
  }
  return handlers;
}
