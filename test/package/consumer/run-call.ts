/**
 * One call through the emulators with only the installed package: both emulators, the bot as
 * deployed (loadConfig + startProductionBot) running my-bot.js from BOT_MEDIA_HANDLERS, one
 * incoming call. Prints one JSON line with what happened, for the pack test to judge.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { createLogger, loadConfig, readPcm16kWav, startProductionBot } from "teams-media-bot";
import {
  createLocalBotTls,
  emulatedBotEnv,
  freePort,
  GraphEmulator,
  MediaPlatformEmulator,
} from "teams-media-bot/emulators";
import { type CallSummary, HEARD_DIR, TONE_FRAME } from "./my-bot.js";

const CALLER_TONE_HZ = 440;
const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));
const logger = createLogger({ level: process.env.CONSUMER_LOG_LEVEL ?? "warn", name: "consumer" });

const secret = randomBytes(24).toString("base64url");
const app = { appId: randomUUID(), secret: randomBytes(24).toString("base64url"), tenantId: randomUUID() };
for (const dir of ["certs/graph", "certs/bot"]) mkdirSync(here(dir), { recursive: true });

const port = await freePort();
const tls = await createLocalBotTls(here("certs/bot"));
const media = await MediaPlatformEmulator.start({
  secret,
  logger,
  fqdn: "media.consumer.local",
  publicPort: 8445,
  defaultSource: { kind: "tone", frequencyHz: CALLER_TONE_HZ },
});
const graph = await GraphEmulator.start({
  logger,
  certDirectory: here("certs/graph"),
  callbackCaPem: tls.certPem,
  apps: [{ ...app, callbackUrl: `https://127.0.0.1:${port}/api/calls` }],
  establishWhen: (call) =>
    call.mediaSession ? media.connectMedia(call.mediaSession, 10_000) : Promise.resolve(false),
});
const config = loadConfig({
  ...emulatedBotEnv(graph, {
    app,
    port,
    tls,
    mediaFqdn: "media.consumer.local",
    bridgeUrl: media.url,
    bridgeSecret: secret,
    recordingsDir: here("recordings"),
    logLevel: "warn",
  }),
  BOT_MEDIA_HANDLERS: "module:./my-bot.js",
});
const bot = await startProductionBot(config, logger);

try {
  const { callId } = graph.placeIncomingCall({ caller: { displayName: "pack test" } });
  await graph.waitForCallState(callId, "established", 20_000);
  const ended = await graph.waitForCallState(callId, "terminated", 20_000);
  const summaryPath = `${HEARD_DIR}${callId}.json`;
  for (let waited = 0; !existsSync(summaryPath) && waited < 15_000; waited += 100) await sleep(100);
  const summary = JSON.parse(readFileSync(summaryPath, "utf8")) as CallSummary;

  const heard = await readPcm16kWav(summary.heardWav);
  const rendered = media.recording(callId) ?? Buffer.alloc(0);
  const toneBytes = Buffer.from(TONE_FRAME.buffer, TONE_FRAME.byteOffset, TONE_FRAME.byteLength);
  let toneFrames = 0;
  let silentFrames = 0;
  let otherFrames = 0;
  for (let offset = 0; offset + 640 <= rendered.length; offset += 640) {
    const frame = rendered.subarray(offset, offset + 640);
    if (frame.equals(toneBytes)) toneFrames += 1;
    else if (frame.every((byte) => byte === 0)) silentFrames += 1;
    else otherFrames += 1;
  }
  const hangUps = graph.requestLog().filter((r) => r.action === "delete" && r.callId === callId);
  process.stdout.write(
    `${JSON.stringify({
      summary,
      heardBytes: heard.length,
      heardToneHz: dominantHz(heard),
      renderedFrames: { tone: toneFrames, silent: silentFrames, other: otherFrames },
      hangUpStatuses: hangUps.map((r) => r.status),
      resultInfo: ended.resultInfo ?? null,
    })}\n`,
  );
} finally {
  await bot.stop(10_000);
  await media.stop();
  await graph.close();
}
process.exit(0);

/** The frequency of a steady tone, from its zero crossings (two per period). */
function dominantHz(pcm: Buffer): number {
  const count = Math.floor(pcm.length / 2);
  let crossings = 0;
  for (let i = 1; i < count; i++) {
    if (pcm.readInt16LE(2 * (i - 1)) < 0 !== pcm.readInt16LE(2 * i) < 0) crossings += 1;
  }
  return count === 0 ? 0 : crossings / 2 / (count / 16_000);
}
