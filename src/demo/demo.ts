/**
 * The one-command demo (`npm start` with no configuration): the Graph calling emulator, the
 * media platform emulator and the bot, all on loopback. An emulated caller rings the bot and
 * speaks; the bot answers, records, greets, repeats what it hears, reacts to a DTMF key and
 * hangs up. Then a short report, and a clean exit.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { LocalStack } from "../dev/local-stack.js";
import { startProgressLine } from "../dev/progress-line.js";
import { createLogger } from "../log/logger.js";
import type { DemoBotOptions } from "./demo-bot.js";
import {
  type DemoReport,
  describeEnding,
  finishReport,
  formatReport,
  mediaFigures,
  round,
} from "./demo-report.js";

export type { DemoReport } from "./demo-report.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const AUDIO = path.join(HERE, "..", "..", "assets", "audio");
/** The demo bot module next to this one (.ts under tsx and vitest, .js once compiled). */
const DEMO_BOT = fileURLToPath(
  new URL(`./demo-bot${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url),
);

export interface DemoOptions {
  /** Seconds the caller is echoed before pressing a key. */
  talkSeconds?: number;
  recordingsDir?: string;
  /** Progress and report go here (stdout by default). */
  out?: NodeJS.WritableStream;
  logLevel?: string;
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoReport> {
  const out = options.out ?? process.stdout;
  const logLevel = options.logLevel ?? process.env.BOT_LOG_LEVEL ?? "warn";
  const logger = createLogger({ level: logLevel, name: "demo" });
  const talkSeconds = options.talkSeconds ?? 6;
  const started = performance.now();
  const say = (line: string) => out.write(`${line}\n`);
  say("teams-media-bot demo: Graph calling emulator + media platform emulator + bot, all on loopback");

  const demoBot: DemoBotOptions = {
    greetingWav: path.join(AUDIO, "bot-greeting.wav"),
    toneAckWav: path.join(AUDIO, "bot-tone-ack.wav"),
  };
  const stack = await LocalStack.start({
    handlers: [{ module: DEMO_BOT, options: demoBot }],
    callerSource: { kind: "wav", path: path.join(AUDIO, "caller-speech.wav"), loop: true },
    recordingsDir: options.recordingsDir ?? process.env.BOT_RECORDINGS_DIR ?? "recordings",
    logger,
    logLevel,
  });
  const { graph, media } = stack;
  say(
    `bot listening at ${stack.bot.signaling.url} (health and metrics at ${stack.bot.signaling.opsUrl}), media worker connected to ${media.url}`,
  );

  const report: Partial<DemoReport> = { calls: 1 };
  const progress = startProgressLine(out, () => {
    const session = media.sessions()[0];
    const call = report.callId ? graph.call(report.callId) : undefined;
    return `  ${((performance.now() - started) / 1000).toFixed(1)} s  call ${call?.state ?? "-"}  frames to bot ${session?.framesSent ?? 0}, from bot ${session?.renderFramesReceived ?? 0}`;
  });
  try {
    const placed = await stack.placeCall();
    const callId = placed.callId;
    report.callId = callId;
    report.answerMs = round(placed.answerMs);
    report.establishedMs = round(placed.establishedMs);
    progress.line(
      `call ${callId} answered in ${report.answerMs} ms, established after ${report.establishedMs} ms`,
    );

    await sleep(talkSeconds * 1000);
    progress.line("caller presses 1 (DTMF through a Graph toneInfo notification)");
    // The echo ends with the key; the media host forgets the session once the bot closes it.
    let sessionStats = media.sessions().filter((s) => s.callId === callId);
    graph.sendTone(callId, "tone1");
    const ended = await graph.waitForCallState(callId, "terminated", 15_000);
    report.endedWith = describeEnding(ended.resultInfo);
    progress.line(`call ended by the bot: ${report.endedWith}`);

    const atEnd = media.sessions().filter((s) => s.callId === callId);
    if (atEnd.length > 0) sessionStats = atEnd;
    Object.assign(report, mediaFigures(await stack.workerMetrics(), sessionStats));
  } finally {
    progress.stop();
    await stack.stop();
  }
  const full = await finishReport(report, stack.config.media.recordingsDir, started);
  say(formatReport(full));
  return full;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
