import { MAX_TIMER_MS } from "./emulator-options.js";

/**
 * Typed fields of a control request body. Values are checked, never coerced ("false" is not a
 * boolean, 2^33 is not a speaker id): a wrong one throws an Error whose message names the field
 * and what it must be (the control surface answers it with 400).
 */
export type Body = Record<string, unknown>;

export function field(body: Body, name: string, fallback?: unknown): unknown {
  if (body[name] === undefined) {
    if (fallback !== undefined) return fallback;
    throw new Error(`missing ${name}`);
  }
  return body[name];
}

export function booleanField(body: Body, name: string, fallback?: boolean): boolean {
  const value = field(body, name, fallback);
  if (typeof value !== "boolean") throw new Error(`${name} must be true or false, got ${describe(value)}`);
  return value;
}

export function stringField(body: Body, name: string, fallback?: string): string {
  const value = field(body, name, fallback);
  if (typeof value !== "string" || value.trim() === "")
    throw new Error(`${name} must be a non-empty string, got ${describe(value)}`);
  return value;
}

/** A media source id (uint32 on the wire). */
export function isUint32(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}

export function uint32(value: unknown, name: string): number {
  if (!isUint32(value))
    throw new Error(`${name} must be an integer in [0, 4294967295], got ${describe(value)}`);
  return value;
}

/** A delay a Node timer can wait: finite, in [0, 2^31 - 1] ms. */
export function timeoutField(body: Body, name: string, fallback: number): number {
  const value = field(body, name, fallback);
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > MAX_TIMER_MS)
    throw new Error(`${name} must be a number of ms in [0, ${MAX_TIMER_MS}], got ${describe(value)}`);
  return value;
}

/** A short rendering of a bad value for an error message. */
function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}
