import { once } from "node:events";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { BridgeClient } from "../../src/bridge/bridge-client.js";
import { type PooledSendBuffer, SendBufferPool } from "../../src/bridge/send-buffer-pool.js";
import { zeroMaskSafe } from "../../src/bridge/zero-mask.js";
import { MediaPlatformEmulator } from "../../src/emulator/media/media-platform-emulator.js";
import { silentLogger } from "../../src/log/logger.js";

const SECRET = "a-bridge-secret-of-some-length";
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** One client-to-server WebSocket frame as it was on the wire. */
interface WireFrame {
  opcode: number;
  maskKey: Buffer;
  payload: Buffer;
}

/** Parses the client's side of a connection: the HTTP upgrade request, then masked frames. */
function parseClientStream(stream: Buffer): WireFrame[] {
  let at = stream.indexOf("\r\n\r\n") + 4;
  const frames: WireFrame[] = [];
  while (at + 2 <= stream.length) {
    const opcode = (stream[at] as number) & 0x0f;
    const masked = ((stream[at + 1] as number) & 0x80) !== 0;
    let length = (stream[at + 1] as number) & 0x7f;
    let header = 2;
    if (length === 126) {
      length = stream.readUInt16BE(at + 2);
      header = 4;
    } else if (length === 127) {
      length = Number(stream.readBigUInt64BE(at + 2));
      header = 10;
    }
    if (!masked) throw new Error("a client frame without the mask bit");
    const maskKey = stream.subarray(at + header, at + header + 4);
    const start = at + header + 4;
    if (start + length > stream.length) break;
    const payload = Buffer.from(stream.subarray(start, start + length));
    for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (maskKey[i & 3] as number);
    frames.push({ opcode, maskKey: Buffer.from(maskKey), payload });
    at = start + length;
  }
  return frames;
}

/**
 * A TCP relay to the emulator that records what the client sends; `hold()` stops reading from
 * the client so its socket has to keep unsent batches, `release()` lets them through.
 */
async function tappedBridge() {
  const emulator = await MediaPlatformEmulator.start({
    secret: SECRET,
    fqdn: "media.test.local",
    publicPort: 9445,
  });
  cleanups.push(() => emulator.stop());
  const target = new URL(emulator.url);
  const captured: Buffer[] = [];
  let clientSide: net.Socket | undefined;
  const relay = net.createServer((client) => {
    clientSide = client;
    const upstream = net.connect(Number(target.port), target.hostname);
    client.on("data", (chunk) => {
      captured.push(chunk);
      upstream.write(chunk);
    });
    upstream.pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  relay.listen(0, "127.0.0.1");
  await once(relay, "listening");
  cleanups.push(() => new Promise<void>((resolve) => relay.close(() => resolve())));
  cleanups.push(() => {
    clientSide?.destroy();
  });
  const port = (relay.address() as net.AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}${target.pathname}`,
    frames: () => parseClientStream(Buffer.concat(captured)),
    hold: () => clientSide?.pause(),
    release: () => clientSide?.resume(),
  };
}

async function openClient(url: string, zeroMask?: boolean) {
  const client = new BridgeClient({
    url,
    secret: SECRET,
    peer: "test worker",
    logger: silentLogger(),
    requestTimeoutMs: 2000,
    // Room for every batch the test queues while the relay holds them.
    maxBufferedBytes: 64 * 1024 * 1024,
    ...(zeroMask === undefined ? {} : { zeroMask }),
  });
  cleanups.push(() => client.close());
  const opened = once(client, "open");
  client.connect();
  await opened;
  return client;
}

/**
 * A FrameBatch-sized message whose every byte says which batch it is, written into the same
 * buffer each time, as the engine's writer reuses its buffers: the client must not keep them.
 */
const reused = new Uint8Array(200_000);
/** 8 MB: more than loopback socket buffers take in, so the client's socket must hold some. */
const BATCHES = 40;
function batch(index: number, bytes = 200_000): Uint8Array {
  return reused.subarray(0, bytes).fill(index + 1);
}

const waitFor = async (condition: () => boolean, ms = 3000) => {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe("zero masking key on the bridge", () => {
  it("is used only where no proxy can read the bytes: loopback or TLS", () => {
    for (const url of [
      "ws://127.0.0.1:9440/bridge",
      "ws://localhost:1/",
      "ws://[::1]:9440/",
      "wss://host.example/",
    ])
      expect(zeroMaskSafe(url), url).toBe(true);
    for (const url of [
      "ws://10.0.0.4:9440/",
      "ws://media-host:9440/",
      "ws://127.0.0.1.example/",
      "not a url",
    ])
      expect(zeroMaskSafe(url), url).toBe(false);
  });

  it("on loopback, every client frame carries an all-zero key and batches arrive intact while the socket holds them", async () => {
    const tap = await tappedBridge();
    const client = await openClient(tap.url);
    tap.hold();
    // Sent back to back into a socket that cannot drain: each must keep its own bytes.
    for (let i = 0; i < BATCHES; i++) expect(client.sendFrameBatch(batch(i))).toBe(true);
    tap.release();
    await waitFor(() => tap.frames().filter((f) => f.payload.length === 200_000).length === BATCHES);
    const frames = tap.frames();
    for (const frame of frames) expect([...frame.maskKey]).toEqual([0, 0, 0, 0]);
    const batches = frames.filter((f) => f.payload.length === 200_000);
    batches.forEach((frame, i) => {
      expect(frame.opcode).toBe(2);
      expect(frame.payload.every((byte) => byte === (i + 1) % 256)).toBe(true);
    });
  });

  it("a batch handed over with its release is written as it is and released only once written", async () => {
    const tap = await tappedBridge();
    const client = await openClient(tap.url);
    const pool = new SendBufferPool(200_000);
    tap.hold();
    let last: PooledSendBuffer | undefined;
    for (let i = 0; i < BATCHES; i++) {
      last = pool.acquire(200_000);
      last.view.fill(i + 1);
      expect(client.sendFrameBatch(last.view, last.release)).toBe(true);
    }
    // 8 MB cannot all be in the kernel: the socket holds the last batches, unreleased.
    expect(pool.inFlight).toBeGreaterThan(1);
    // No copy was taken: a change to the last buffer before the socket writes it goes out.
    last?.view.fill(0xee);
    tap.release();
    await waitFor(() => tap.frames().filter((f) => f.payload.length === 200_000).length === BATCHES);
    await waitFor(() => pool.inFlight === 0);
    const batches = tap.frames().filter((f) => f.payload.length === 200_000);
    batches.forEach((frame, i) => {
      const expected = i === BATCHES - 1 ? 0xee : (i + 1) % 256;
      expect(frame.payload.every((byte) => byte === expected)).toBe(true);
    });
  });

  it("a dropped batch's release is called at once", async () => {
    const tap = await tappedBridge();
    const client = await openClient(tap.url);
    const pool = new SendBufferPool(1024);
    await client.close();
    const entry = pool.acquire(1024);
    expect(client.sendFrameBatch(entry.view, entry.release)).toBe(false);
    expect(pool.inFlight).toBe(0);
  });

  it("with zeroMask off, keys are random and the payload still arrives intact", async () => {
    const tap = await tappedBridge();
    const client = await openClient(tap.url, false);
    for (let i = 0; i < 3; i++) expect(client.sendFrameBatch(batch(i, 5000))).toBe(true);
    await waitFor(() => tap.frames().filter((f) => f.payload.length === 5000).length === 3);
    const frames = tap.frames();
    expect(frames.some((f) => f.maskKey.readUInt32BE(0) !== 0)).toBe(true);
    const batches = frames.filter((f) => f.payload.length === 5000);
    batches.forEach((frame, i) => {
      expect(frame.payload.every((byte) => byte === i + 1)).toBe(true);
    });
  });
});

describe("SendBufferPool", () => {
  it("reuses a buffer only after its write completed, and allocates once per buffer in flight", () => {
    const pool = new SendBufferPool(1024);
    const a = pool.take(new Uint8Array([1, 2, 3]));
    const b = pool.take(new Uint8Array([4, 5]));
    expect([...a.view]).toEqual([1, 2, 3]);
    expect([...b.view]).toEqual([4, 5]);
    expect(b.buffer).not.toBe(a.buffer);
    expect(pool.inFlight).toBe(2);
    a.release();
    a.release(); // a second callback must not return it twice
    expect(pool.inFlight).toBe(1);
    const c = pool.take(new Uint8Array([7]));
    expect(c.buffer).toBe(a.buffer);
    expect(pool.created).toBe(2);
    // Larger than the pool's buffers: a one-off buffer, not kept.
    const big = pool.take(new Uint8Array(2048));
    big.release();
    expect(pool.take(new Uint8Array(2048)).buffer).not.toBe(big.buffer);
    expect(pool.created).toBe(4);
  });
});
