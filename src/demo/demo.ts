/**
 * The one-command demo (`npm start` with no configuration): the Graph calling emulator, the
 * media platform emulator and the bot, all on loopback. An emulated caller rings the bot and
 * speaks; the bot answers, records, greets, repeats what it hears, reacts to a DTMF key and
 * hangs up. Then a short report, and a clean exit.
 */
import { randomBytes, randomUUID } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BotApp } from "../app/bot-app.js";
import { loadConfig } from "../config/config.js";
import { GraphEmulator } from "../emulator/graph/graph-emulator.js";
import { MediaPlatformEmulator } from "../emulator/media/media-platform-emulator.js";
import { createLogger } from "../log/logger.js";
import { BridgeMediaSessionProvider } from "../media/bridge-media-session-provider.js";
import { siblingEntry } from "../media/spawn-worker.js";
import {
  histogramWindow,
  parseExposition,
  quantileUpperBoundMs,
  type Scrape,
  sumOf,
} from "../metrics/prometheus-text.js";
import type { AnswerTiming } from "../signaling/call-manager.js";
import type { DemoBotOptions } from "./demo-bot.js";
import { emulatedBotEnv } from "./emulator-bot-env.js";
import { freePort } from "./free-port.js";
import { createLocalBotTls } from "./local-bot-tls.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
// assets/ is beside src/ and dist/ (in the repository and in the installed package alike).
const AUDIO = path.join(HERE, "..", "..", "assets", "audio");

export interface DemoOptions {
  /** Seconds the caller is echoed before pressing a key. */
  talkSeconds?: number;
  recordingsDir?: string;
  /** Progress and report go here (stdout by default). */
  out?: NodeJS.WritableStream;
  logLevel?: string;
}

export interface DemoReport {
  callId: string;
  answerMs: number;
  establishedMs: number;
  framesToBot: number;
  framesFromBot: number;
  transitP50Ms: number;
  transitP99Ms: number;
  latenessP50Ms: number;
  latenessP99Ms: number;
  echoRoundTripP50Ms: number;
  framesDropped: number;
  recordingPath: string | undefined;
  endedWith: string;
  totalSeconds: number;
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoReport> {
  const out = options.out ?? process.stdout;
  const logger = createLogger({
    level: options.logLevel ?? process.env.BOT_LOG_LEVEL ?? "warn",
    name: "demo",
  });
  const talkSeconds = options.talkSeconds ?? 6;
  const started = performance.now();
  const secret = randomBytes(24).toString("base64url");
  const app = { appId: randomUUID(), secret: randomBytes(24).toString("base64url"), tenantId: randomUUID() };

  const say = (line: string) => out.write(`${line}\n`);
  say("teams-media-bot demo: Graph calling emulator + media platform emulator + bot, all on loopback");

  const port = await freePort();
  const tls = await createLocalBotTls();
  const publicUrl = `https://127.0.0.1:${port}`;
  const media = await MediaPlatformEmulator.start({
    secret,
    logger: logger.child({ component: "media-emulator" }),
    fqdn: "media.demo.local",
    publicPort: 8445,
    defaultSource: { kind: "wav", path: path.join(AUDIO, "caller-speech.wav"), loop: true },
  });
  const graph = await GraphEmulator.start({
    logger: logger.child({ component: "graph-emulator" }),
    callbackCaPem: tls.certPem,
    apps: [{ ...app, callbackUrl: `${publicUrl}/api/calls` }],
    // Like the real service: a call is established only once its media session connects.
    establishWhen: (call) =>
      call.mediaSession ? media.connectMedia(call.mediaSession, 10_000) : Promise.resolve(false),
  });

  let answer: AnswerTiming | undefined;
  const demoBot: DemoBotOptions = {
    greetingWav: path.join(AUDIO, "bot-greeting.wav"),
    toneAckWav: path.join(AUDIO, "bot-tone-ack.wav"),
  };
  const config = loadConfig(
    emulatedBotEnv(graph, {
      app,
      port,
      tls,
      mediaFqdn: "media.demo.local",
      bridgeUrl: media.url,
      bridgeSecret: secret,
      recordingsDir: options.recordingsDir ?? process.env.BOT_RECORDINGS_DIR ?? "recordings",
      logLevel: options.logLevel ?? process.env.BOT_LOG_LEVEL ?? "warn",
    }),
  );
  let provider: BridgeMediaSessionProvider | undefined;
  const bot = await BotApp.start({
    config,
    logger,
    media: async ({ config: c, logger: l }) => {
      provider = await BridgeMediaSessionProvider.start({
        bridge: c.bridge,
        media: c.media,
        logger: l,
        // demo-bot.ts under tsx and vitest, demo-bot.js once compiled.
        handlers: [{ module: siblingEntry("demo-bot", import.meta.url).href, options: demoBot }],
      });
      await provider.waitUntilConnected(10_000);
      return provider;
    },
    signaling: { onAnswered: (timing) => (answer = timing) },
  });
  say(
    `bot listening at ${bot.signaling.url} (health and metrics at ${bot.signaling.opsUrl}), media worker connected to ${media.url}`,
  );

  const report: Partial<DemoReport> = {};
  const progress = startProgress(out, () => {
    const session = media.sessions()[0];
    const call = report.callId ? graph.call(report.callId) : undefined;
    return `  ${((performance.now() - started) / 1000).toFixed(1)} s  call ${call?.state ?? "-"}  frames to bot ${session?.framesSent ?? 0}, from bot ${session?.renderFramesReceived ?? 0}`;
  });
  try {
    const placedAt = performance.now();
    const { callId } = graph.placeIncomingCall({ caller: { displayName: "Alex (emulated caller)" } });
    report.callId = callId;
    await graph.waitForCallState(callId, "established", 15_000);
    report.establishedMs = round(performance.now() - placedAt);
    if (!answer) throw new Error("the call was established but no answer was measured");
    report.answerMs = round(answer.answerAcceptedAt - answer.receivedAt);
    progress.line(
      `call ${callId} answered in ${report.answerMs} ms, established after ${report.establishedMs} ms`,
    );

    await sleep(talkSeconds * 1000);
    progress.line("caller presses 1 (DTMF through a Graph toneInfo notification)");
    graph.sendTone(callId, "tone1");
    const ended = await graph.waitForCallState(callId, "terminated", 15_000);
    report.endedWith =
      `${ended.resultInfo?.code}/${ended.resultInfo?.subcode} ${ended.resultInfo?.message ?? ""}`.trim();
    progress.line(`call ended by the bot: ${report.endedWith}`);

    const sessionStats = media.sessions().find((s) => s.callId === callId);
    const metrics = parseExposition(provider ? await provider.metrics() : "");
    report.framesToBot = sumOf(metrics, "media_frames_received_total");
    report.framesFromBot = sumOf(metrics, "media_frames_sent_total");
    report.framesDropped = sumOf(metrics, "media_frames_dropped_total");
    report.transitP50Ms = percentileMs(metrics, "media_frame_transit_seconds", 0.5);
    report.transitP99Ms = percentileMs(metrics, "media_frame_transit_seconds", 0.99);
    report.latenessP50Ms = percentileMs(metrics, "media_render_lateness_seconds", 0.5);
    report.latenessP99Ms = percentileMs(metrics, "media_render_lateness_seconds", 0.99);
    report.echoRoundTripP50Ms = round(sessionStats?.echo.p50Ms ?? Number.NaN);
  } finally {
    progress.stop();
    await bot.stop(10_000);
    await media.stop();
    await graph.close();
  }
  report.recordingPath = await findRecording(config.media.recordingsDir, report.callId as string);
  report.totalSeconds = round((performance.now() - started) / 1000);
  const full = report as DemoReport;
  say(formatReport(full));
  return full;
}

function formatReport(r: DemoReport): string {
  const rows: [string, string][] = [
    ["time to answer (notification -> Graph 202)", `${r.answerMs} ms`],
    ["time to established (call placed -> established)", `${r.establishedMs} ms`],
    ["frames received by the bot / sent by the bot", `${r.framesToBot} / ${r.framesFromBot}`],
    ["frame transit p50 / p99 (bridge -> handler)", `<= ${r.transitP50Ms} / <= ${r.transitP99Ms} ms`],
    ["render lateness p50 / p99 (deadline -> sent)", `<= ${r.latenessP50Ms} / <= ${r.latenessP99Ms} ms`],
    ["echo round trip p50 (caller -> bot -> caller)", `${r.echoRoundTripP50Ms} ms`],
    ["frames dropped", String(r.framesDropped)],
    ["call ended", r.endedWith],
    ["recording", r.recordingPath ?? "none"],
    ["demo took", `${r.totalSeconds} s`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return ["", "Report", ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)].join("\n");
}

async function findRecording(dir: string, callId: string): Promise<string | undefined> {
  const { readdir } = await import("node:fs/promises");
  try {
    const files = await readdir(dir, { recursive: true });
    const match = files.find((f) => f.includes(callId) && f.endsWith(".wav") && !/speaker/i.test(f));
    return match ? path.join(dir, match) : undefined;
  } catch {
    return undefined;
  }
}

/** One progress line, rewritten in place on a terminal, or printed every few seconds otherwise. */
function startProgress(out: NodeJS.WritableStream, status: () => string) {
  const tty = (out as NodeJS.WriteStream).isTTY === true;
  let last = 0;
  const timer = setInterval(
    () => {
      const now = performance.now();
      if (tty) out.write(`\r${status().padEnd(78)}`);
      else if (now - last >= 2000) {
        last = now;
        out.write(`${status()}\n`);
      }
    },
    tty ? 250 : 500,
  );
  return {
    line(text: string) {
      if (tty) out.write(`\r${" ".repeat(78)}\r`);
      out.write(`${text}\n`);
    },
    stop() {
      clearInterval(timer);
      if (tty) out.write(`\r${status().padEnd(78)}\n`);
    },
  };
}

/** The worker keeps bucket counts: a percentile is reported as its bucket's upper bound. */
function percentileMs(scrape: Scrape, histogram: string, q: number): number {
  const empty: Scrape = new Map();
  return round(quantileUpperBoundMs(histogramWindow(empty, scrape, histogram), q) ?? Number.NaN);
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
