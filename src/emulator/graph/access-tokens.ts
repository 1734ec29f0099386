import { randomUUID } from "node:crypto";
import { errors, jwtVerify, SignJWT } from "jose";
import type { RegisteredApp } from "./app-registry.js";
import type { SigningKey } from "./signing-key.js";

export const GRAPH_AUDIENCE = "https://graph.microsoft.com";

/** Claims of an app-only Graph access token (v1 token shape, as Graph receives them). */
export interface AccessTokenClaims {
  aud: string;
  iss: string;
  iat: number;
  nbf: number;
  exp: number;
  tid: string;
  appid: string;
  azp?: string;
  oid: string;
  sub: string;
  roles: string[];
  idtyp: "app";
  ver: "1.0";
}

export class AccessTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AccessTokenError";
  }
}

export async function issueAccessToken(
  key: SigningKey,
  app: RegisteredApp,
  lifetimeSeconds: number,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    tid: app.tenantId,
    appid: app.appId,
    oid: app.appId,
    roles: app.roles,
    idtyp: "app",
    ver: "1.0",
  })
    .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: key.kid, x5t: key.kid })
    .setAudience(GRAPH_AUDIENCE)
    .setIssuer(`https://sts.windows.net/${app.tenantId}/`)
    .setSubject(app.appId)
    .setIssuedAt(now)
    .setNotBefore(now - 300)
    .setExpirationTime(now + lifetimeSeconds)
    .setJti(randomUUID())
    .sign(key.privateKey);
}

/** Verifies a bearer token the way Graph would: signature, audience, lifetime, app-only. */
export async function verifyAccessToken(key: SigningKey, token: string): Promise<AccessTokenClaims> {
  try {
    const { payload } = await jwtVerify(token, key.publicKey, {
      algorithms: ["RS256"],
      audience: [GRAPH_AUDIENCE, `${GRAPH_AUDIENCE}/`, "00000003-0000-0000-c000-000000000000"],
    });
    if (typeof payload.tid !== "string" || typeof payload.appid !== "string") {
      throw new AccessTokenError("Access token lacks tid or appid.");
    }
    if (payload.idtyp !== "app") throw new AccessTokenError("Access token is not app-only.");
    return payload as unknown as AccessTokenClaims;
  } catch (error) {
    if (error instanceof AccessTokenError) throw error;
    if (error instanceof errors.JWTExpired)
      throw new AccessTokenError("Lifetime validation failed, the token is expired.");
    if (error instanceof errors.JWTClaimValidationFailed) {
      throw new AccessTokenError(`Access token claim '${error.claim}' is invalid: ${error.reason}.`);
    }
    throw new AccessTokenError("Access token validation failure: invalid signature or malformed token.");
  }
}
