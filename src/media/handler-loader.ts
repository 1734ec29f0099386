import { isAbsolute, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { CallHandler, CallHandlerFactory, HandlerSpec, MediaCall } from "./bot-api.js";
import { optionsParserOf } from "./define-handler.js";
import { createEchoHandler } from "./processors/echo.js";
import { createPlayerHandler } from "./processors/player.js";
import { createRecorderHandler } from "./processors/recorder.js";
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

/** The built-in handlers by spec name: each checks its own options (see processors/). */
const BUILTINS: Readonly<Record<string, CallHandlerFactory>> = {
  echo: createEchoHandler,
  player: createPlayerHandler,
  recorder: createRecorderHandler,
};

/**
 * Resolves handler specs once, when the worker starts, so a missing module or export, or
 * options the handler's `defineHandler` check refuses, fail the start with a clear message
 * naming the handler instead of failing every call.
 */
export async function loadHandlers(specs: readonly HandlerSpec[]): Promise<LoadedHandler[]> {
  const loaded: LoadedHandler[] = [];
  for (const spec of specs) {
    const { name, factory } = "builtin" in spec ? builtinFactory(spec.builtin) : await moduleFactory(spec);
    loaded.push({ name, factory, options: checkedOptions(name, factory, spec.options) });
  }
  return loaded;
}

function builtinFactory(builtin: unknown): { name: string; factory: CallHandlerFactory } {
  const factory =
    typeof builtin === "string" && Object.hasOwn(BUILTINS, builtin) ? BUILTINS[builtin] : undefined;
  if (factory === undefined) throw new HandlerLoadError(`unknown builtin handler ${JSON.stringify(builtin)}`);
  return { name: `builtin ${builtin as string}`, factory };
}

async function moduleFactory(spec: {
  module: string;
  export?: string;
}): Promise<{ name: string; factory: CallHandlerFactory }> {
  const location = spec.module;
  const module = await importHandlerModule(location, "handler module");
  const exportName = spec.export ?? "default";
  const factory = module[exportName];
  if (typeof factory !== "function") {
    throw new HandlerLoadError(`handler module ${location} has no function export "${exportName}"`);
  }
  return { name: `${location}#${exportName}`, factory: factory as CallHandlerFactory };
}

/**
 * Imports a handler module: a path (relative to the working directory the bot was started in)
 * or file: URL; a TypeScript one through tsx. `what` names it in the HandlerLoadError thrown when
 * it cannot be loaded ("handler module", "service-hosted handler module").
 */
export async function importHandlerModule(location: unknown, what: string): Promise<Record<string, unknown>> {
  if (typeof location !== "string" || location === "")
    throw new HandlerLoadError(`${what} must be a file path or file: URL`);
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
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    throw new HandlerLoadError(`cannot load ${what} ${location}: ${(error as Error).message}`);
  }
}

/** Runs the factory's options check (defineHandler) once: its error names the field. */
function checkedOptions(name: string, factory: CallHandlerFactory, raw: unknown): unknown {
  const parse = optionsParserOf(factory);
  if (parse === undefined) return raw;
  try {
    return parse(raw);
  } catch (error) {
    throw new HandlerLoadError(`handler ${name}: options refused: ${(error as Error).message}`);
  }
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
