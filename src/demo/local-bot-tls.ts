import { writeFile } from "node:fs/promises";
import path from "node:path";
import { createTlsCertificate } from "../emulator/graph/tls-certificate.js";

export interface LocalBotTls {
  certPath: string;
  keyPath: string;
  certPem: string;
}

/**
 * A throwaway self-signed certificate for a bot listening on loopback, so the emulated Graph
 * calls it back over https as the real one does (the emulator trusts it as an extra CA). The
 * files go to `directory` (which must exist), or to a fresh temp folder.
 */
export async function createLocalBotTls(directory?: string): Promise<LocalBotTls> {
  const certificate = await createTlsCertificate(directory);
  const keyPath = path.join(path.dirname(certificate.certPath), "bot-key.pem");
  await writeFile(keyPath, certificate.keyPem, { mode: 0o600 });
  return { certPath: certificate.certPath, keyPath, certPem: certificate.certPem };
}
