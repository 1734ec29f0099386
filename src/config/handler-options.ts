import { ConfigError } from "./config-error.js";
import { parseJsonSetting, type RawConfig } from "./env-readers.js";

export const HANDLER_OPTIONS_VARIABLE = "BOT_MEDIA_HANDLER_OPTIONS";

/**
 * BOT_MEDIA_HANDLER_OPTIONS: the options of the BOT_MEDIA_HANDLERS entries, as JSON. Either an
 * object keyed by the entry exactly as it is written in BOT_MEDIA_HANDLERS
 * (`{"module:./my-bot.ts": {"greeting": "hello.wav"}}`), or an array with one element per
 * entry, by position (`[null, {"greeting": "hello.wav"}]`; null = none), which is needed when
 * one entry is listed twice. Returns the options by position (undefined = none). Only the
 * JSON's shape is checked here; each handler checks its own options when the media worker
 * starts (defineHandler), naming the handler and the field.
 */
export function readHandlerOptions(source: RawConfig, entries: readonly string[]): unknown[] {
  const text = source[HANDLER_OPTIONS_VARIABLE]?.trim();
  const byPosition: unknown[] = entries.map(() => undefined);
  if (text === undefined || text === "") return byPosition;
  const parsed = parseJsonSetting(HANDLER_OPTIONS_VARIABLE, text);
  if (Array.isArray(parsed)) {
    if (parsed.length !== entries.length)
      throw new ConfigError(
        HANDLER_OPTIONS_VARIABLE,
        `has ${parsed.length} elements but BOT_MEDIA_HANDLERS has ${entries.length} entries: give one per entry, null for none`,
      );
    return parsed.map((options) => (options === null ? undefined : options));
  }
  if (parsed === null || typeof parsed !== "object")
    throw new ConfigError(
      HANDLER_OPTIONS_VARIABLE,
      "must be a JSON object keyed by BOT_MEDIA_HANDLERS entry, or an array with one element per entry",
    );
  for (const [key, options] of Object.entries(parsed)) {
    const at = entries.indexOf(key);
    if (at < 0)
      throw new ConfigError(
        HANDLER_OPTIONS_VARIABLE,
        `key "${key}" is not an entry of BOT_MEDIA_HANDLERS (${entries.length === 0 ? "none set" : entries.join(", ")})`,
      );
    if (entries.indexOf(key, at + 1) >= 0)
      throw new ConfigError(
        HANDLER_OPTIONS_VARIABLE,
        `"${key}" is listed more than once in BOT_MEDIA_HANDLERS: give the options as an array, one element per entry`,
      );
    byPosition[at] = options === null ? undefined : options;
  }
  return byPosition;
}
