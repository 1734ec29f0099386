/**
 * A stop while calls are being recorded: the bot process (src/bot.ts, as deployed) hangs every
 * call up through Graph, finalizes each recording (a valid WAV whose header matches its length,
 * holding the audio received while recording) and exits 0 by itself. Stopped by SIGTERM (Linux
 * service managers) and by the end of its stdin with BOT_STOP_ON_STDIN_END=true (the Windows
 * service wrapper, TeamsMediaBot.Service, which has no SIGTERM to send).
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readPcm16kWav } from "../../src/media/wav-file.js";
import { waitFor } from "../media/wait-for.js";
import type { FaultStack } from "./fault-stack.js";
import { faultStackPerTest } from "./fault-stack-per-test.js";

const FRAME_BYTES = 640;
const HEADER_BYTES = 44;

const startStack = faultStackPerTest();

/** The call's recording folder (recordings/<callId>-<stamp>), once its mixed.wav exists. */
async function recordingOf(recordingsDir: string, callId: string): Promise<string | undefined> {
  const entries = await readdir(recordingsDir).catch(() => [] as string[]);
  const folder = entries.find((name) => name.startsWith(`${callId}-`));
  if (!folder) return undefined;
  const files = await readdir(path.join(recordingsDir, folder));
  return files.includes("mixed.wav") ? path.join(recordingsDir, folder) : undefined;
}

interface StopTrigger {
  name: string;
  stdin: boolean;
  env: Record<string, string>;
  stop(s: FaultStack): void;
}

const TRIGGERS: StopTrigger[] = [
  { name: "SIGTERM", stdin: false, env: {}, stop: (s) => s.child?.kill("SIGTERM") },
  {
    name: "stdin ends (BOT_STOP_ON_STDIN_END)",
    stdin: true,
    env: { BOT_STOP_ON_STDIN_END: "true" },
    stop: (s) => s.child?.stdin?.end(),
  },
];

describe("stop while recording", () => {
  it.each(TRIGGERS)(
    "$name: ends every call through Graph, finalizes every recording, and exits 0",
    async (trigger) => {
      const s = await startStack({
        graceMs: 2000,
        handlers: "echo,recorder",
        botProcess: true,
        botStdin: trigger.stdin,
        env: trigger.env,
      });
      const callIds = await s.establishedCalls(2);
      const folders = new Map<string, string>();
      const framesAtStart = new Map<string, number>();
      for (const callId of callIds) {
        folders.set(callId, await waitFor(() => recordingOf(s.recordingsDir, callId), 8000));
        framesAtStart.set(callId, s.session(callId)?.framesSent ?? 0);
      }
      // About a second of audio recorded in each call.
      for (const callId of callIds) await s.audioFlows(callId, 50);
      const framesBeforeStop = new Map(callIds.map((id) => [id, s.session(id)?.framesSent ?? 0]));

      const stoppedAt = performance.now();
      trigger.stop(s);
      expect(await s.botProcessExit(20_000), s.childOutput).toBe(0);
      const stopMs = performance.now() - stoppedAt;

      await s.expectHungUpThroughGraph(callIds, 5000);
      expect(s.media.sessions()).toEqual([]);

      for (const callId of callIds) {
        const folder = folders.get(callId) as string;
        const file = path.join(folder, "mixed.wav");
        const bytes = await readFile(file);
        // Finalized: the RIFF and data sizes in the header are the file's.
        expect(bytes.toString("latin1", 0, 4)).toBe("RIFF");
        expect(bytes.readUInt32LE(4)).toBe(bytes.length - 8);
        expect(bytes.toString("latin1", 36, 40)).toBe("data");
        expect(bytes.readUInt32LE(40)).toBe(bytes.length - HEADER_BYTES);
        const pcm = await readPcm16kWav(file); // 16 kHz mono 16-bit, or it throws
        expect(pcm.length % FRAME_BYTES).toBe(0);
        // The audio received while recording: at least what the caller sent between the moment
        // the file was seen and the stop (less the jitter buffer's few frames), at most what the
        // caller sent until the session closed.
        const frames = pcm.length / FRAME_BYTES;
        const sentWhileRecording = (framesBeforeStop.get(callId) ?? 0) - (framesAtStart.get(callId) ?? 0);
        expect(frames).toBeGreaterThanOrEqual(sentWhileRecording - 10);
        expect(frames).toBeLessThanOrEqual((framesBeforeStop.get(callId) ?? 0) + Math.ceil(stopMs / 20) + 5);
        expect(pcm.some((byte) => byte !== 0)).toBe(true);
        const index = JSON.parse(await readFile(path.join(folder, "recording.json"), "utf8"));
        expect(index).toMatchObject({ mixed: "mixed.wav" });
      }
    },
  );
});
