import { ConfigError } from "./config-error.js";
import { parseJsonSetting, type RawConfig } from "./env-readers.js";

export const SERVICE_HOSTED_HANDLER_VARIABLE = "BOT_SERVICE_HOSTED_HANDLER";
export const SERVICE_HOSTED_OPTIONS_VARIABLE = "BOT_SERVICE_HOSTED_HANDLER_OPTIONS";

/** The service-hosted handler module and its options (docs/service-hosted-media.md). */
export interface ServiceHostedSettings {
  /** `path[#export]`: a file path (relative to the working directory) or file: URL. */
  handler: string;
  /** JSON options, checked by the handler's `options` when it loads. */
  options?: unknown;
}

const HANDLER_SPEC = /^[^#]+(#[A-Za-z_$][\w$]*)?$/;

/** BOT_SERVICE_HOSTED_HANDLER (+ _OPTIONS, JSON); undefined when no handler is set. */
export function readServiceHostedSettings(source: RawConfig): ServiceHostedSettings | undefined {
  const handler = source[SERVICE_HOSTED_HANDLER_VARIABLE]?.trim();
  const optionsText = source[SERVICE_HOSTED_OPTIONS_VARIABLE]?.trim();
  if (handler === undefined || handler === "") {
    if (optionsText)
      throw new ConfigError(
        SERVICE_HOSTED_OPTIONS_VARIABLE,
        `is set but ${SERVICE_HOSTED_HANDLER_VARIABLE} is not`,
      );
    return undefined;
  }
  if (!HANDLER_SPEC.test(handler))
    throw new ConfigError(SERVICE_HOSTED_HANDLER_VARIABLE, `"${handler}" is not <module path>[#export]`);
  if (!optionsText) return { handler };
  return { handler, options: parseJsonSetting(SERVICE_HOSTED_OPTIONS_VARIABLE, optionsText) };
}
