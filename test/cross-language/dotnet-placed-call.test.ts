/**
 * A call the bot places (a meeting join by id) with the .NET media host (fake platform) behind
 * the media worker: the host takes the provisional call_id (= media_session_id) as an opaque
 * label, the blob it serializes goes into createCall as it is, the call is established once the
 * host's media reaches the worker, and the echo reaches the host. Nothing in the host changed for it.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BotApp } from "../../src/app/bot-app.js";
import type { GraphEmulator } from "../../src/emulator/graph/graph-emulator.js";
import { readPcm16kWav } from "../../src/media/wav-file.js";
import { sleep, startBotOnDotnetHost, waitForFile } from "./bot-on-dotnet-host.js";
import { type DotnetHost, ensureHostBuilt } from "./dotnet-host.js";

describe("a call the bot places, with the .NET media host", () => {
  let host: DotnetHost | undefined;
  let graph: GraphEmulator | undefined;
  let bot: BotApp | undefined;
  let dir = "";

  beforeAll(async () => {
    await ensureHostBuilt("Release", { timeoutMs: 280_000 });
    dir = await mkdtemp(path.join(tmpdir(), "dotnet-placed-call-"));
  }, 300_000);

  afterAll(async () => {
    await bot?.stop(5000).catch(() => {});
    await graph?.close().catch(() => {});
    if (host && !host.exitStatus) await host.stop(5000);
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 30_000);

  it("joins by meeting id: established on the host's media, echo recorded by the host", async () => {
    const stack = await startBotOnDotnetHost(dir, (started) => {
      host = started;
    });
    host = stack.host;
    graph = stack.graph;
    bot = stack.bot;
    const { app, recordDir } = stack;

    // The emulator knows meetings by id and passcode (an unknown id is refused 404).
    graph.createMeeting({ tenantId: app.tenantId, joinMeetingId: "293654785123", passcode: "Xy7pQ2" });
    const placed = await bot.joinMeeting({
      joinMeetingId: "293 654 785 123",
      passcode: "Xy7pQ2",
      tenantId: app.tenantId,
    });
    await placed.established;
    const create = graph.requestLog().find((r) => r.action === "create" && r.status === 201);
    if (!create) throw new Error("Graph saw no accepted createCall");
    const { mediaConfig } = create.body as { mediaConfig: { blob: string } };
    const blob = JSON.parse(mediaConfig.blob) as Record<string, unknown>;
    // The blob as the .NET fake platform serialized it: its callId is the label the host was given.
    expect(blob.mpMediaSessionId).toBe(placed.mediaSessionId);
    expect(blob.callId).toBe(placed.mediaSessionId);
    expect(blob.skypeMediaBotsVersion).toBe("1.33.0.258-fake");

    await sleep(2000);
    await placed.hangUp();
    expect((await placed.ended).reason).toBe("hungUp");
    // The host writes what it was sent when the session closes, under the label it knows.
    const recording = path.join(recordDir, `${placed.mediaSessionId}.wav`);
    await waitForFile(recording, 10_000);
    const rendered = await readPcm16kWav(recording);
    expect(rendered.length).toBeGreaterThan(640 * 25);

    await bot.stop(10_000);
    bot = undefined;
    await graph.close();
    graph = undefined;
    expect(await host.stop(10_000)).toEqual({ code: 0, signal: null });
  }, 90_000);
});
