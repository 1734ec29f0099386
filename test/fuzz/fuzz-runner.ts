/**
 * How the property-based fuzz tests run: a fixed seed and a bounded case count in the normal
 * test run, more cases behind `npm run test:fuzz`. Every property prints how many cases it ran
 * (and appends them to FUZZ_REPORT, a JSON-lines file, when that is set).
 *
 *   FUZZ_SEED    seed of every property (default 13, so a CI failure replays exactly)
 *   FUZZ_FACTOR  multiplies each property's CI case count (npm run test:fuzz uses 10)
 *   FUZZ_RUNS    case count of every property, overriding the above
 */
import { appendFileSync } from "node:fs";
import fc from "fast-check";

const DEFAULT_SEED = 13;

function positiveInteger(name: string): number | undefined {
  const text = process.env[name]?.trim();
  if (!text) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

export const fuzzSeed = (() => {
  const text = process.env.FUZZ_SEED?.trim();
  if (!text) return DEFAULT_SEED;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error("FUZZ_SEED must be an integer");
  return value;
})();

const factor = positiveInteger("FUZZ_FACTOR") ?? 1;
const fixedRuns = positiveInteger("FUZZ_RUNS");

/** Cases a property with `ciRuns` cases in the normal test run gets now. */
export function runsFor(ciRuns: number): number {
  return fixedRuns ?? ciRuns * factor;
}

/** A test timeout for a property whose CI run takes up to `ciMs`, scaled with its case count. */
export function timeoutFor(ciRuns: number, ciMs: number): number {
  return Math.max(ciMs, Math.ceil((ciMs * runsFor(ciRuns)) / ciRuns));
}

/** What one property ran, for the report. */
export interface FuzzRecord {
  property: string;
  runs: number;
  skipped: number;
  seed: number;
  ms: number;
}

function record(entry: FuzzRecord): void {
  console.log(
    `fuzz: ${entry.property}: ${entry.runs} cases (${entry.skipped} skipped), seed ${entry.seed}, ${entry.ms} ms`,
  );
  const file = process.env.FUZZ_REPORT;
  if (file) appendFileSync(file, `${JSON.stringify(entry)}\n`);
}

/** Runs a synchronous property; throws fast-check's report (seed, path, counterexample) on failure. */
export function fuzz<T>(
  property: string,
  ciRuns: number,
  arbitrary: fc.Arbitrary<T>,
  predicate: (value: T) => void,
): void {
  const started = performance.now();
  const details = fc.check(fc.property(arbitrary, predicate), { seed: fuzzSeed, numRuns: runsFor(ciRuns) });
  finish(property, details, started);
}

/** The same for an asynchronous property. */
export async function fuzzAsync<T>(
  property: string,
  ciRuns: number,
  arbitrary: fc.Arbitrary<T>,
  predicate: (value: T) => Promise<void>,
): Promise<void> {
  const started = performance.now();
  const details = await fc.check(fc.asyncProperty(arbitrary, predicate), {
    seed: fuzzSeed,
    numRuns: runsFor(ciRuns),
  });
  finish(property, details, started);
}

function finish<Ts>(property: string, details: fc.RunDetails<Ts>, started: number): void {
  record({
    property,
    runs: details.numRuns,
    skipped: details.numSkips,
    seed: details.seed,
    ms: Math.round(performance.now() - started),
  });
  if (details.failed) {
    const cause =
      details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new Error(`fuzz property "${property}" failed: ${cause}\n${fc.defaultReportMessage(details)}`);
  }
}

/** Random mutations of valid bytes: bit flips, byte changes, truncation, insertion, deletion. */
export function mutatedBytes(valid: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
    fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.nat({ max: 255 }) }),
    fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
    fc.record({
      kind: fc.constant("insert" as const),
      at: fc.nat(),
      bytes: fc.uint8Array({ maxLength: 12 }),
    }),
    fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), count: fc.integer({ min: 1, max: 12 }) }),
  );
  return fc
    .record({
      base: fc.constantFrom(...valid),
      edits: fc.array(edit, { minLength: 1, maxLength: 4 }),
    })
    .map(({ base, edits }) => {
      let bytes = Uint8Array.from(base);
      for (const e of edits) {
        const at = bytes.length === 0 ? 0 : e.at % bytes.length;
        switch (e.kind) {
          case "flip":
            if (bytes.length > 0) bytes[at] = (bytes[at] as number) ^ (1 << e.bit);
            break;
          case "set":
            if (bytes.length > 0) bytes[at] = e.value;
            break;
          case "truncate":
            bytes = bytes.slice(0, at);
            break;
          case "insert": {
            const next = new Uint8Array(bytes.length + e.bytes.length);
            next.set(bytes.subarray(0, at));
            next.set(e.bytes, at);
            next.set(bytes.subarray(at), at + e.bytes.length);
            bytes = next;
            break;
          }
          case "delete": {
            const tail = bytes.subarray(Math.min(bytes.length, at + e.count));
            const next = new Uint8Array(at + tail.length);
            next.set(bytes.subarray(0, at));
            next.set(tail, at);
            bytes = next;
            break;
          }
        }
      }
      return bytes;
    });
}
