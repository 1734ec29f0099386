import { ConfigError } from "./config-error.js";

/** Raw key/value source: process.env merged over an optional JSON file. */
export type RawConfig = Readonly<Record<string, string | undefined>>;

function raw(source: RawConfig, name: string): string | undefined {
  const value = source[name];
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === "" ? undefined : trimmed;
}

export function readString(source: RawConfig, name: string): string | undefined {
  return raw(source, name);
}

export function requireString(source: RawConfig, name: string): string {
  const value = raw(source, name);
  if (value === undefined) throw new ConfigError(name, "is required but not set");
  return value;
}

export function readInteger(
  source: RawConfig,
  name: string,
  fallback: number,
  range: { min: number; max: number },
): number {
  const value = raw(source, name);
  if (value === undefined) return fallback;
  if (!/^-?\d+$/.test(value)) throw new ConfigError(name, `must be an integer, got "${value}"`);
  // + 0: "-0" is 0, not a negative zero that prints as 0 but compares apart with Object.is.
  const parsed = Number(value) + 0;
  if (parsed < range.min || parsed > range.max) {
    throw new ConfigError(name, `must be between ${range.min} and ${range.max}, got ${parsed}`);
  }
  return parsed;
}

export function readBoolean(source: RawConfig, name: string, fallback: boolean): boolean {
  const value = raw(source, name);
  if (value === undefined) return fallback;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConfigError(name, `must be true or false, got "${value}"`);
}

export function readUrl(
  source: RawConfig,
  name: string,
  fallback: string | undefined,
  protocols: readonly string[],
): string | undefined {
  const value = raw(source, name) ?? fallback;
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(name, `must be an absolute URL, got "${value}"`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(name, `must use ${protocols.join(" or ")}, got "${url.protocol}"`);
  }
  return value.replace(/\/+$/, "");
}

export function readList(source: RawConfig, name: string): string[] {
  const value = raw(source, name);
  if (value === undefined) return [];
  return value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A setting's JSON text, parsed; a syntax error names the variable and the character where it
 * is, never the text (options may hold secrets).
 */
export function parseJsonSetting(name: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const position = /at position (\d+)/.exec((error as Error).message)?.[1];
    throw new ConfigError(
      name,
      `is not valid JSON${position === undefined ? "" : ` (at character ${position})`}`,
    );
  }
}

export function isGuid(value: string): boolean {
  return GUID.test(value);
}

/** A DNS name of two or more labels (a tenant's verified domain, e.g. contoso.onmicrosoft.com). */
const DOMAIN_NAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/i;

export function isDomainName(value: string): boolean {
  return DOMAIN_NAME.test(value);
}
