import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const RESULTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "results");

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  gitCommit: string;
}

/** What the numbers were measured on: recorded with every result. */
export function machineInfo(): MachineInfo {
  let gitCommit = "unknown";
  try {
    gitCommit = execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], {
      encoding: "utf8",
    });
    if (dirty.trim() !== "") gitCommit += "-dirty";
  } catch {
    // Not a git checkout: the commit stays unknown.
  }
  return {
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    gitCommit,
  };
}

/** Writes `{name}-{timestamp}.json` and `{name}-latest.json` under benchmarks/results/. */
export function writeResult(name: string, result: object): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const body = `${JSON.stringify({ benchmark: name, recordedAt: new Date().toISOString(), machine: machineInfo(), ...result }, null, 2)}\n`;
  const file = path.join(RESULTS_DIR, `${name}-${stamp}.json`);
  writeFileSync(file, body);
  writeFileSync(path.join(RESULTS_DIR, `${name}-latest.json`), body);
  return file;
}

/** A plain aligned text table for the terminal. */
export function formatTable(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((row) => row.map((cell) => String(cell)))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? "").length)));
  const line = (row: string[]) => row.map((cell, column) => cell.padStart(widths[column] ?? 0)).join("  ");
  return [
    line(cells[0] as string[]),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...cells.slice(1).map(line),
  ].join("\n");
}

/** --name value / --flag arguments after `npm run x --`. */
export function parseArgs(argv: string[] = process.argv.slice(2)): Map<string, string> {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith("--")) throw new Error(`unexpected argument "${arg}"`);
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith("--")) {
      args.set(arg.slice(2), next);
      i++;
    } else {
      args.set(arg.slice(2), "true");
    }
  }
  return args;
}

export function intArg(args: Map<string, string>, name: string, fallback: number, min = 1): number {
  const value = args.get(name);
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min)
    throw new Error(`--${name} must be an integer >= ${min}, got "${value}"`);
  return parsed;
}
