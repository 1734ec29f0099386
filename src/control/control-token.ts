/**
 * The calls API's bearer token check. Both sides are hashed before the constant-time compare,
 * so neither the token's content nor its length shows in the time a wrong guess takes.
 */
import { createHash, timingSafeEqual } from "node:crypto";

export type TokenCheck = "ok" | "missing_token" | "invalid_token";

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

export class ControlToken {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = digest(token);
  }

  /** Checks an Authorization header: `Bearer <token>`. */
  check(authorization: string | undefined): TokenCheck {
    if (authorization === undefined || authorization.trim() === "") return "missing_token";
    const match = /^Bearer +(\S+) *$/i.exec(authorization);
    if (!match) return "invalid_token";
    return timingSafeEqual(digest(match[1] as string), this.expected) ? "ok" : "invalid_token";
  }
}
