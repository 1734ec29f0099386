/**
 * Fuzzing the player's WAV reader (readPcm16kWav) with real files: random bytes, valid PCM16K
 * files (extra chunks, odd sizes, pad bytes) and mutations of them. Each file gives its PCM or
 * a WavFormatError naming the file and what is wrong; never another exception, never more
 * PCM than the file holds (declared sizes up to 4 GiB are not trusted).
 */
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_WAV_BYTES, readPcm16kWav, WavFormatError } from "../../src/media/wav-file.js";
import { fuzzAsync, mutatedBytes, timeoutFor } from "./fuzz-runner.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "wav-fuzz-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface WavSpec {
  /** Chunks before fmt, between fmt and data, and after data. */
  before: Uint8Array[];
  between: Uint8Array[];
  after: Uint8Array[];
  fmtExtra: number;
  samples: Uint8Array;
}

function chunk(id: string, body: Uint8Array, declared = body.length): Uint8Array {
  const pad = body.length % 2;
  const out = Buffer.alloc(8 + body.length + pad);
  out.write(id, 0, "latin1");
  out.writeUInt32LE(declared, 4);
  out.set(body, 8);
  return out;
}

function fmtChunk(extra: number): Uint8Array {
  const body = Buffer.alloc(16 + extra);
  body.writeUInt16LE(1, 0); // PCM
  body.writeUInt16LE(1, 2); // mono
  body.writeUInt32LE(16000, 4);
  body.writeUInt32LE(32000, 8); // byte rate
  body.writeUInt16LE(2, 12); // block align
  body.writeUInt16LE(16, 14);
  return chunk("fmt ", body);
}

function wav(spec: WavSpec): Uint8Array {
  const body = Buffer.concat([
    Buffer.from("WAVE", "latin1"),
    ...spec.before,
    fmtChunk(spec.fmtExtra),
    ...spec.between,
    chunk("data", spec.samples),
    ...spec.after,
  ]);
  const header = Buffer.alloc(8);
  header.write("RIFF", 0, "latin1");
  header.writeUInt32LE(body.length, 4);
  return Buffer.concat([header, body]);
}

const otherChunk = fc
  .record({
    id: fc.constantFrom("LIST", "fact", "cue ", "junk", "PEAK", "bext"),
    body: fc.uint8Array({ maxLength: 33 }),
  })
  .map(({ id, body }) => chunk(id, body));

const validWav = fc
  .record({
    before: fc.array(otherChunk, { maxLength: 2 }),
    between: fc.array(otherChunk, { maxLength: 2 }),
    after: fc.array(otherChunk, { maxLength: 2 }),
    fmtExtra: fc.constantFrom(0, 2, 3, 22),
    samples: fc.uint8Array({ maxLength: 2000 }),
  })
  .map((spec) => ({ spec, bytes: wav(spec) }));

/** Valid files, so mutations start from something the walker gets deep into. */
const SEEDS = fc.sample(validWav, { numRuns: 40, seed: 13 }).map((v) => v.bytes);

/** Declared sizes that lie: huge, 0xFFFFFFFF (a streaming writer's "unknown"), off by a few. */
const lyingSize = fc
  .record({
    base: fc.constantFrom(...SEEDS),
    at: fc.nat(),
    size: fc.oneof(
      fc.constantFrom(0, 1, 2, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff),
      fc.nat({ max: 0xffffffff }),
    ),
  })
  .map(({ base, at, size }) => {
    const bytes = Buffer.from(base);
    // Overwrite a size field: the RIFF size or one of the chunk sizes (every 4-aligned spot).
    const slots = Math.floor((bytes.length - 4) / 4);
    const offset = 4 + 4 * (at % Math.max(1, slots));
    if (offset + 4 <= bytes.length) bytes.writeUInt32LE(size, offset);
    return new Uint8Array(bytes);
  });

const anyFile = fc.oneof(
  fc.uint8Array({ maxLength: 96 }),
  fc.uint8Array({ maxLength: 96 }).map((tail) => Buffer.concat([Buffer.from("RIFF\0\0\0\0WAVE"), tail])),
  mutatedBytes(SEEDS),
  lyingSize,
);

let fileNumber = 0;
async function writeCase(bytes: Uint8Array): Promise<string> {
  const file = path.join(dir, `case-${fileNumber++ % 8}.wav`);
  await writeFile(file, bytes);
  return file;
}

async function readOutcome(file: string): Promise<{ pcm: Buffer } | { error: unknown }> {
  try {
    return { pcm: await readPcm16kWav(file) };
  } catch (error) {
    return { error };
  }
}

describe("fuzz: WAV reader", () => {
  it(
    "a valid PCM16K file gives exactly its samples, whatever other chunks and pad bytes it holds",
    async () => {
      await fuzzAsync("wav valid files", 150, validWav, async ({ spec, bytes }) => {
        const outcome = await readOutcome(await writeCase(bytes));
        expect(outcome).toHaveProperty("pcm");
        const pcm = (outcome as { pcm: Buffer }).pcm;
        const even = spec.samples.length - (spec.samples.length % 2);
        expect(Buffer.compare(pcm, Buffer.from(spec.samples.subarray(0, even)))).toBe(0);
      });
    },
    timeoutFor(150, 20_000),
  );

  it(
    "any other file: PCM within the file, or a WavFormatError naming the file and the problem",
    async () => {
      await fuzzAsync("wav arbitrary and mutated files", 400, anyFile, async (bytes) => {
        const file = await writeCase(bytes);
        const outcome = await readOutcome(file);
        if ("pcm" in outcome) {
          expect(outcome.pcm.length % 2).toBe(0);
          expect(outcome.pcm.length).toBeLessThanOrEqual(bytes.length);
          return;
        }
        expect(outcome.error).toBeInstanceOf(WavFormatError);
        const error = outcome.error as WavFormatError;
        expect(error.path).toBe(file);
        expect(error.message.startsWith(`${file}: `)).toBe(true);
        // A reason a person can act on, not a bare code or an empty tail.
        expect(error.message.slice(file.length + 2)).toMatch(/^(not|truncated|larger|cannot|is not)\b.{8,}/);
      });
    },
    timeoutFor(400, 20_000),
  );

  it("a file larger than the limit is refused from its size, without reading it", async () => {
    const file = path.join(dir, "huge.wav");
    const handle = await open(file, "w");
    // Sparse: no disk and no memory for the bytes the size claims.
    await handle.truncate(MAX_WAV_BYTES + 1);
    await handle.close();
    const before = process.memoryUsage().arrayBuffers;
    await expect(readPcm16kWav(file)).rejects.toThrow(WavFormatError);
    await expect(readPcm16kWav(file)).rejects.toThrow(/larger than/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(MAX_WAV_BYTES / 2);
  });
});
