import { generateKeyPairSync, type KeyObject, randomBytes } from "node:crypto";
import { exportJWK, type JWK } from "jose";

/** An RSA key that signs JWTs, identified by its `kid`, publishable as a JWK. */
export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: JWK;
}

/** 2048-bit RSA, like the keys Azure AD and the calling service publish. */
export async function createSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const kid = randomBytes(15).toString("base64url");
  const jwk = await exportJWK(publicKey);
  return { kid, privateKey, publicKey, publicJwk: { ...jwk, kid, use: "sig", alg: "RS256" } };
}
