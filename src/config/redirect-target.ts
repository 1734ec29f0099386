/**
 * BOT_REDIRECT_WHEN_BUSY: whom an incoming call is redirected to when the bot is at capacity,
 * instead of rejecting it busy. JSON {userId, tenantId, displayName?, timeoutSeconds?}: the
 * user and tenant ids are GUIDs; timeoutSeconds is Graph's redirect timeout (15..90 s).
 */
import { ConfigError } from "./config-error.js";
import { isGuid, type RawConfig, readString } from "./env-readers.js";

export interface RedirectTarget {
  userId: string;
  tenantId: string;
  displayName?: string;
  /** Graph's redirect timeout in seconds (15..90); absent = Graph's default. */
  timeoutSeconds?: number;
}

export const REDIRECT_WHEN_BUSY_VARIABLE = "BOT_REDIRECT_WHEN_BUSY";
const NAME = REDIRECT_WHEN_BUSY_VARIABLE;
const KEYS = new Set(["userId", "tenantId", "displayName", "timeoutSeconds"]);

export function readRedirectTarget(source: RawConfig): RedirectTarget | undefined {
  const text = readString(source, NAME);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConfigError(
      NAME,
      'must be JSON: {"userId": "<guid>", "tenantId": "<guid>", "displayName"?: "..."}',
    );
  }
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new ConfigError(NAME, "must be a JSON object {userId, tenantId, displayName?, timeoutSeconds?}");
  const fields = value as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!KEYS.has(key))
      throw new ConfigError(NAME, `has an unknown key "${key.slice(0, 40)}" (keys: ${[...KEYS].join(", ")})`);
  }
  for (const key of ["userId", "tenantId"] as const) {
    if (typeof fields[key] !== "string" || !isGuid(fields[key] as string))
      throw new ConfigError(NAME, `${key} must be a GUID`);
  }
  const target: RedirectTarget = { userId: fields.userId as string, tenantId: fields.tenantId as string };
  if (fields.displayName !== undefined) {
    if (typeof fields.displayName !== "string" || fields.displayName.length > 256)
      throw new ConfigError(NAME, "displayName must be a string of at most 256 characters");
    target.displayName = fields.displayName;
  }
  if (fields.timeoutSeconds !== undefined) {
    const seconds = fields.timeoutSeconds;
    if (typeof seconds !== "number" || !Number.isInteger(seconds) || seconds < 15 || seconds > 90)
      throw new ConfigError(
        NAME,
        `timeoutSeconds must be an integer 15..90 (Graph's redirect timeout), got ${String(seconds)}`,
      );
    target.timeoutSeconds = seconds;
  }
  return target;
}
