import type { CallHandler, CallHandlerFactory, MediaCall } from "./bot-api.js";

/** What `defineHandler` takes: how to check the handler's options, and how to create it per call. */
export interface HandlerDefinition<Options> {
  /**
   * Turns the raw options (JSON from the configuration, or a spec's options) into the typed
   * options, or throws an Error whose message names the field. Runs once when the media worker
   * starts: bad options fail the start, naming the handler, instead of failing every call.
   * Without it, the raw options are passed on unchecked.
   */
  options?: (raw: unknown) => Options;
  /** Creates the handler of one call with the checked options (the same object every call). */
  create(call: MediaCall, options: Options): CallHandler | Promise<CallHandler>;
}

/** A handler factory that carries its options check; what a handler module exports. */
export type DefinedHandler<Options> = CallHandlerFactory<Options> & {
  /** The definition's `options` check (identity when it has none). */
  readonly parseOptions: (raw: unknown) => Options;
};

/**
 * Makes a handler whose options are typed and checked at worker start:
 *
 *   export default defineHandler({
 *     options: (raw) => parseGreeting(raw),        // throws "greeting must be a string"
 *     create(call, options) { ... return { onAudio(frame) { ... } }; },
 *   });
 *
 * The result is still a plain factory `(call, options) => CallHandler` (callable from tests).
 */
export function defineHandler<Options = unknown>(
  definition: HandlerDefinition<Options>,
): DefinedHandler<Options> {
  const parse = definition.options ?? ((raw: unknown) => raw as Options);
  const factory = (call: MediaCall, options: Options) => definition.create(call, options);
  return Object.assign(factory, { parseOptions: parse });
}

/** The options check a module's export carries, if it was made with `defineHandler`. */
export function optionsParserOf(factory: unknown): ((raw: unknown) => unknown) | undefined {
  const parse = (factory as { parseOptions?: unknown }).parseOptions;
  return typeof parse === "function" ? (parse as (raw: unknown) => unknown) : undefined;
}
