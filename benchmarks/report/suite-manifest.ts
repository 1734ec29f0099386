/**
 * What one `npm run bench` run produced: which result files belong to it (a load sweep writes
 * one file per call count, and the directory holds older runs too), how it was invoked, and
 * what failed. Written as suite-latest.json so `--report-only` can rebuild the report.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

export type SuiteMode = "smoke" | "default" | "long";

export interface SuiteFailure {
  benchmark: string;
  args: string[];
  /** Exit code, or null when ended by a signal or never started. */
  exitCode: number | null;
  message: string;
}

export interface SuiteManifest {
  benchmark: "suite";
  recordedAt: string;
  mode: SuiteMode;
  /** The command line as a person would type it again. */
  command: string;
  durationSeconds: number;
  files: { answer: string | null; frames: string | null; load: string[] };
  failures: SuiteFailure[];
}

export const MANIFEST_FILE = "suite-latest.json";

export function readManifest(dir: string): SuiteManifest {
  const file = path.join(dir, MANIFEST_FILE);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`${file}: cannot read it (run the suite first): ${(error as Error).message}`);
  }
  const m = data as Partial<SuiteManifest> | null;
  const isName = (v: unknown) => v === null || typeof v === "string";
  if (
    typeof m !== "object" ||
    m === null ||
    m.benchmark !== "suite" ||
    typeof m.recordedAt !== "string" ||
    (m.mode !== "smoke" && m.mode !== "default" && m.mode !== "long") ||
    typeof m.command !== "string" ||
    typeof m.durationSeconds !== "number" ||
    typeof m.files !== "object" ||
    m.files === null ||
    !isName(m.files.answer) ||
    !isName(m.files.frames) ||
    !Array.isArray(m.files.load) ||
    !m.files.load.every((f) => typeof f === "string") ||
    !Array.isArray(m.failures) ||
    !m.failures.every(
      (f: Partial<SuiteFailure> | null) =>
        typeof f?.benchmark === "string" && typeof f.message === "string" && Array.isArray(f.args),
    )
  )
    throw new Error(`${file}: not a suite manifest (benchmark, recordedAt, mode, command, files, failures)`);
  return m as SuiteManifest;
}
