/**
 * A media handler's call control through the whole bot: the handler (real media worker) asks
 * on a Graph DTMF tone, signaling sends Graph's request (Graph emulator, CSDL-checked), the
 * outcome settles the handler's promise, and the handler reports it by hanging up with it.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type EmulatedBot, emulatedBotPerTest } from "./helpers/emulated-bot.js";
import { until } from "./helpers/fakes.js";

const HANDLER = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  "../media/fixtures/call-control-handler.ts",
);
const suite = emulatedBotPerTest();

const startBot = (): Promise<EmulatedBot> =>
  suite.start({
    mediaFqdn: "media.control.test",
    env: { BOT_MEDIA_HANDLERS: `module:${HANDLER}` },
    captureLogs: true,
  });

function handlerHangUpReason(r: EmulatedBot, callId: string): string | undefined {
  for (const line of r.logs) {
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (entry.callId === callId && entry.msg === "media handler asks to hang up") return String(entry.reason);
  }
  return undefined;
}

describe("call control from a media handler, whole bot", () => {
  it("mute: Graph mutes the bot and the handler's promise resolves", async () => {
    const r = await startBot();
    const graph = suite.graph();
    const { callId } = graph.placeIncomingCall({ appId: r.appId });
    await graph.waitForCallState(callId, "established");
    graph.sendTone(callId, "tone1");
    await until(() => handlerHangUpReason(r, callId) !== undefined, 8000, "the handler's report");
    expect(handlerHangUpReason(r, callId)).toBe("mute ok");
    expect(suite.requests(callId, "mute")[0]?.status).toBe(200);
    expect(graph.call(callId)?.isMuted).toBe(true);
    await graph.waitForCallState(callId, "terminated");
  });

  it("a wrong transfer target: the promise rejects with invalid_request, nothing reaches Graph", async () => {
    const r = await startBot();
    const graph = suite.graph();
    const { callId } = graph.placeIncomingCall({ appId: r.appId });
    await graph.waitForCallState(callId, "established");
    graph.sendTone(callId, "tone2");
    await until(() => handlerHangUpReason(r, callId) !== undefined, 8000, "the handler's report");
    expect(handlerHangUpReason(r, callId)).toBe("transfer CallControlRefusedError invalid_request");
    expect(suite.requests(callId, "transfer")).toEqual([]);
  });
});
