/**
 * `npm run bench:answer -- --calls N [--rate R] [--warmup W] [--results-dir DIR]`: N incoming
 * calls from the Graph emulator (its own process) to the bot's signaling layer, placed at R
 * calls per second. Measures, inside the bot, notification received -> answer request sent
 * (the bot's own cost) and -> Graph's 202. The media side is the signaling-only provider, so
 * this measures signaling alone.
 *
 * `npm run bench:answer -- --join [--calls N] [--rate R] [--warmup W] [--results-dir DIR]`: the
 * join variant. The bot places N meeting joins (default 200, after W warm-up joins) by join URL
 * at R joins per second, each to its own emulated meeting without a lobby (made before the clock
 * starts), and hangs each up once established. Measures createCall sent (its bytes written to
 * the socket) -> established (the bot handled Graph's `established` and emitted the placed
 * call's event): both performance.now() in the bot's process (PlacedCallTiming), and -> Graph's
 * 201 on the way. Signaling-only provider as above (it takes placed calls: a provisional id,
 * then bindCallId), so the emulator establishes the calls without media.
 *
 * `npm run bench:answer -- --media emulator [--concurrency C] [--waves W] [--warmup W] [--gap-ms G]
 * [--results-dir DIR]`: the path an independent Graph stand-in measures. A child process
 * (lib/answer-standin-child.ts) holds the Graph emulator and the media platform emulator; the bot
 * (this process) has the real media worker and bridge, so every answer waits for a CreateSession
 * round trip to the media emulator. Graph posts C signed notifications at once (default 8),
 * waits for all C answers, ends the calls, waits G ms, and again, W times after the warm-up
 * waves. Measured at Graph's side: notification POST handed to its HTTP client -> the bot's answer
 * request reached Graph (both clocks in the child); and the bot's stages (AnswerTiming), each
 * from the notification's arrival in the bot: token checked, body parsed, 202 written, handling
 * started, admitted, CreateSession sent, SessionCreated, answer written, Graph's 202.
 */
import { BotApp } from "../src/app/bot-app.js";
import { loadConfig } from "../src/config/config.js";
import { freePort } from "../src/demo/free-port.js";
import { createLocalBotTls } from "../src/demo/local-bot-tls.js";
import { DEFAULT_TIMINGS } from "../src/emulator/graph/graph-emulator.js";
import { createLogger } from "../src/log/logger.js";
import { StandaloneMediaSessionProvider } from "../src/media/standalone-media-session-provider.js";
import type { AnswerTiming } from "../src/signaling/call-manager.js";
import type { PlacedCallTiming } from "../src/signaling/outgoing-calls.js";
import type { PlacedCall } from "../src/signaling/placed-call.js";
import { runAnswersOverMediaEmulator } from "./lib/answer-over-media-emulator.js";
import { GraphEmulatorProcess } from "./lib/graph-emulator-process.js";
import { LatencyHistogram } from "./lib/latency-histogram.js";
import { writeResultIn } from "./lib/result-file.js";
import { formatTable, intArg, parseArgs } from "./lib/results.js";

const args = parseArgs();
// A mistyped flag stops the benchmark before anything starts, rather than running the defaults.
const known = new Set([
  "calls",
  "rate",
  "warmup",
  "results-dir",
  "join",
  "media",
  "concurrency",
  "waves",
  "gap-ms",
]);
for (const name of args.keys()) if (!known.has(name)) throw new Error(`unknown flag --${name}`);
if (args.has("media")) {
  if (args.get("media") !== "emulator") throw new Error("--media takes one value: emulator");
  for (const name of ["join", "calls", "rate"])
    if (args.has(name)) throw new Error(`--${name} does not apply with --media emulator`);
  await runAnswersOverMediaEmulator({
    concurrency: intArg(args, "concurrency", 8),
    waves: intArg(args, "waves", 100),
    warmupWaves: intArg(args, "warmup", 10, 0),
    gapMs: intArg(args, "gap-ms", 20, 0),
    resultsDir: args.get("results-dir"),
  });
  process.exit(process.exitCode ?? 0);
}
for (const name of ["concurrency", "waves", "gap-ms"])
  if (args.has(name)) throw new Error(`--${name} applies only with --media emulator`);
const join = args.has("join");
if (join && args.get("join") !== "true") throw new Error("--join takes no value");
const calls = intArg(args, "calls", join ? 200 : 1000);
const rate = intArg(args, "rate", join ? 20 : 200);
// Calls answered (joins placed) before measuring starts: JIT, TLS sessions, keep-alive
// connections warm up.
const warmup = intArg(args, "warmup", join ? 20 : 50, 0);
// Default benchmarks/results; tests and the suite's smoke run write elsewhere.
const resultsDir = args.get("results-dir");

// Stopped from outside (the suite's time limit sends SIGTERM, Ctrl-C sends SIGINT): exit, which
// kills the Graph emulator child (GraphEmulatorProcess's exit hook; the child also exits when
// its IPC channel closes).
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));

const port = await freePort();
// Graph calls bots back over https: the bot serves TLS itself with a throwaway certificate.
const tls = await createLocalBotTls();
const publicUrl = `https://127.0.0.1:${port}`;
const emulator = await GraphEmulatorProcess.start({
  callbackUrl: `${publicUrl}/api/calls`,
  callbackCaPath: tls.certPath,
});
console.log(`graph emulator: pid ${emulator.pid}`);
const config = loadConfig({
  ...emulator.env,
  BOT_PUBLIC_URL: publicUrl,
  BOT_TLS_CERT: tls.certPath,
  BOT_TLS_KEY: tls.keyPath,
  BOT_HOST: "127.0.0.1",
  BOT_PORT: String(port),
  // Health and metrics on a port the OS picks: the benchmark reads neither over HTTP.
  BOT_OPS_PORT: "0",
  BOT_MAX_CALLS: String(calls + warmup + 10),
  BOT_MEDIA_FQDN: "media.example.test",
  BOT_BRIDGE_SECRET: "unused-by-the-signaling-only-provider",
});
const startBot = (signaling: {
  onAnswered?: (timing: AnswerTiming) => void;
  onPlacedEstablished?: (timing: PlacedCallTiming) => void;
}) =>
  BotApp.start({
    config,
    logger: createLogger({ level: process.env.BOT_LOG_LEVEL ?? "warn" }),
    media: async ({ config: c }) =>
      new StandaloneMediaSessionProvider({ fqdn: c.media.fqdn, publicPort: c.media.publicPort }),
    signaling,
  });

if (join) await runJoins();
else await runAnswers();

/** Incoming calls: notification received -> answer sent, -> 202. */
async function runAnswers(): Promise<void> {
  const toSent = new LatencyHistogram();
  const toAccepted = new LatencyHistogram();
  let answered = 0;
  let allAnswered: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    allAnswered = resolve;
  });
  let seen = 0;
  const onAnswered = (timing: AnswerTiming) => {
    seen++;
    if (seen <= warmup) return;
    toSent.recordMs(timing.answerSentAt - timing.receivedAt);
    toAccepted.recordMs(timing.answerAcceptedAt - timing.receivedAt);
    answered++;
    if (answered === calls) allAnswered();
  };
  const bot = await startBot({ onAnswered });
  const started = performance.now();
  // The emulator places the calls on its own timer: one control request, so the bot's event loop
  // (this process) carries only the bot's work. Placing each call with a request of its own put
  // that HTTPS request on the loop being measured.
  await emulator.control("POST", "/calls/batch", { count: warmup + calls, ratePerSecond: rate });
  const timeout = setTimeout(() => allAnswered(), 60_000 + calls * 20);
  await done;
  clearTimeout(timeout);
  const elapsedS = (performance.now() - started) / 1000;

  await bot.stop(30_000);
  await emulator.stop();

  const sent = toSent.summary();
  const accepted = toAccepted.summary();
  const table = formatTable(
    ["interval", "calls", "p50 ms", "p99 ms", "max ms"],
    [
      ["notification -> answer sent", answered, sent.p50Ms, sent.p99Ms, sent.maxMs],
      ["notification -> 202 received", answered, accepted.p50Ms, accepted.p99Ms, accepted.maxMs],
    ],
  );
  console.log(
    `\nAnswer latency: ${calls} incoming calls at ${rate}/s over ${elapsedS.toFixed(1)} s\n${table}\n`,
  );
  const file = writeResultIn(resultsDir, "answer-latency", {
    calls,
    answered,
    ratePerSecond: rate,
    p50Ms: sent.p50Ms,
    p99Ms: sent.p99Ms,
    maxMs: sent.maxMs,
    to202: accepted,
    goal: { p99Ms: 10 },
    placement:
      "by the Graph emulator's own timer (POST /emulator/calls/batch), not by requests from this process",
  });
  console.log(`written ${file}`);
  if (answered < calls) process.exitCode = 1;
}

/** Meeting joins: createCall sent -> 201, -> established. */
async function runJoins(): Promise<void> {
  // One meeting per join, made before the clock starts: joins to one meeting would each post
  // the growing roster to every bot call already in it, and measure that instead.
  const joinUrls: string[] = [];
  for (let i = 0; i < warmup + calls; i++) {
    const meeting = (await emulator.control("POST", "/meetings", {})) as { joinUrl: string };
    joinUrls.push(meeting.joinUrl);
  }
  // Reported from inside joinMeeting when notifications held before the 201 are replayed:
  // matched to the measured joins by call id afterwards.
  const timings = new Map<string, PlacedCallTiming>();
  const bot = await startBot({ onPlacedEstablished: (timing) => timings.set(timing.callId, timing) });
  const measured = new Set<string>();
  let failed = 0;
  const ends: Promise<unknown>[] = [];
  const place = async (joinUrl: string, counted: boolean): Promise<void> => {
    let placed: PlacedCall;
    try {
      placed = await bot.joinMeeting(joinUrl);
    } catch (error) {
      failed++;
      console.error(`join not placed: ${(error as Error).message}`);
      return;
    }
    if (counted) measured.add(placed.callId);
    ends.push(placed.ended);
    try {
      await placed.established;
    } catch (error) {
      failed++;
      console.error(`join not established: ${(error as Error).message}`);
      return;
    }
    // Hung up once established, so the bot holds few calls at a time.
    await placed.hangUp().catch((error: unknown) => console.error(`hang-up failed: ${String(error)}`));
  };
  // Warm-up joins one after another, then the measured joins on absolute deadlines at the rate.
  for (const url of joinUrls.slice(0, warmup)) await place(url, false);
  const started = performance.now();
  const joins: Promise<void>[] = [];
  for (const [i, url] of joinUrls.slice(warmup).entries()) {
    const wait = started + (i * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    joins.push(place(url, true));
  }
  await Promise.all(joins);
  const elapsedS = (performance.now() - started) / 1000;
  await Promise.all(ends);
  await bot.stop(30_000);
  await emulator.stop();

  const toEstablished = new LatencyHistogram();
  const to201 = new LatencyHistogram();
  for (const callId of measured) {
    const timing = timings.get(callId);
    if (timing === undefined) continue;
    toEstablished.recordMs(timing.establishedAt - timing.createSentAt);
    to201.recordMs(timing.createAcceptedAt - timing.createSentAt);
  }
  const established = toEstablished.count;
  const summary = toEstablished.summary();
  const created = to201.summary();
  const table = formatTable(
    ["interval", "joins", "p50 ms", "p99 ms", "max ms"],
    [
      ["createCall sent -> 201 received", established, created.p50Ms, created.p99Ms, created.maxMs],
      ["createCall sent -> established", established, summary.p50Ms, summary.p99Ms, summary.maxMs],
    ],
  );
  console.log(
    `\nJoin latency: ${calls} meeting joins at ${rate}/s over ${elapsedS.toFixed(1)} s (${failed} failed)\n${table}\n(the emulator waits ${DEFAULT_TIMINGS.establishingDelayMs + DEFAULT_TIMINGS.establishedDelayMs} ms of each interval by design: establishingDelayMs + establishedDelayMs)\n`,
  );
  const file = writeResultIn(resultsDir, "join-latency", {
    joins: calls,
    established,
    failed,
    warmup,
    ratePerSecond: rate,
    p50Ms: summary.p50Ms,
    p99Ms: summary.p99Ms,
    maxMs: summary.maxMs,
    to201: created,
    // The emulator's own waits before it notifies establishing and then established (its default
    // timings, which its process runs with): part of every join's interval.
    emulatorDelaysMs: DEFAULT_TIMINGS.establishingDelayMs + DEFAULT_TIMINGS.establishedDelayMs,
    interval:
      "createCall's bytes written to the socket (first attempt) -> the bot handled Graph's established notification (PlacedCallTiming); performance.now() in the bot's process",
    placement:
      "BotApp.joinMeeting by join URL from this process on absolute deadlines, one emulated meeting without lobby per join (made before the clock starts), each hung up once established; signaling-only media provider",
  });
  console.log(`written ${file}`);
  if (established < calls) process.exitCode = 1;
}
