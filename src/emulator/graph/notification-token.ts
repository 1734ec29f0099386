import { SignJWT } from "jose";
import type { SigningKey } from "./signing-key.js";

export const NOTIFICATION_ISSUER = "https://api.botframework.com";

/** Claims of the token the calling service puts on every notification. */
export interface NotificationTokenClaims {
  iss: string;
  aud: string;
  tid: string;
  iat: number;
  nbf: number;
  exp: number;
  [claim: string]: unknown;
}

/** Ways to forge a notification token for negative tests. */
export interface NotificationTokenOverrides {
  /** Claims to set or replace (e.g. a wrong `aud` or `iss`). */
  claims?: Partial<NotificationTokenClaims>;
  /** Claims to leave out (e.g. `tid`). */
  omitClaims?: string[];
  /** `none`: an unsigned token (`alg: none`, empty signature). */
  alg?: "none";
  /** The `kid` header (default: the signing key's). */
  kid?: string;
  /** Sign with a key that is not in the published key set. */
  signWithUnknownKey?: boolean;
  /** exp = now + this (default 3600); negative for an expired token. */
  expiresInSeconds?: number;
  /** nbf = now + this (default -300); positive for a token not yet valid. */
  notBeforeInSeconds?: number;
}

export interface NotificationTokenSubject {
  appId: string;
  tenantId: string;
}

export async function signNotificationToken(
  key: SigningKey,
  unknownKey: () => Promise<SigningKey>,
  subject: NotificationTokenSubject,
  overrides: NotificationTokenOverrides = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: NOTIFICATION_ISSUER,
    aud: subject.appId,
    tid: subject.tenantId,
    iat: now,
    nbf: now + (overrides.notBeforeInSeconds ?? -300),
    exp: now + (overrides.expiresInSeconds ?? 3600),
    ...overrides.claims,
  };
  for (const name of overrides.omitClaims ?? []) delete claims[name];
  const kid = overrides.kid ?? key.kid;
  if (overrides.alg === "none") {
    const header = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT", kid })).toString("base64url");
    const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
    return `${header}.${payload}.`;
  }
  const signer = overrides.signWithUnknownKey ? await unknownKey() : key;
  return new SignJWT(claims).setProtectedHeader({ alg: "RS256", typ: "JWT", kid }).sign(signer.privateKey);
}
