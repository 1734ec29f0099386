import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { ConfigError } from "../../src/config/config-error.js";
import { checkFileSettings } from "../../src/config/file-settings.js";
import { VALID_BOT_ENV } from "./valid-env.js";

const ROOT = join(import.meta.dirname, "..", "..");

const VALID = {
  ...VALID_BOT_ENV,
  // Nothing listens there: a start that got past the checks fails on the token, not hangs.
  BOT_AUTHORITY_URL: "https://127.0.0.1:1/{tenant}",
  BOT_PORT: "0",
  BOT_OPS_PORT: "0",
};

/** `npm run bot` (src/bot.ts) with exactly these BOT_* variables; its exit code and stderr. */
async function runBot(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const clean: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(clean)) if (key.startsWith("BOT_")) delete clean[key];
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "src/bot.ts")], {
    cwd: ROOT,
    env: { ...clean, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.once("exit", (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  return { code, stderr };
}

function wav(channels: number, sampleRate: number, dataBytes: number): Buffer {
  const header = Buffer.alloc(44);
  header.write("RIFF", 0, "latin1");
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write("WAVEfmt ", 8, "latin1");
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * channels * 2, 28);
  header.writeUInt16LE(channels * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36, "latin1");
  header.writeUInt32LE(dataBytes, 40);
  return Buffer.concat([header, Buffer.alloc(dataBytes)]);
}

async function problemOf(env: Record<string, string>): Promise<ConfigError | undefined> {
  try {
    await checkFileSettings(loadConfig({ ...VALID, ...env }));
    return undefined;
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
}

describe("file-path settings checked at start", () => {
  const dir = mkdtempSync(join(tmpdir(), "file-settings-"));

  it("a missing BOT_CA_CERT stops `npm run bot` with one line naming the variable and the path", async () => {
    const missing = join(dir, "no-such-ca.pem");
    const { code, stderr } = await runBot({ ...VALID, BOT_CA_CERT: missing });
    expect(code).toBe(2);
    expect(stderr).toBe(
      `configuration error: BOT_CA_CERT: cannot read "${missing}" (ENOENT: no such file or directory)\n`,
    );
  }, 40_000);

  it("player:<missing wav> stops `npm run bot` with one line naming BOT_MEDIA_HANDLERS and the file", async () => {
    const missing = join(dir, "missing.wav");
    const { code, stderr } = await runBot({ ...VALID, BOT_MEDIA_HANDLERS: `player:${missing}` });
    expect(code).toBe(2);
    expect(stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(stderr).toContain(
      `configuration error: BOT_MEDIA_HANDLERS: player WAV ${missing}: cannot open (ENOENT)`,
    );
  }, 40_000);

  it("a player WAV that is not 16 kHz mono 16-bit is refused naming BOT_MEDIA_HANDLERS and what is wrong", async () => {
    const stereo = join(dir, "stereo-8k.wav");
    writeFileSync(stereo, wav(2, 8000, 640));
    const error = await problemOf({ BOT_MEDIA_HANDLERS: `echo,player:${stereo}` });
    expect(error?.variable).toBe("BOT_MEDIA_HANDLERS");
    expect(error?.message).toContain(stereo);
    expect(error?.message).toContain("8000 Hz (need 16000)");
    expect(error?.message).toContain("2 channels (need 1)");
    const good = join(dir, "good.wav");
    writeFileSync(good, wav(1, 16_000, 640));
    expect(await problemOf({ BOT_MEDIA_HANDLERS: `player:${good}` })).toBeUndefined();
  });

  it("TLS certificate and key, app certificate: each missing file named by its variable", async () => {
    const cert = join(dir, "cert.pem");
    writeFileSync(cert, "not checked here beyond being readable");
    const missing = join(dir, "absent.pem");
    expect((await problemOf({ BOT_TLS_CERT: missing, BOT_TLS_KEY: cert }))?.variable).toBe("BOT_TLS_CERT");
    expect((await problemOf({ BOT_TLS_CERT: cert, BOT_TLS_KEY: missing }))?.variable).toBe("BOT_TLS_KEY");
    expect((await problemOf({ BOT_TLS_CERT: dir, BOT_TLS_KEY: cert }))?.message).toBe(
      `BOT_TLS_CERT: "${dir}" is not a file`,
    );
    const appCert = {
      BOT_APP_SECRET: "",
      BOT_APP_CERT_KEY: missing,
      BOT_APP_CERT_THUMBPRINT: "a".repeat(40),
    };
    expect((await problemOf(appCert))?.variable).toBe("BOT_APP_CERT_KEY");
    expect(await problemOf({ BOT_TLS_CERT: cert, BOT_TLS_KEY: cert, BOT_CA_CERT: cert })).toBeUndefined();
  });

  it("the recordings directory is made at start when a recorder runs, and one that cannot be is refused", async () => {
    const recordings = join(dir, "made", "recordings");
    expect(
      await problemOf({ BOT_MEDIA_HANDLERS: "recorder", BOT_RECORDINGS_DIR: recordings }),
    ).toBeUndefined();
    const file = join(dir, "a-file");
    writeFileSync(file, "");
    const error = await problemOf({ BOT_MEDIA_HANDLERS: "recorder", BOT_RECORDINGS_DIR: join(file, "sub") });
    expect(error?.variable).toBe("BOT_RECORDINGS_DIR");
    expect(error?.message).toContain(join(file, "sub"));
    // Without a recorder nothing is written there: nothing is made or checked.
    expect(
      await problemOf({ BOT_MEDIA_HANDLERS: "echo", BOT_RECORDINGS_DIR: join(file, "sub") }),
    ).toBeUndefined();
  });
});
