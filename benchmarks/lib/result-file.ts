import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { machineInfo, writeResult } from "./results.js";

/**
 * writeResult() into another directory when one is given (smoke tests must not replace
 * benchmarks/results/*-latest.json), the same file layout and body otherwise.
 */
export function writeResultIn(dir: string | undefined, name: string, result: object): string {
  if (dir === undefined) return writeResult(name, result);
  mkdirSync(dir, { recursive: true });
  const recordedAt = new Date().toISOString();
  const body = `${JSON.stringify({ benchmark: name, recordedAt, machine: machineInfo(), ...result }, null, 2)}\n`;
  const file = path.join(dir, `${name}-${recordedAt.replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, body);
  writeFileSync(path.join(dir, `${name}-latest.json`), body);
  return file;
}
