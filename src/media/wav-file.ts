import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import wav from "wav";
import { BYTES_PER_SAMPLE, SAMPLE_RATE_HZ } from "./audio-format.js";

/** Largest WAV file the player loads (10 minutes of PCM16K is about 19 MB). */
export const MAX_WAV_BYTES = 64 * 1024 * 1024;

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
 * done once offline, not on the media worker).
 */
export async function readPcm16kWav(path: string): Promise<Buffer> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new WavFormatError(path, `cannot open (${error.code ?? error.message})`);
  });
  if (!info.isFile()) throw new WavFormatError(path, "is not a file");
  if (info.size > MAX_WAV_BYTES) throw new WavFormatError(path, `larger than ${MAX_WAV_BYTES} bytes`);
  return new Promise<Buffer>((resolve, reject) => {
    const reader = new wav.Reader();
    const chunks: Buffer[] = [];
    let sawFormat = false;
    let settled = false;
    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      reject(new WavFormatError(path, message));
      // The wav package's Reader is an old-style stream without destroy(): stop feeding it.
      source.unpipe(reader);
      source.destroy();
    };
    reader.on("format", (format: wav.Format) => {
      sawFormat = true;
      const problems: string[] = [];
      if (format.audioFormat !== 1) problems.push(`audio format ${format.audioFormat} (need 1 = PCM)`);
      if (format.sampleRate !== SAMPLE_RATE_HZ)
        problems.push(`${format.sampleRate} Hz (need ${SAMPLE_RATE_HZ})`);
      if (format.channels !== 1) problems.push(`${format.channels} channels (need 1)`);
      if (format.bitDepth !== BYTES_PER_SAMPLE * 8) problems.push(`${format.bitDepth}-bit (need 16)`);
      if (format.endianness !== "LE") problems.push("big-endian (need little-endian)");
      if (problems.length > 0) fail(`not 16 kHz mono 16-bit PCM: ${problems.join(", ")}`);
    });
    reader.on("data", (chunk: Buffer) => chunks.push(chunk));
    reader.on("error", (error: Error) => fail(`not a valid WAV file (${error.message})`));
    reader.on("end", () => {
      if (settled) return;
      if (!sawFormat) return fail("not a valid WAV file (no fmt chunk)");
      settled = true;
      const pcm = Buffer.concat(chunks);
      // A trailing odd byte is not a sample.
      resolve(pcm.length % 2 === 0 ? pcm : pcm.subarray(0, pcm.length - 1));
    });
    const source = createReadStream(path);
    source.on("error", (error: Error) => fail(`cannot read (${error.message})`));
    source.pipe(reader);
  });
}
