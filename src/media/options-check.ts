/**
 * Small checks for handler options (the built-in handlers' `options` validators): each throws
 * a TypeError naming the field, which the loader reports with the handler's name.
 */

/** `raw` as an object of only `fields` (undefined and null count as no options: {}). */
export function optionsObject(raw: unknown, fields: readonly string[]): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== "object" || Array.isArray(raw))
    throw new TypeError(`options must be a JSON object, got ${describe(raw)}`);
  for (const key of Object.keys(raw)) {
    if (!fields.includes(key))
      throw new TypeError(
        `unknown option "${key}"${fields.length > 0 ? ` (known: ${fields.join(", ")})` : " (this handler takes none)"}`,
      );
  }
  return raw as Record<string, unknown>;
}

export function optionalString(options: Record<string, unknown>, field: string): string | undefined {
  const value = options[field];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "")
    throw new TypeError(`options.${field} must be a non-empty string, got ${describe(value)}`);
  return value;
}

export function requiredString(options: Record<string, unknown>, field: string): string {
  const value = optionalString(options, field);
  if (value === undefined) throw new TypeError(`options.${field} is required`);
  return value;
}

export function optionalBoolean(options: Record<string, unknown>, field: string): boolean | undefined {
  const value = options[field];
  if (value === undefined) return undefined;
  if (typeof value !== "boolean")
    throw new TypeError(`options.${field} must be true or false, got ${describe(value)}`);
  return value;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "object") return "an object";
  return String(value);
}
