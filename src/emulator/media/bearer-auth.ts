import { timingSafeEqual } from "node:crypto";

/** True when the Authorization header is "Bearer <secret>" (compared in constant time; never logged). */
export function authorizationMatches(header: string | undefined, secret: string): boolean {
  if (!header?.startsWith("Bearer ")) return false;
  const given = Buffer.from(header.slice(7));
  const expected = Buffer.from(secret);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
