/**
 * Loads the service-hosted handler module (BOT_SERVICE_HOSTED_HANDLER=path[#export]) once at
 * start, in the main thread: a missing module or export, options the handler's check refuses,
 * or a bad preFetchMedia fail the start with one line naming the handler. TypeScript modules
 * load through tsx as media handler modules do.
 */
import { HandlerLoadError, importHandlerModule } from "../media/handler-loader.js";
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
  const module = await importHandlerModule(location, "service-hosted handler module");
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
