/**
 * The Graph emulator's certificate is self-signed: without BOT_CA_CERT the bot cannot trust it.
 * That used to surface as msal's `endpoints_resolution_error` and nothing else; it must say
 * that the certificate is not trusted, which URL, Node's TLS code, and to set BOT_CA_CERT.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GraphEmulator } from "../../src/emulator/graph/graph-emulator.js";
import { httpsRequest } from "../../src/graph/https-request.js";
import { GraphTokenError, type GraphTokenProvider } from "../../src/graph/token-provider.js";
import { UntrustedCertificateError } from "../../src/graph/untrusted-certificate.js";
import { silentLogger } from "../../src/log/logger.js";
import { emulatorTokenProvider } from "./helpers.js";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const TLS_CODE =
  /\((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\)/;

describe("an untrusted Graph / authority certificate is explained as such", () => {
  let emulator: GraphEmulator;
  const appId = randomUUID();
  const secret = `secret-${randomUUID()}`;

  beforeAll(async () => {
    emulator = await GraphEmulator.start({ logger: silentLogger() });
    emulator.registerApp({ appId, secret, tenantId: TENANT, callbackUrl: "https://bot.test/api/calls" });
  });
  afterAll(async () => {
    await emulator.close();
  });

  function tokens(ca?: string): GraphTokenProvider {
    return emulatorTokenProvider(emulator, { appId, secret, tenantId: TENANT }, { ca });
  }

  it("token fetch without the CA: untrusted_certificate naming the authority's origin, the TLS code and BOT_CA_CERT", async () => {
    const provider = tokens();
    const error = await provider.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    provider.close();
    expect(error).toBeInstanceOf(GraphTokenError);
    const tokenError = error as GraphTokenError;
    expect(tokenError.code).toBe("untrusted_certificate");
    expect(tokenError.message).not.toContain("endpoints_resolution_error");
    expect(tokenError.message).toContain(new URL(emulator.authorityUrl(TENANT)).origin);
    expect(tokenError.message).toMatch(TLS_CODE);
    expect(tokenError.message).toContain("set BOT_CA_CERT to the PEM of the CA that signed it");
    expect(tokenError.message).not.toContain(secret);
    // Readiness gives the same reason.
    expect(provider.unavailableReason()).toContain("BOT_CA_CERT");
  });

  it("with the CA the same emulator gives a token: the failure above is the certificate's alone", async () => {
    const provider = tokens(emulator.caCertPem);
    await provider.start();
    expect(provider.unavailableReason()).toBeNull();
    provider.close();
  });

  it("a Graph REST request without the CA: UntrustedCertificateError with the Graph URL's origin and the code", async () => {
    const error = await httpsRequest({
      url: `${emulator.graphUrl}/communications/calls/x`,
      method: "GET",
      timeoutMs: 5000,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UntrustedCertificateError);
    const untrusted = error as UntrustedCertificateError;
    expect(untrusted.origin).toBe(new URL(emulator.graphUrl).origin);
    expect(untrusted.message).toMatch(TLS_CODE);
    expect(untrusted.message).toContain("BOT_CA_CERT");
  });
});
