import { generateKeyPairSync, randomUUID, X509Certificate } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { Registry } from "prom-client";
import { generate } from "selfsigned";
import { expect } from "vitest";
import type { GraphEmulator } from "../../src/emulator/graph/graph-emulator.js";
import { InvalidRequestError } from "../../src/graph/request-bodies.js";
import { GraphTokenProvider, type TokenProviderOptions } from "../../src/graph/token-provider.js";
import { createLogger, type Logger, silentLogger } from "../../src/log/logger.js";

/** A logger whose JSON lines are kept in memory, to check what was (and was not) logged. */
export function capturedLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  return { logger: createLogger({ level: "debug" }, sink), lines };
}

export function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), "graph-client-test-"));
}

/** An app certificate credential: key and certificate files plus both thumbprints (hex). */
export async function appCertificate(): Promise<{
  keyPath: string;
  certPath: string;
  certPem: string;
  sha1: string;
  sha256: string;
}> {
  const keys = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  const pems = await generate([{ name: "commonName", value: `bot-${randomUUID()}` }], {
    algorithm: "sha256",
    keyPair: { privateKey: keys.privateKey, publicKey: keys.publicKey },
  });
  const dir = tempDir();
  const keyPath = path.join(dir, "app.key");
  const certPath = path.join(dir, "app.pem");
  writeFileSync(keyPath, keys.privateKey, { mode: 0o600 });
  writeFileSync(certPath, pems.cert);
  const x509 = new X509Certificate(pems.cert);
  const hex = (fingerprint: string) => fingerprint.replaceAll(":", "").toLowerCase();
  return {
    keyPath,
    certPath,
    certPem: pems.cert,
    sha1: hex(x509.fingerprint),
    sha256: hex(x509.fingerprint256),
  };
}

/** Polls until `check` returns true or the timeout passes. */
export async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Runs a request-body builder that must refuse its input; returns the InvalidRequestError's message. */
export function refused(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequestError);
    return (error as Error).message;
  }
  throw new Error("expected InvalidRequestError");
}

/**
 * A token provider for an app registered in the Graph emulator with a client secret, trusting the
 * emulator's CA, silent, with its own metrics registry; overrides replace any of these.
 */
export function emulatorTokenProvider(
  emulator: GraphEmulator,
  app: { appId: string; secret: string; tenantId: string },
  overrides: Partial<TokenProviderOptions> = {},
): GraphTokenProvider {
  return new GraphTokenProvider({
    appId: app.appId,
    authorityUrl: emulator.authorityUrl(app.tenantId),
    credential: { kind: "secret", secret: app.secret },
    ca: emulator.caCertPem,
    logger: silentLogger(),
    registry: new Registry(),
    ...overrides,
  });
}
