import { createHash, generateKeyPairSync, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { ConfidentialClientApplication } from "@azure/msal-node";
import { decodeJwt } from "jose";
import { generate } from "selfsigned";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GraphEmulator } from "../../../src/emulator/graph/graph-emulator.js";
import { httpsRequest } from "../../../src/graph/https-request.js";
import { silentLogger } from "../../../src/log/logger.js";
import { RecordingMsalNetworkClient } from "./msal-network-client.js";

const TENANT = "11111111-2222-3333-4444-555555555555";
const APP = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const SCOPE = "https://graph.microsoft.com/.default";

let emulator: GraphEmulator;

beforeAll(async () => {
  emulator = await GraphEmulator.start({ logger: silentLogger() });
  emulator.registerApp({
    appId: APP,
    secret: "right-secret",
    tenantId: TENANT,
    callbackUrl: "http://127.0.0.1:9/cb",
  });
});
afterAll(async () => {
  await emulator.close();
});

function client(secret: string, network: RecordingMsalNetworkClient): ConfidentialClientApplication {
  return new ConfidentialClientApplication({
    auth: {
      clientId: APP,
      clientSecret: secret,
      authority: emulator.authorityUrl(TENANT),
      knownAuthorities: [new URL(emulator.url).host],
    },
    system: { networkClient: network },
  });
}

describe("emulated Azure AD token service", () => {
  it("serves a self-signed certificate written to caCertPath", () => {
    expect(readFileSync(emulator.caCertPath, "utf8")).toBe(emulator.caCertPem);
    const cert = new X509Certificate(emulator.caCertPem);
    expect(cert.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(cert.checkHost("localhost")).toBe("localhost");
    expect(emulator.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(emulator.graphUrl).toBe(`${emulator.url}/v1.0`);
  });

  it("issues an RS256 Graph token to the real msal-node client with the right secret", async () => {
    const network = new RecordingMsalNetworkClient(emulator.caCertPem);
    const result = await client("right-secret", network).acquireTokenByClientCredential({ scopes: [SCOPE] });
    expect(result?.accessToken).toBeTruthy();
    const jwks = await httpsRequest({
      url: `${emulator.authorityUrl(TENANT)}/discovery/v2.0/keys`,
      method: "GET",
      timeoutMs: 5000,
      ca: emulator.caCertPem,
    });
    const { keys } = JSON.parse(jwks.body.toString()) as { keys: unknown[] };
    expect(keys).toHaveLength(1);
    const claims = decodeJwt(result?.accessToken ?? "");
    expect(claims).toMatchObject({ aud: "https://graph.microsoft.com", tid: TENANT, appid: APP });
    expect(claims.roles).toContain("Calls.AccessMedia.All");
    expect((claims.exp ?? 0) - Math.floor(Date.now() / 1000)).toBeGreaterThan(3500);
    // With knownAuthorities msal skips instance discovery: two requests, both to the emulator.
    expect(network.calls.map((call) => `${call.method} ${new URL(call.url).pathname}`)).toEqual([
      `GET /${TENANT}/v2.0/.well-known/openid-configuration`,
      `POST /${TENANT}/oauth2/v2.0/token`,
    ]);
  });

  it("refuses a wrong secret with 401 invalid_client", async () => {
    const network = new RecordingMsalNetworkClient(emulator.caCertPem);
    await expect(
      client("wrong-secret", network).acquireTokenByClientCredential({ scopes: [SCOPE] }),
    ).rejects.toMatchObject({ errorCode: "invalid_client" });
    const raw = await httpsRequest({
      url: `${emulator.authorityUrl(TENANT)}/oauth2/v2.0/token`,
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: APP,
        client_secret: "nope",
        scope: SCOPE,
      }).toString(),
      timeoutMs: 5000,
      ca: emulator.caCertPem,
    });
    expect(raw.status).toBe(401);
    const body = JSON.parse(raw.body.toString()) as { error: string; error_codes: number[] };
    expect(body.error).toBe("invalid_client");
    expect(body.error_codes).toEqual([7000215]);
  });

  it("refuses an unknown client id and a scope other than Graph's .default", async () => {
    const post = (params: Record<string, string>) =>
      httpsRequest({
        url: `${emulator.authorityUrl(TENANT)}/oauth2/v2.0/token`,
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "client_credentials", ...params }).toString(),
        timeoutMs: 5000,
        ca: emulator.caCertPem,
      });
    const unknown = await post({ client_id: "nobody", client_secret: "x", scope: SCOPE });
    expect(unknown.status).toBe(401);
    expect(JSON.parse(unknown.body.toString()).error).toBe("invalid_client");
    const badScope = await post({ client_id: APP, client_secret: "right-secret", scope: "User.Read" });
    expect(badScope.status).toBe(400);
    expect(JSON.parse(badScope.body.toString()).error).toBe("invalid_scope");
  });

  it("accepts a certificate client assertion from msal-node and refuses an unregistered certificate", async () => {
    const makeCert = async () => {
      const keys = generateKeyPairSync("rsa", {
        modulusLength: 2048,
        publicKeyEncoding: { type: "spki", format: "pem" },
        privateKeyEncoding: { type: "pkcs8", format: "pem" },
      });
      const pems = await generate([{ name: "commonName", value: "bot" }], {
        algorithm: "sha256",
        keyPair: { privateKey: keys.privateKey, publicKey: keys.publicKey },
      });
      const thumbprintSha256 = createHash("sha256").update(new X509Certificate(pems.cert).raw).digest("hex");
      return { cert: pems.cert, privateKey: keys.privateKey, thumbprintSha256 };
    };
    const registered = await makeCert();
    const stranger = await makeCert();
    const certApp = "cccccccc-0000-0000-0000-000000000001";
    emulator.registerApp({
      appId: certApp,
      tenantId: TENANT,
      callbackUrl: "http://127.0.0.1:9/cb",
      certificatePem: registered.cert,
    });
    const withCert = (cert: { privateKey: string; thumbprintSha256: string }) =>
      new ConfidentialClientApplication({
        auth: {
          clientId: certApp,
          clientCertificate: { thumbprintSha256: cert.thumbprintSha256, privateKey: cert.privateKey },
          authority: emulator.authorityUrl(TENANT),
          knownAuthorities: [new URL(emulator.url).host],
        },
        system: { networkClient: new RecordingMsalNetworkClient(emulator.caCertPem) },
      }).acquireTokenByClientCredential({ scopes: [SCOPE] });
    const good = await withCert(registered);
    expect(decodeJwt(good?.accessToken ?? "").appid).toBe(certApp);
    await expect(withCert(stranger)).rejects.toMatchObject({ errorCode: "invalid_client" });
  });

  it("answers instance discovery when a client routes login.microsoftonline.com to it", async () => {
    const network = new RecordingMsalNetworkClient(emulator.caCertPem, (url) =>
      url.replace("https://login.microsoftonline.com", emulator.url),
    );
    const cca = new ConfidentialClientApplication({
      auth: { clientId: APP, clientSecret: "right-secret", authority: emulator.authorityUrl(TENANT) },
      system: { networkClient: network },
    });
    const result = await cca.acquireTokenByClientCredential({ scopes: [SCOPE] });
    expect(result?.accessToken).toBeTruthy();
    expect(new URL(network.calls[0]?.url ?? "").pathname).toBe("/common/discovery/instance");
  });

  it("publishes the notification signing keys through the OpenID configuration", async () => {
    const config = await httpsRequest({
      url: emulator.notificationOpenIdUrl,
      method: "GET",
      timeoutMs: 5000,
      ca: emulator.caCertPem,
    });
    const { jwks_uri, issuer } = JSON.parse(config.body.toString()) as { jwks_uri: string; issuer: string };
    expect(issuer).toBe("https://api.botframework.com");
    expect(jwks_uri.startsWith(emulator.url)).toBe(true);
    // jose's remote key set uses fetch, which does not take a CA; fetch the set ourselves.
    const keys = await httpsRequest({
      url: jwks_uri,
      method: "GET",
      timeoutMs: 5000,
      ca: emulator.caCertPem,
    });
    expect((JSON.parse(keys.body.toString()) as { keys: { kid: string }[] }).keys[0]?.kid).toBeTruthy();
  });
});
