/**
 * `npm run bench:answer -- --calls N [--rate R] [--warmup W] [--results-dir DIR]`: N incoming
 * calls from the Graph emulator (its own process) to the bot's signaling layer, placed at R
 * calls per second. Measures, inside the bot, notification received -> answer request sent
 * (the bot's own cost) and -> Graph's 202. The media side is the signaling-only provider, so
 * this measures signaling alone.
 */
import { BotApp } from "../src/app/bot-app.js";
import { loadConfig } from "../src/config/config.js";
import { freePort } from "../src/demo/free-port.js";
import { createLocalBotTls } from "../src/demo/local-bot-tls.js";
import { createLogger } from "../src/log/logger.js";
import { StandaloneMediaSessionProvider } from "../src/media/standalone-media-session-provider.js";
import type { AnswerTiming } from "../src/signaling/call-manager.js";
import { GraphEmulatorProcess } from "./lib/graph-emulator-process.js";
import { LatencyHistogram } from "./lib/latency-histogram.js";
import { writeResultIn } from "./lib/result-file.js";
import { formatTable, intArg, parseArgs } from "./lib/results.js";

const args = parseArgs();
// A mistyped flag stops the benchmark before anything starts, rather than running the defaults.
const known = new Set(["calls", "rate", "warmup", "results-dir"]);
for (const name of args.keys()) if (!known.has(name)) throw new Error(`unknown flag --${name}`);
const calls = intArg(args, "calls", 1000);
const rate = intArg(args, "rate", 200);
// Calls answered before measuring starts: JIT, TLS sessions, keep-alive connections warm up.
const warmup = intArg(args, "warmup", 50, 0);
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
const bot = await BotApp.start({
  config,
  logger: createLogger({ level: process.env.BOT_LOG_LEVEL ?? "warn" }),
  media: async ({ config: c }) =>
    new StandaloneMediaSessionProvider({ fqdn: c.media.fqdn, publicPort: c.media.publicPort }),
  signaling: { onAnswered },
});

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
