import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import wav from "wav";
import { FRAME_BYTES } from "../../src/media/audio-format.js";
import type { ReceivedAudioFrame } from "../../src/media/bot-api.js";
import { CallRecorder } from "../../src/media/call-recorder.js";
import { readPcm16kWav, WavFormatError } from "../../src/media/wav-file.js";
import { pcm16kWavHeader, WavFileWriter } from "../../src/media/wav-writer.js";
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

/** External memory (Buffers) allocated by `action`, in bytes. */
function bufferBytesAllocatedBy(action: () => void): number {
  const before = process.memoryUsage().arrayBuffers;
  action();
  return process.memoryUsage().arrayBuffers - before;
}

describe("a long silence (a speaker first heard late in the call)", () => {
  it("WavFileWriter.writeSilence costs the caller no memory or time in proportion to its length", async () => {
    const path = join(dir, "late-speaker.wav");
    const writer = new WavFileWriter(path);
    writer.writeFrame(pcmFor(1));
    const frames = 90_000; // 30 minutes: 57.6 MB of zeros if copied through chunks
    const startedMs = performance.now();
    const allocated = bufferBytesAllocatedBy(() => writer.writeSilence(frames));
    // Copying it through chunks took 224 ms on the audit's machine; this is constant work.
    expect(performance.now() - startedMs).toBeLessThan(50);
    expect(allocated).toBeLessThan(1024 * 1024);
    writer.writeFrame(pcmFor(2));
    expect(writer.dataBytes).toBe((frames + 2) * FRAME_BYTES);
    await writer.close();
    const bytes = await readFile(path);
    expect(bytes.length).toBe(44 + (frames + 2) * FRAME_BYTES);
    expect(bytes.subarray(0, 44).equals(pcm16kWavHeader((frames + 2) * FRAME_BYTES))).toBe(true);
    expect(bytes.subarray(44, 44 + FRAME_BYTES).equals(pcmFor(1))).toBe(true);
    const silence = bytes.subarray(44 + FRAME_BYTES, 44 + (frames + 1) * FRAME_BYTES);
    expect(silence.every((byte) => byte === 0)).toBe(true);
    expect(bytes.subarray(44 + (frames + 1) * FRAME_BYTES).equals(pcmFor(2))).toBe(true);
  });

  it("silences of any length give the same bytes as frame-by-frame silence", async () => {
    const sizes = [1, 49, 50, 51, 99, 100, 101, 250, 1234];
    const expected: Buffer[] = [];
    const path = join(dir, "mixed-silences.wav");
    const writer = new WavFileWriter(path);
    sizes.forEach((size, i) => {
      writer.writeSilence(size);
      writer.writeFrame(pcmFor(i));
      expected.push(Buffer.alloc(size * FRAME_BYTES), Buffer.from(pcmFor(i)));
    });
    await writer.close();
    const pcm = Buffer.concat(expected);
    expect((await readFile(path)).equals(Buffer.concat([pcm16kWavHeader(pcm.length), pcm]))).toBe(true);
  });

  it("CallRecorder opens a late speaker's file without writing the call so far on the frame path", async () => {
    const directory = await mkdtemp(join(dir, "rec-"));
    const recorder = new CallRecorder(directory, true, () => undefined, "call-late");
    await recorder.ready;
    const frame = (sequence: number, unmixed: { speakerId: number; pcm: Uint8Array }[] = []) =>
      ({ pcm: pcmFor(sequence), unmixed }) as unknown as ReceivedAudioFrame;
    const early = 3000; // a minute before the speaker is first heard
    for (let s = 0; s < early; s++) recorder.write(frame(s));
    const allocated = bufferBytesAllocatedBy(() =>
      recorder.write(frame(early, [{ speakerId: 7, pcm: pcmFor(early, 70) }])),
    );
    // The new file's one-second chunk, not the minute of silence before it (1.9 MB).
    expect(allocated).toBeLessThan(256 * 1024);
    recorder.write(frame(early + 1, [{ speakerId: 7, pcm: pcmFor(early + 1, 70) }]));
    await recorder.close();
    const speaker = await readFile(join(directory, "speaker-7.wav"));
    const pcm = Buffer.concat([Buffer.alloc(early * FRAME_BYTES), pcmFor(early, 70), pcmFor(early + 1, 70)]);
    expect(speaker.equals(Buffer.concat([pcm16kWavHeader(pcm.length), pcm]))).toBe(true);
    const mixed = await readFile(join(directory, "mixed.wav"));
    expect(mixed.length).toBe(44 + (early + 2) * FRAME_BYTES);
  });
});

/** A PCM16K mono WAV with `chunk` (id, body) between its fmt and data chunks, RIFF-padded. */
function wavWithChunk(id: string, body: Buffer, pcm: Buffer): Buffer {
  const header = pcm16kWavHeader(pcm.length);
  const chunk = Buffer.alloc(8 + body.length + (body.length % 2));
  chunk.write(id, 0, "latin1");
  chunk.writeUInt32LE(body.length, 4);
  body.copy(chunk, 8);
  const file = Buffer.concat([header.subarray(0, 36), chunk, header.subarray(36), pcm]);
  file.writeUInt32LE(file.length - 8, 4);
  return file;
}

describe("readPcm16kWav: RIFF chunks and sizes", () => {
  it("honours the pad byte after an odd-sized chunk before the data chunk", async () => {
    const pcm = tone(3, 9);
    for (const size of [4, 5, 26, 27]) {
      const path = join(dir, `list-${size}.wav`);
      await writeFile(path, wavWithChunk("LIST", Buffer.alloc(size, 0x41), pcm));
      expect((await readPcm16kWav(path)).equals(pcm)).toBe(true);
    }
  });

  it("refuses a file cut inside its data chunk, naming both sizes", async () => {
    const pcm = tone(10, 4);
    const path = join(dir, "cut.wav");
    await writeFile(path, Buffer.concat([pcm16kWavHeader(pcm.length), pcm]).subarray(0, 1000));
    const error = await readPcm16kWav(path).catch((e: Error) => e);
    expect(error).toBeInstanceOf(WavFormatError);
    expect((error as Error).message).toContain(
      `truncated: its "data" chunk declares ${pcm.length} bytes, the file holds 956`,
    );
  });

  it("keeps the samples of a data chunk followed by other chunks, and drops an odd trailing byte", async () => {
    const pcm = tone(2, 5);
    const list = Buffer.concat([Buffer.from("LIST"), Buffer.from([3, 0, 0, 0]), Buffer.from("abc\0")]);
    const path = join(dir, "trailing.wav");
    const header = pcm16kWavHeader(pcm.length + 1);
    await writeFile(path, Buffer.concat([header, pcm, Buffer.from([9, 0]), list]));
    expect((await readPcm16kWav(path)).equals(pcm)).toBe(true);
  });

  it("names what is wrong with a file that is not RIFF WAVE, or too short, or without fmt", async () => {
    const cases: [string, Buffer, RegExp][] = [
      ["empty", Buffer.alloc(0), /not a valid WAV file \(0 bytes/],
      ["rf64", Buffer.concat([Buffer.from("RF64"), pcm16kWavHeader(0).subarray(4)]), /RF64 is not supported/],
      ["nofmt", Buffer.concat([Buffer.from("RIFF\x0c\0\0\0WAVEdata\0\0\0\0", "latin1")]), /no fmt chunk/],
      [
        "cutlist",
        Buffer.concat([pcm16kWavHeader(0).subarray(0, 36), Buffer.from("LIST\xff\0\0\0abc", "latin1")]),
        /no data chunk; truncated: its "LIST" chunk declares 255 bytes, the file holds 3/,
      ],
    ];
    for (const [name, bytes, message] of cases) {
      const path = join(dir, `bad-${name}.wav`);
      await writeFile(path, bytes);
      await expect(readPcm16kWav(path)).rejects.toThrow(message);
    }
  });
});
