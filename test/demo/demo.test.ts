import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readPcm16kWav } from "../../src/media/wav-file.js";

const ROOT = path.join(import.meta.dirname, "..", "..");

describe("npm start with no configuration (the demo)", () => {
  it("answers an emulated call, echoes, reacts to DTMF, hangs up, reports and exits 0 by itself", async () => {
    const recordings = await mkdtemp(path.join(tmpdir(), "demo-recordings-"));
    const env: NodeJS.ProcessEnv = { ...process.env, BOT_RECORDINGS_DIR: recordings };
    for (const key of Object.keys(env))
      if (key.startsWith("BOT_") && key !== "BOT_RECORDINGS_DIR") delete env[key];
    const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "src/main.ts")], {
      cwd: ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exitCode = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      child.once("exit", (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
    expect(exitCode, `stdout:\n${stdout}\nstderr:\n${stderr}`).toBe(0);

    const report = stdout.slice(stdout.indexOf("\nReport"));
    const field = (name: string) => new RegExp(`  ${name}\\s+(.+)`).exec(report)?.[1]?.trim();
    expect(field("time to answer \\(notification -> Graph 202\\)")).toMatch(/^\d+(\.\d+)? ms$/);
    expect(field("call ended")).toMatch(/^200\/7000/);
    const [received, sent] = (field("frames received by the bot / sent by the bot") ?? "")
      .split(" / ")
      .map(Number);
    expect(received).toBeGreaterThan(200);
    expect(sent).toBeGreaterThan(200);
    // The bot's own barge-in clears are reported in their own row, not as drops.
    expect(field("frames cleared \\(barge-in\\)")).toMatch(/^\d+$/);
    expect(field("frames dropped")).toMatch(/^\d+$/);

    const recordingPath = field("recording") as string;
    expect(recordingPath.startsWith(recordings)).toBe(true);
    expect(existsSync(recordingPath)).toBe(true);
    const pcm = await readPcm16kWav(recordingPath);
    const samples = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length / 2);
    // The caller's speech was recorded: seconds of 16 kHz audio that is not all silence.
    expect(samples.length).toBeGreaterThan(16_000 * 3);
    expect(samples.some((sample) => Math.abs(sample) > 1000)).toBe(true);
  }, 90_000);
});
