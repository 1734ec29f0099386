/** The protocol's golden Envelope vectors (native-bridge/proto/golden/), as bytes. */
import { readFileSync } from "node:fs";
import path from "node:path";

const GOLDEN = path.resolve(import.meta.dirname, "../../native-bridge/proto/golden");

interface Manifest {
  vectors: { name: string; file: string }[];
}

export interface GoldenEnvelope {
  name: string;
  bytes: Uint8Array;
}

export function goldenEnvelopes(): GoldenEnvelope[] {
  const manifest = JSON.parse(readFileSync(path.join(GOLDEN, "manifest.json"), "utf8")) as Manifest;
  return manifest.vectors.map((vector) => ({
    name: vector.name,
    bytes: new Uint8Array(readFileSync(path.join(GOLDEN, vector.file))),
  }));
}
