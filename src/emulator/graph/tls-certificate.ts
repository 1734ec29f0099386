import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { generate } from "selfsigned";

export interface TlsCertificate {
  certPem: string;
  keyPem: string;
  /** The certificate written to a file, for clients configured by path (NODE_EXTRA_CA_CERTS). */
  certPath: string;
}

/**
 * A self-signed server certificate for localhost and 127.0.0.1 (also ::1), valid one day.
 * It is its own CA: clients trust it as an extra CA.
 */
export async function createTlsCertificate(directory?: string): Promise<TlsCertificate> {
  // Node generates the key pair natively; selfsigned only builds and signs the certificate.
  const keys = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  const notBeforeDate = new Date(Date.now() - 60_000);
  const pems = await generate([{ name: "commonName", value: "localhost" }], {
    algorithm: "sha256",
    keyPair: { privateKey: keys.privateKey, publicKey: keys.publicKey },
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + 24 * 3600_000),
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
        ],
      },
    ],
  });
  const dir = directory ?? (await mkdtemp(path.join(tmpdir(), "graph-emulator-")));
  const certPath = path.join(dir, "graph-emulator-ca.pem");
  await writeFile(certPath, pems.cert, { mode: 0o644 });
  return { certPem: pems.cert, keyPem: pems.private, certPath };
}
