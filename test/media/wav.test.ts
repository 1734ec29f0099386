import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import wav from "wav";
import { FRAME_BYTES } from "../../src/media/audio-format.js";
import { readPcm16kWav, WavFormatError } from "../../src/media/wav-file.js";
import { WavFileWriter } from "../../src/media/wav-writer.js";
import { pcmFor, tone } from "./frame-helpers.js";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "media-wav-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A WAV file as the `wav` package writes it (an independent implementation of the format). */
function encodeWithWavPackage(
  pcm: Buffer,
  format: { sampleRate: number; channels: number; bitDepth: number },
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const writer = new wav.Writer(format);
    const chunks: Buffer[] = [];
    let header: Buffer | undefined;
    writer.on("header", (h: Buffer) => {
      header = h;
    });
    writer.on("data", (chunk: Buffer) => chunks.push(chunk));
    writer.on("error", reject);
    writer.on("end", () => {
      const bytes = Buffer.concat(chunks);
      if (header) header.copy(bytes, 0);
      resolve(bytes);
    });
    writer.end(pcm);
  });
}

describe("WAV files", () => {
  it("WavFileWriter writes exactly the file the wav package writes for the same samples", async () => {
    const pcm = tone(123); // more than two one-second chunks, and a partial one
    const writer = new WavFileWriter(join(dir, "out.wav"));
    for (let i = 0; i < 123; i++) writer.writeFrame(pcm, i * FRAME_BYTES);
    await writer.close();
    const written = await readFile(join(dir, "out.wav"));
    const expected = await encodeWithWavPackage(pcm, { sampleRate: 16000, channels: 1, bitDepth: 16 });
    expect(written.length).toBe(44 + pcm.length);
    expect(written.equals(expected)).toBe(true);
  });

  it("keeps a valid header on disk while recording, not only after close", async () => {
    const path = join(dir, "live.wav");
    const writer = new WavFileWriter(path);
    writer.writeSilence(120);
    await writer.ready;
    // Two full seconds have been handed to the file; wait for the background writes.
    for (let i = 0; i < 50; i++) {
      const bytes = await readFile(path);
      if (bytes.length >= 44 && bytes.readUInt32LE(40) === 100 * FRAME_BYTES) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const bytes = await readFile(path);
    expect(bytes.readUInt32LE(40)).toBe(100 * FRAME_BYTES);
    expect(bytes.readUInt32LE(4)).toBe(36 + 100 * FRAME_BYTES);
    await writer.close();
    expect((await readFile(path)).readUInt32LE(40)).toBe(120 * FRAME_BYTES);
  });

  it("refuses to overwrite an existing file", async () => {
    const path = join(dir, "exists.wav");
    await writeFile(path, "x");
    const writer = new WavFileWriter(path);
    await expect(writer.ready).rejects.toThrow(/EEXIST/);
    writer.writeFrame(pcmFor(1));
    await expect(writer.close()).rejects.toThrow(/EEXIST/);
    expect(await readFile(path, "utf8")).toBe("x");
  });

  it("readPcm16kWav returns the samples of a 16 kHz mono 16-bit file", async () => {
    const pcm = tone(10, 3);
    const path = join(dir, "in.wav");
    await writeFile(path, await encodeWithWavPackage(pcm, { sampleRate: 16000, channels: 1, bitDepth: 16 }));
    expect((await readPcm16kWav(path)).equals(pcm)).toBe(true);
  });

  it("readPcm16kWav names what is wrong with a file in another format", async () => {
    const path = join(dir, "stereo.wav");
    await writeFile(
      path,
      await encodeWithWavPackage(tone(4), { sampleRate: 44100, channels: 2, bitDepth: 16 }),
    );
    const error = await readPcm16kWav(path).catch((e: Error) => e);
    expect(error).toBeInstanceOf(WavFormatError);
    expect((error as Error).message).toContain("44100 Hz (need 16000)");
    expect((error as Error).message).toContain("2 channels (need 1)");
  });

  it("readPcm16kWav refuses a file that is not WAV and a missing file", async () => {
    const path = join(dir, "text.wav");
    await writeFile(path, "this is not a wav file at all, not even close.......");
    await expect(readPcm16kWav(path)).rejects.toThrow(/not a valid WAV file/);
    await expect(readPcm16kWav(join(dir, "missing.wav"))).rejects.toThrow(/cannot open \(ENOENT\)/);
  });
});
