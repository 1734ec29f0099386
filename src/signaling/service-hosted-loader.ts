/**
 * Loads the service-hosted handler module (BOT_SERVICE_HOSTED_HANDLER=path[#export]) once at
 * start, in the main thread: a missing module or export, options the handler's check refuses,
 * or a bad preFetchMedia fail the start with one line naming the handler. TypeScript modules
 * load through tsx as media handler modules do.
 */
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { HandlerLoadError } from "../media/handler-loader.js";
import { ensureTypeScriptLoader, isTypeScriptModule } from "../media/typescript-loader.js";
import type { ServiceHostedHandlerDefinition } from "./service-hosted-api.js";
import type { LoadedServiceHostedHandler } from "./service-hosted-calls.js";
import { checkPreFetchMedia } from "./service-hosted-prefetch.js";

/** `spec`: a path (relative to the working directory) or file: URL, then optionally `#export`. */
export async function loadServiceHostedHandler(
  spec: string,
  rawOptions: unknown,
): Promise<LoadedServiceHostedHandler> {
  const hash = spec.lastIndexOf("#");
  const location = hash > 0 ? spec.slice(0, hash) : spec;
  const exportName = hash > 0 ? spec.slice(hash + 1) : "default";
  if (location === "")
    throw new HandlerLoadError("service-hosted handler module must be a file path or file: URL");
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
    throw new HandlerLoadError(
      `cannot load service-hosted handler module ${location}: ${(error as Error).message}`,
    );
  }
  const name = `${location}#${exportName}`;
  const definition = module[exportName] as ServiceHostedHandlerDefinition<unknown> | undefined;
  if (definition === null || typeof definition !== "object" || typeof definition.create !== "function")
    throw new HandlerLoadError(
      `service-hosted handler module ${location} has no export "${exportName}" made with defineServiceHostedHandler (an object with create())`,
    );
  if (definition.choose !== undefined && typeof definition.choose !== "function")
    throw new HandlerLoadError(`service-hosted handler ${name}: choose must be a function`);
  let options: unknown = rawOptions;
  if (definition.options) {
    try {
      options = definition.options(rawOptions);
    } catch (error) {
      throw new HandlerLoadError(
        `service-hosted handler ${name}: options refused: ${(error as Error).message}`,
      );
    }
  }
  if (definition.preFetchMedia !== undefined) {
    try {
      checkPreFetchMedia(definition.preFetchMedia);
    } catch (error) {
      throw new HandlerLoadError(`service-hosted handler ${name}: ${(error as Error).message}`);
    }
  }
  return { name, definition, options };
}
