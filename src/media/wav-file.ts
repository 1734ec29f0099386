import { readFile, stat } from "node:fs/promises";
import { BYTES_PER_SAMPLE, SAMPLE_RATE_HZ } from "./audio-format.js";

/** Largest WAV file the player loads (10 minutes of PCM16K is about 19 MB). */
export const MAX_WAV_BYTES = 64 * 1024 * 1024;

const RIFF_HEADER_BYTES = 12;
const CHUNK_HEADER_BYTES = 8;
const PCM_FMT_BYTES = 16;
/** What a writer that streamed the file and never went back to set its length leaves there. */
const UNKNOWN_LENGTH = 0xffffffff;

export class WavFormatError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = "WavFormatError";
  }
}

/**
 * Reads a WAV file's PCM, which must already be the platform's format: 16 kHz, mono, 16-bit
 * signed PCM little-endian. Anything else is refused with a WavFormatError naming what is
 * wrong (no resampling: converting is a job for `sox in.wav -r 16000 -c 1 -b 16 out.wav`,
 * done once offline, not on the media worker). The file is read whole (it is played from
 * memory anyway) and its RIFF chunks walked here.
 */
export async function readPcm16kWav(path: string): Promise<Buffer> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new WavFormatError(path, `cannot open (${error.code ?? error.message})`);
  });
  if (!info.isFile()) throw new WavFormatError(path, "is not a file");
  if (info.size > MAX_WAV_BYTES) throw new WavFormatError(path, `larger than ${MAX_WAV_BYTES} bytes`);
  const bytes = await readFile(path).catch((error: NodeJS.ErrnoException) => {
    throw new WavFormatError(path, `cannot read (${error.code ?? error.message})`);
  });
  if (bytes.length > MAX_WAV_BYTES) throw new WavFormatError(path, `larger than ${MAX_WAV_BYTES} bytes`);
  return pcmOfWav(path, bytes);
}

interface Chunk {
  id: string;
  /** Where the chunk's body starts. */
  body: number;
  /** The size its header declares. */
  size: number;
}

/** The samples of a PCM16K mono WAV file held in `bytes` (a view into it). */
function pcmOfWav(path: string, bytes: Buffer): Buffer {
  const fail = (message: string): never => {
    throw new WavFormatError(path, message);
  };
  if (bytes.length < RIFF_HEADER_BYTES)
    fail(`not a valid WAV file (${bytes.length} bytes, shorter than a RIFF header)`);
  const riff = bytes.toString("latin1", 0, 4);
  if (riff === "RIFX") fail("not 16 kHz mono 16-bit PCM: big-endian RIFX (need little-endian)");
  if (riff === "RF64") fail("not a valid WAV file (RF64 is not supported, need RIFF)");
  if (riff !== "RIFF" || bytes.toString("latin1", 8, 12) !== "WAVE")
    fail(`not a valid WAV file (starts with ${JSON.stringify(bytes.toString("latin1", 0, 4))}, need "RIFF")`);

  let fmt: Chunk | undefined;
  let data: Chunk | undefined;
  let last: Chunk | undefined;
  let offset = RIFF_HEADER_BYTES;
  while ((fmt === undefined || data === undefined) && offset + CHUNK_HEADER_BYTES <= bytes.length) {
    const chunk: Chunk = {
      id: bytes.toString("latin1", offset, offset + 4),
      body: offset + CHUNK_HEADER_BYTES,
      size: bytes.readUInt32LE(offset + 4),
    };
    if (chunk.id === "fmt " && fmt === undefined) fmt = chunk;
    else if (chunk.id === "data" && data === undefined) data = chunk;
    last = chunk;
    // An odd-sized chunk is followed by a pad byte (RIFF keeps chunks at even offsets).
    offset = chunk.body + chunk.size + (chunk.size % 2);
  }
  const truncated = (chunk: Chunk) =>
    `truncated: its "${chunk.id.trim()}" chunk declares ${chunk.size} bytes, the file holds ${bytes.length - chunk.body}` +
    (chunk.size === UNKNOWN_LENGTH ? " (its writer never set the length: rewrite it with sox)" : "");
  if (fmt === undefined || data === undefined) {
    const missing = fmt === undefined ? "fmt" : "data";
    if (last !== undefined && last.body + last.size > bytes.length)
      fail(`not a valid WAV file (no ${missing} chunk; ${truncated(last)})`);
    fail(`not a valid WAV file (no ${missing} chunk)`);
  }
  const format = fmt as Chunk;
  const samples = data as Chunk;
  if (format.size < PCM_FMT_BYTES || format.body + PCM_FMT_BYTES > bytes.length)
    fail(`not a valid WAV file (fmt chunk of ${format.size} bytes, need ${PCM_FMT_BYTES})`);
  const audioFormat = bytes.readUInt16LE(format.body);
  const channels = bytes.readUInt16LE(format.body + 2);
  const sampleRate = bytes.readUInt32LE(format.body + 4);
  const bitDepth = bytes.readUInt16LE(format.body + 14);
  const problems: string[] = [];
  if (audioFormat !== 1) problems.push(`audio format ${audioFormat} (need 1 = PCM)`);
  if (sampleRate !== SAMPLE_RATE_HZ) problems.push(`${sampleRate} Hz (need ${SAMPLE_RATE_HZ})`);
  if (channels !== 1) problems.push(`${channels} channels (need 1)`);
  if (bitDepth !== BYTES_PER_SAMPLE * 8) problems.push(`${bitDepth}-bit (need 16)`);
  if (problems.length > 0) fail(`not 16 kHz mono 16-bit PCM: ${problems.join(", ")}`);
  // Refused rather than played short: a cut file is a broken prompt, not a shorter one.
  if (samples.body + samples.size > bytes.length) fail(truncated(samples));
  // A trailing odd byte is not a sample.
  return bytes.subarray(samples.body, samples.body + samples.size - (samples.size % 2));
}
