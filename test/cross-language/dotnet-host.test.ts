/**
 * End to end across languages: the .NET media host (fake platform playing caller-speech.wav,
 * recording what it is sent) + the Graph calling emulator + the bot (BotApp, the media worker
 * with the built-in echo handler) on loopback. A call is placed through Graph, answered with
 * the blob the .NET host made, established once the worker sees the host's media, and the
 * audio the host was sent back is the caller's audio, sample for sample. Then the bot hangs up
 * and everything shuts down; the host exits 0.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BotApp } from "../../src/app/bot-app.js";
import type { GraphEmulator } from "../../src/emulator/graph/graph-emulator.js";
import { readPcm16kWav } from "../../src/media/wav-file.js";
import { deltaOf, labelDeltas, parseExposition, sumOf } from "../../src/metrics/prometheus-text.js";
import { CALLER_WAV, sleep, startBotOnDotnetHost, waitForFile } from "./bot-on-dotnet-host.js";
import { type DotnetHost, ensureHostBuilt } from "./dotnet-host.js";
import { FRAME_BYTES, matchEcho } from "./echo-match.js";

/** How long the caller is echoed before the bot hangs up. */
const TALK_MS = 3000;

describe("the TypeScript bot with the .NET media host", () => {
  let host: DotnetHost | undefined;
  let graph: GraphEmulator | undefined;
  let bot: BotApp | undefined;
  let dir = "";

  beforeAll(async () => {
    // A build takes about a minute on this 2-core machine; later runs reuse it.
    await ensureHostBuilt("Release", { timeoutMs: 280_000 });
    dir = await mkdtemp(path.join(tmpdir(), "dotnet-host-e2e-"));
  }, 300_000);

  afterAll(async () => {
    // Failure paths: whatever is still running goes, the host by SIGKILL if SIGTERM is not enough.
    await bot?.stop(5000).catch(() => {});
    await graph?.close().catch(() => {});
    if (host && !host.exitStatus) await host.stop(5000);
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 30_000);

  it("answers a Graph call with the host's blob and echoes the caller sample for sample", async () => {
    const stack = await startBotOnDotnetHost(dir, (started) => {
      host = started;
    });
    host = stack.host;
    graph = stack.graph;
    bot = stack.bot;
    const { provider, recordDir } = stack;
    expect(host.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/bridge$/);
    const hostBefore = parseExposition(await host.metrics());
    expect(sumOf(hostBefore, "bridge_connections_total")).toBe(1);

    const { callId } = graph.placeIncomingCall({ caller: { displayName: "Alex (emulated caller)" } });
    const established = await graph.waitForCallState(callId, "established", 15_000);

    // The answer Graph accepted carries the blob the .NET fake platform serialized for this call.
    const answer = graph.requestLog().find((r) => r.action === "answer" && r.callId === callId);
    if (!answer) throw new Error("Graph saw no answer request for the call");
    expect(answer.status).toBe(202);
    const answerBody = answer.body as { mediaConfig: { blob: string } };
    const blob = JSON.parse(answerBody.mediaConfig.blob) as Record<string, unknown>;
    expect(blob.callId).toBe(callId);
    expect(blob.skypeMediaBotsVersion).toBe("1.33.0.258-fake");
    expect(blob.mpUri).toBe("net.tcp://media.localhost:8445/MediaProcessor");
    expect(established.mediaSession?.mpMediaSessionId).toBe(blob.mpMediaSessionId);

    await sleep(TALK_MS);
    const workerMetrics = parseExposition(await provider.metrics());
    const hostMid = parseExposition(await host.metrics());
    expect(await bot.signaling.hangUp(callId)).toBe(true);
    const ended = await graph.waitForCallState(callId, "terminated", 15_000);
    expect(ended.state).toBe("terminated");

    // The host writes what the call was sent when its session closes.
    const recording = path.join(recordDir, `${callId}.wav`);
    await waitForFile(recording, 10_000);
    const hostAfter = parseExposition(await host.metrics());
    const rendered = await readPcm16kWav(recording);
    const source = await readPcm16kWav(CALLER_WAV);

    const match = matchEcho(source, rendered);
    const render = labelDeltas(hostBefore, hostAfter, "bridge_render_frames_total");
    const played = render.sent_to_platform ?? 0;
    expect(rendered.length / FRAME_BYTES).toBe(played);
    // About TALK_MS of echo (less the first ~100 ms before the platform accepts audio).
    expect(match.frames).toBeGreaterThan((TALK_MS / 20) * 0.8);
    expect(match.mismatchAt, JSON.stringify(match)).toBeNull();
    expect(match.firstSourceFrame).not.toBeNull();
    // Every frame the echo path left out is one a metric counted: nothing is lost silently.
    const workerDrops =
      sumOf(workerMetrics, "media_frames_dropped_total") +
      sumOf(workerMetrics, "media_frames_concealed_total");
    const hostDrops =
      (render.dropped_latency_trim ?? 0) +
      (render.dropped_queue_full ?? 0) +
      deltaOf(hostBefore, hostAfter, "bridge_frame_batches_dropped_total");
    expect(match.skipped + match.concealed).toBeLessThanOrEqual(workerDrops + hostDrops);
    expect(match.matched + match.concealed).toBe(match.frames);
    console.log(
      `echo through the .NET host: ${match.frames} frames, first = source frame ${match.firstSourceFrame}, ` +
        `${match.matched} equal, ${match.skipped} skipped, ${match.concealed} concealed; ` +
        `host queued ${labelDeltas(hostBefore, hostMid, "bridge_render_frames_total").queued ?? 0} render frames by mid-call`,
    );

    await bot.stop(10_000);
    bot = undefined;
    await graph.close();
    graph = undefined;
    const exit = await host.stop(10_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(host.stderrTail(200)).not.toMatch(/"LogLevel":"(Error|Critical)"/);
  }, 90_000);
});
