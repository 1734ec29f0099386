import { type FileHandle, open } from "node:fs/promises";
import { BYTES_PER_SAMPLE, FRAME_BYTES, SAMPLE_RATE_HZ } from "./audio-format.js";
import { copyPcm } from "./frame-copy.js";

export const WAV_HEADER_BYTES = 44;
/** One second of PCM16K per write: few system calls, at most a second lost on a hard crash. */
const CHUNK_FRAMES = 50;
/** Longest piece of a long silence written at once (16 s): bounded memory, few system calls. */
const SILENCE_WRITE_BYTES = 16 * CHUNK_FRAMES * FRAME_BYTES;

/** The zeros long silences are written from, shared by every writer and never modified. */
let sharedZeros: Buffer | undefined;

/** The canonical 44-byte header of a PCM16K mono WAV file holding `dataBytes` of samples. */
export function pcm16kWavHeader(dataBytes: number): Buffer {
  const header = Buffer.alloc(WAV_HEADER_BYTES);
  header.write("RIFF", 0, "ascii");
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write("WAVE", 8, "ascii");
  header.write("fmt ", 12, "ascii");
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(SAMPLE_RATE_HZ, 24);
  header.writeUInt32LE(SAMPLE_RATE_HZ * BYTES_PER_SAMPLE, 28);
  header.writeUInt16LE(BYTES_PER_SAMPLE, 32);
  header.writeUInt16LE(BYTES_PER_SAMPLE * 8, 34);
  header.write("data", 36, "ascii");
  header.writeUInt32LE(dataBytes, 40);
  return header;
}

/**
 * Writes a PCM16K mono WAV file from 20 ms frames without allocating per frame and without
 * waiting: frames are copied into one-second chunks that are written in the background from a
 * small recycled pool. After each chunk the header's sizes are patched, so the file is a valid
 * WAV up to the last written second even if the process dies; `close()` writes the rest and
 * the final sizes.
 */
export class WavFileWriter {
  private chunk: Buffer;
  private chunkBytes = 0;
  private readonly pool: Buffer[] = [];
  /** Bytes of samples handed to write() calls so far (their file positions are fixed). */
  private dataBytesScheduled = 0;
  private writes: Promise<void>;
  private file: FileHandle | undefined;
  private failure: Error | undefined;
  private closed = false;
  /** Resolves once the file exists with its header; rejects when it cannot be created. */
  readonly ready: Promise<void>;

  /**
   * Starts creating the file (it must not exist yet) and returns at once: frames written
   * before the file is open wait in memory, so a caller on the media clock never waits.
   */
  constructor(readonly path: string) {
    this.chunk = Buffer.alloc(CHUNK_FRAMES * FRAME_BYTES);
    this.ready = (async () => {
      const file = await open(path, "wx");
      this.file = file;
      await file.write(pcm16kWavHeader(0), 0, WAV_HEADER_BYTES, 0);
    })();
    this.writes = this.ready.catch((error: Error) => {
      this.failure = error;
    });
    // Callers that never await `ready` learn of the failure through `error` and close().
    this.ready.catch(() => {});
  }

  /** Samples written or waiting to be, in bytes. */
  get dataBytes(): number {
    return this.dataBytesScheduled + this.chunkBytes;
  }

  /** The first write error, if any (writing stops at it; the file keeps what was written). */
  get error(): Error | undefined {
    return this.failure;
  }

  /** Appends one 20 ms frame (640 bytes copied from `source` at `offset`). */
  writeFrame(source: Uint8Array, offset = 0): void {
    if (this.closed || this.failure) return;
    copyPcm(source, offset, this.chunk, this.chunkBytes);
    this.advance();
  }

  /**
   * Appends `frames` frames of silence (a speaker who was not talking). A silence of whole
   * chunks (a speaker first heard late in the call: the whole call so far) costs the caller
   * the same as a short one: those chunks are written in the background from shared zeros,
   * in bounded pieces, at the positions the chunks would have had.
   */
  writeSilence(frames: number): void {
    if (this.closed || this.failure || !(frames > 0)) return;
    let bytes = frames * FRAME_BYTES;
    const head = Math.min(this.chunk.length - this.chunkBytes, bytes);
    this.chunk.fill(0, this.chunkBytes, this.chunkBytes + head);
    this.chunkBytes += head;
    bytes -= head;
    if (this.chunkBytes === this.chunk.length) this.schedule();
    if (bytes === 0) return;
    const wholeChunks = bytes - (bytes % this.chunk.length);
    if (wholeChunks > 0) this.scheduleSilence(wholeChunks);
    // The rest starts the (fresh, maybe recycled) chunk.
    this.chunk.fill(0, 0, bytes - wholeChunks);
    this.chunkBytes = bytes - wholeChunks;
  }

  /** Writes what is left and the final header; the file is complete when this resolves. */
  async close(): Promise<void> {
    if (this.closed) return this.writes;
    this.closed = true;
    if (this.chunkBytes > 0) this.schedule();
    this.writes = this.writes.then(async () => {
      const file = this.file;
      if (file === undefined) return;
      try {
        if (!this.failure) await file.write(pcm16kWavHeader(this.dataBytesScheduled), 0, WAV_HEADER_BYTES, 0);
      } catch (error) {
        this.failure ??= error as Error;
      } finally {
        await file.close();
      }
    });
    await this.writes;
    if (this.failure) throw this.failure;
  }

  private advance(): void {
    this.chunkBytes += FRAME_BYTES;
    if (this.chunkBytes === this.chunk.length) this.schedule();
  }

  /** Writes `bytes` of zeros at the end of what is scheduled, in the background. */
  private scheduleSilence(bytes: number): void {
    const position = WAV_HEADER_BYTES + this.dataBytesScheduled;
    this.dataBytesScheduled += bytes;
    const dataBytes = this.dataBytesScheduled;
    this.chainWrite(async (file) => {
      sharedZeros ??= Buffer.alloc(SILENCE_WRITE_BYTES);
      for (let done = 0; done < bytes; ) {
        const length = Math.min(SILENCE_WRITE_BYTES, bytes - done);
        await file.write(sharedZeros, 0, length, position + done);
        done += length;
        // As after each chunk: valid up to what is on disk, should the process die meanwhile.
        await file.write(pcm16kWavHeader(dataBytes - bytes + done), 0, WAV_HEADER_BYTES, 0);
      }
    });
  }

  /**
   * Runs `write` after the writes scheduled before it (so the header never claims bytes that
   * are not on disk yet), unless one failed; its own failure stops the later ones. `always`
   * runs in any case, after it.
   */
  private chainWrite(write: (file: FileHandle) => Promise<void>, always?: () => void): void {
    this.writes = this.writes.then(async () => {
      const file = this.file;
      try {
        if (this.failure || file === undefined) return;
        await write(file);
      } catch (error) {
        this.failure = error as Error;
      } finally {
        always?.();
      }
    });
  }

  /** Hands the current chunk to the file in the background and takes a fresh one. */
  private schedule(): void {
    const chunk = this.chunk;
    const length = this.chunkBytes;
    const position = WAV_HEADER_BYTES + this.dataBytesScheduled;
    this.dataBytesScheduled += length;
    const dataBytes = this.dataBytesScheduled;
    this.chainWrite(
      async (file) => {
        await file.write(chunk, 0, length, position);
        await file.write(pcm16kWavHeader(dataBytes), 0, WAV_HEADER_BYTES, 0);
      },
      () => this.pool.push(chunk),
    );
    this.chunk = this.pool.pop() ?? Buffer.alloc(CHUNK_FRAMES * FRAME_BYTES);
    this.chunkBytes = 0;
  }
}
