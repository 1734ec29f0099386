import https from "node:https";
import type { AddressInfo } from "node:net";
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { createTlsCertificate } from "../../../src/emulator/graph/tls-certificate.js";

export const APP_ID = "2891555a-92ff-42e6-80fa-6e1300c6b5c6";
export const TENANT = "11111111-2222-3333-4444-555555555555";

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

export async function createSigningKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, use: "sig", alg: "RS256" } };
}

/** Signs a notification token like Graph's; `claims` override or (with undefined) remove defaults. */
export async function signToken(
  key: SigningKey,
  claims: Record<string, unknown> = {},
  header: { kid?: string } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    iss: "https://api.botframework.com",
    aud: APP_ID,
    tid: TENANT,
    nbf: now - 5,
    iat: now - 5,
    exp: now + 3600,
    ...claims,
  };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  return new SignJWT(payload)
    .setProtectedHeader({ alg: "RS256", kid: header.kid ?? key.kid, typ: "JWT" })
    .sign(key.privateKey);
}

/** A tiny HTTPS server publishing an OpenID configuration and a JWKS, counting fetches. */
export class KeyServer {
  keys: JWK[] = [];
  openIdFetches = 0;
  jwksFetches = 0;

  private constructor(
    private readonly server: https.Server,
    readonly caPem: string,
  ) {}

  static async start(keys: JWK[]): Promise<KeyServer> {
    const tls = await createTlsCertificate();
    let instance: KeyServer | undefined;
    const server = https.createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
      const self = instance as KeyServer;
      res.setHeader("content-type", "application/json");
      if (req.url === "/.well-known/OpenIdConfiguration") {
        self.openIdFetches += 1;
        res.end(JSON.stringify({ issuer: "https://api.botframework.com", jwks_uri: `${self.url}/keys` }));
      } else if (req.url === "/keys") {
        self.jwksFetches += 1;
        res.end(JSON.stringify({ keys: self.keys }));
      } else {
        res.statusCode = 404;
        res.end("{}");
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    instance = new KeyServer(server, tls.certPem);
    instance.keys = keys;
    return instance;
  }

  get url(): string {
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get openIdUrl(): string {
    return `${this.url}/.well-known/OpenIdConfiguration`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
