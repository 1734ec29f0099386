/**
 * `npm run soak -- [--calls N] [--minutes T]`: the whole bot (signaling + media worker thread,
 * its own process) against the Graph emulator and the media emulator (each its own process),
 * N calls kept up for T minutes with calls hung up and replaced all along (call churn) and faults
 * injected on a schedule. Every few seconds it samples every process's memory: the bot's RSS and
 * main-thread heap, the media worker thread's own heap (media_worker_heap_used_bytes), and the
 * two emulators' RSS and heap. At the end: a table, and a JSON result file with the raw samples,
 * each series' growth per minute and per call (a line fitted over the run's second half), the
 * calls placed / established / lost / ended by reason, frames dropped and trimmed by reason, and
 * what each fault cost. See docs/benchmarks.md, "Soak".
 *
 * Flags: --calls N (500), --minutes T (10; or --seconds S), --call-seconds S (mean call length,
 * 60), --place-rate R (calls rung per second at most, 20), --sample-seconds S (5), --fault-every S
 * (60), --faults a,b,... or none (default all, in turn: faults.ts), --grace-ms (the bridge
 * reconnect grace of bot and host, 5000), --record-seconds S (the media host's in-memory
 * recording per session, 1), --establish-timeout-ms (20000), --results-dir DIR.
 */
import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "../src/demo/free-port.js";
import { createLocalBotTls } from "../src/demo/local-bot-tls.js";
import { parseExposition, type Scrape, sumOf } from "../src/metrics/prometheus-text.js";
import { GraphEmulatorProcess } from "./lib/graph-emulator-process.js";
import type { ProcessMemory } from "./lib/memory-probe.js";
import { writeResultIn } from "./lib/result-file.js";
import { intArg, parseArgs, RESULTS_DIR } from "./lib/results.js";
import { FarEndProcess } from "./load/far-end-process.js";
import { BotProcess } from "./soak/bot-process.js";
import { CallChurn, type SoakCall } from "./soak/call-churn.js";
import { CounterTotals } from "./soak/counter-totals.js";
import { FAULT_NAMES, type FaultName, faultNamed, parseFaultNames } from "./soak/faults.js";
import { fitWindow, growthOver, type Point } from "./soak/growth.js";
import {
  type FaultOutcome,
  type ProcessGrowth,
  printSoak,
  type SoakResult,
  type SoakSample,
} from "./soak/soak-result.js";

const args = parseArgs();
const known = new Set([
  "calls",
  "minutes",
  "seconds",
  "call-seconds",
  "place-rate",
  "sample-seconds",
  "fault-every",
  "faults",
  "grace-ms",
  "record-seconds",
  "establish-timeout-ms",
  "results-dir",
]);
for (const name of args.keys()) if (!known.has(name)) throw new Error(`unknown flag --${name}`);
const calls = intArg(args, "calls", 500);
const runS = args.has("seconds") ? intArg(args, "seconds", 600) : intArg(args, "minutes", 10) * 60;
const callSeconds = intArg(args, "call-seconds", 60);
const placeRate = intArg(args, "place-rate", 20);
const sampleSeconds = intArg(args, "sample-seconds", 5);
const faultEvery = intArg(args, "fault-every", 60);
const graceMs = intArg(args, "grace-ms", 5000);
const recordSeconds = intArg(args, "record-seconds", 1, 0);
const establishTimeoutMs = intArg(args, "establish-timeout-ms", 20_000);
const faultNames: FaultName[] =
  args.get("faults") === "none"
    ? []
    : args.has("faults")
      ? parseFaultNames(args.get("faults") as string)
      : [...FAULT_NAMES];
const resultsDir = args.get("results-dir");
// A fault is checked once the grace is over and a few seconds more, then its media for 3 s.
const faultCheckMs = graceMs + 8000;
if (faultNames.length > 0 && faultEvery * 1000 < faultCheckMs + 5000)
  throw new Error(
    `--fault-every must leave room for a fault's check (${Math.ceil((faultCheckMs + 5000) / 1000)} s at least)`,
  );

/** The bot's counters summed over the run (reset-aware). */
const COUNTERS = [
  "media_frames_received_total",
  "media_frames_sent_total",
  "media_frames_dropped_total",
  "media_frames_concealed_total",
  "media_sessions_lost_total",
  "bridge_send_drops_total",
  "bridge_protocol_errors_total",
  "bridge_reconnects_total",
  "signaling_incoming_calls_total",
  "signaling_calls_ended_total",
];

const hardLimitMs = (runS + 300) * 1000;
const watchdog = setTimeout(() => {
  console.error(`soak exceeded its hard limit of ${hardLimitMs / 1000} s; stopping`);
  process.exit(2);
}, hardLimitMs);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const logDir = resultsDir ?? RESULTS_DIR;
mkdirSync(logDir, { recursive: true });
const logPath = path.join(logDir, `soak-bot-${new Date().toISOString().replace(/[:.]/g, "-")}.log`);
const logFd = openSync(logPath, "a");
const recordingsDir = mkdtempSync(path.join(tmpdir(), "soak-recordings-"));

let far: FarEndProcess | undefined;
let graph: GraphEmulatorProcess | undefined;
let bot: BotProcess | undefined;
let exitCode = 0;
try {
  const secret = randomBytes(24).toString("base64url");
  far = await FarEndProcess.start({ maxLifetimeMs: hardLimitMs + 10_000 });
  const { url: bridgeUrl } = await far.request({
    op: "startEmulator",
    secret,
    soak: { port: 0, recordMaxSeconds: recordSeconds, reconnectGraceMs: graceMs },
  });
  const mediaControl = `http://127.0.0.1:${new URL(bridgeUrl).port}`;
  const port = await freePort();
  const tls = await createLocalBotTls();
  const publicUrl = `https://127.0.0.1:${port}`;
  graph = await GraphEmulatorProcess.start({
    callbackUrl: `${publicUrl}/api/calls`,
    callbackCaPath: tls.certPath,
    // As the real service: a call is established once its media connects at the media host.
    env: { GRAPH_EMULATOR_MEDIA_URL: mediaControl, GRAPH_EMULATOR_MEDIA_SECRET: secret },
  });
  bot = await BotProcess.start(
    {
      ...graph.env,
      BOT_PUBLIC_URL: publicUrl,
      BOT_HOST: "127.0.0.1",
      BOT_PORT: String(port),
      BOT_TLS_CERT: tls.certPath,
      BOT_TLS_KEY: tls.keyPath,
      BOT_MAX_CALLS: String(calls * 2 + 20),
      BOT_MEDIA_FQDN: "media.soak.local",
      BOT_BRIDGE_URL: bridgeUrl,
      BOT_BRIDGE_SECRET: secret,
      BOT_BRIDGE_RECONNECT_GRACE_MS: String(graceMs),
      BOT_MEDIA_HANDLERS: "echo",
      BOT_RECORDINGS_DIR: recordingsDir,
      BOT_LOG_LEVEL: process.env.BOT_LOG_LEVEL ?? "warn",
    },
    logFd,
  );
  const pids = { bot: bot.pid, graphEmulator: graph.pid, mediaEmulator: far.pid };
  console.log(
    `soak: bot pid ${pids.bot}, graph emulator pid ${pids.graphEmulator}, media emulator pid ${pids.mediaEmulator}; bot log ${logPath}`,
  );
  await untilBridgeUp(bot);

  const running = { bot, graph, far };
  const churn = new CallChurn(graph, { calls, callSeconds, placeRate, establishTimeoutMs });
  const counters = new CounterTotals(COUNTERS);
  const samples: SoakSample[] = [];
  let sampling = false;
  const sample = async () => {
    if (sampling) return;
    sampling = true;
    try {
      const [scraped, graphMemory, mediaMemory] = await Promise.all([
        running.bot.scrape().catch(() => null),
        running.graph.memory().catch(() => null),
        running.far.memory().catch(() => null),
      ]);
      const scrape = scraped ? botMetrics(scraped.metricsText) : null;
      if (scrape) counters.add(scrape);
      samples.push({
        t: round1(churn.nowS()),
        bot: scraped?.memory ?? null,
        workerHeapUsedBytes: scrape?.get("media_worker_heap_used_bytes") ?? null,
        workerHeapTotalBytes: scrape?.get("media_worker_heap_total_bytes") ?? null,
        graphEmulator: graphMemory,
        mediaEmulator: mediaMemory,
        liveCalls: churn.live().length,
        botCalls: scrape ? liveBotCalls(scrape) : null,
        workerSessions: scrape?.get("media_active_sessions") ?? null,
      });
    } finally {
      sampling = false;
    }
  };
  await sample();
  const sampler = setInterval(() => void sample(), sampleSeconds * 1000);
  churn.start();
  console.log(`ramping up to ${calls} calls at ${placeRate}/s; ${runS} s in all`);

  // The ramp is over when the target is first reached (or once its time is well past).
  let rampEndS = runS;
  const rampWatch = setInterval(() => {
    if (churn.live().length >= calls * 0.95 || churn.nowS() > (calls / placeRate) * 3 + 30) {
      rampEndS = round1(churn.nowS());
      clearInterval(rampWatch);
    }
  }, 500);
  const progress = setInterval(() => {
    const s = samples.at(-1);
    const n = churn.counts();
    console.log(
      `${churn.nowS().toFixed(0)} s: ${n.live} up, ${n.placing} coming, ${n.ended} hung up, ${n.lost} lost, ${n.failed} failed; bot RSS ${mibOf(s?.bot?.rssBytes)} MiB, worker heap ${mibOf(s?.workerHeapUsedBytes)} MiB`,
    );
  }, 30_000);

  const faults: FaultOutcome[] = [];
  const faultLoop = (async () => {
    if (faultNames.length === 0) return;
    for (let i = 0; ; i++) {
      const at = (i + 1) * faultEvery;
      if (at + (faultCheckMs + 4000) / 1000 > runS) return;
      await sleep(Math.max(0, at * 1000 - churn.nowS() * 1000));
      const name = faultNames[i % faultNames.length] as FaultName;
      faults.push(await runFault(name, churn, running));
    }
  })();

  await sleep(runS * 1000 - churn.nowS() * 1000);
  clearInterval(progress);
  clearInterval(rampWatch);
  await faultLoop;
  const endS = round1(churn.nowS());
  console.log(`${endS} s: hanging up every call`);
  await churn.stop();
  const residue = await waitForResidue(running, churn, 20_000);
  clearInterval(sampler);
  await sample();
  const mediaHost = await far
    .request({ op: "mediaFlow", callIds: [] })
    .then(({ stats }) => stats as unknown as Record<string, unknown>)
    .catch(() => null);

  const result = buildResult({
    pids,
    endS,
    rampEndS,
    churn,
    counters,
    samples,
    faults,
    residue,
    mediaHost,
  });
  printSoak(result);
  console.log(`written ${writeResultIn(resultsDir, "soak", result)}`);
} catch (error) {
  console.error(`soak failed: ${(error as Error).stack ?? error}`);
  exitCode = 1;
} finally {
  await bot?.stop().catch(() => {});
  await graph?.stop().catch(() => {});
  await far?.stop().catch(() => {});
  closeSync(logFd);
  rmSync(recordingsDir, { recursive: true, force: true });
  clearTimeout(watchdog);
}
process.exit(exitCode);

async function untilBridgeUp(bot: BotProcess): Promise<void> {
  const deadline = performance.now() + 15_000;
  while (performance.now() < deadline) {
    const scrape = botMetrics((await bot.scrape()).metricsText);
    if (scrape.get("media_bridge_connected") === 1) return;
    await sleep(200);
  }
  throw new Error("the bot's media worker did not connect to the media host within 15 s");
}

/** The bot's calls not terminated yet (terminated ones are kept a while for late notifications). */
function liveBotCalls(scrape: Scrape): number {
  return sumOf(scrape, "signaling_calls") - (scrape.get('signaling_calls{state="terminated"}') ?? 0);
}

async function runFault(
  name: FaultName,
  churn: CallChurn,
  running: { bot: BotProcess; graph: GraphEmulatorProcess; far: FarEndProcess },
): Promise<FaultOutcome> {
  const fault = faultNamed(name, { media: running.far, graph: running.graph, graceMs });
  const before = new CounterTotals(COUNTERS);
  before.add(botMetrics((await running.bot.scrape()).metricsText));
  const cohort = churn.live();
  const injectedAtS = round1(churn.nowS());
  console.log(
    `${injectedAtS.toFixed(0)} s: fault ${name} ${JSON.stringify(fault.spec)} with ${cohort.length} calls up`,
  );
  let error: string | undefined;
  try {
    await fault.inject();
  } catch (e) {
    error = (e as Error).message;
  }
  await sleep(faultCheckMs);
  await churn.findLost(cohort);
  // Media: the bot's echo reached the host during 3 s, for each call still up.
  const ids = cohort.filter((c) => c.fate === "live").map((c) => c.id);
  const flow0 = await running.far.request({ op: "mediaFlow", callIds: ids }).catch(() => null);
  await sleep(3000);
  const flow1 = await running.far.request({ op: "mediaFlow", callIds: ids }).catch(() => null);
  // Judged once the window is over: a call hung up by the soak meanwhile is churned, not a
  // survivor without media; the fates of the cohort are read once, from here on.
  const survivors = new Set(cohort.filter((c) => c.fate === "live").map((c) => c.id));
  const fates = countBy(cohort, (c) => c.fate);
  const lost = countBy(
    cohort.filter((c) => c.fate === "lost"),
    (c) => c.reason ?? "unknown",
  );
  let withMedia = 0;
  const withoutMedia: FaultOutcome["withoutMedia"] = [];
  for (let i = 0; i < ids.length; i++) {
    if (!survivors.has(ids[i] as string)) continue;
    const a = flow0?.sessions[i];
    const b = flow1?.sessions[i];
    if (a && b?.attached && b.mediaConnected && b.renderFramesReceived > a.renderFramesReceived) withMedia++;
    else if (withoutMedia.length < 10)
      withoutMedia.push({
        callId: ids[i] as string,
        session: b ?? null,
        renderFramesIn3s: a && b ? b.renderFramesReceived - a.renderFramesReceived : null,
      });
  }
  const checkedAtS = round1(churn.nowS());
  before.add(botMetrics((await running.bot.scrape()).metricsText));
  const placed = [...churn.all.values()].filter(
    (c) => c.placedAtS >= injectedAtS && c.placedAtS <= checkedAtS,
  );
  return {
    name,
    spec: fault.spec,
    expect: fault.expect,
    injectedAtS,
    checkedAtS,
    ...(error ? { error } : {}),
    callsUp: cohort.length,
    churnedMeanwhile: fates.ended ?? 0,
    survived: survivors.size,
    survivedWithMedia: withMedia,
    withoutMedia,
    lost,
    placedMeanwhile: {
      placed: placed.length,
      established: placed.filter((c) => c.establishedAtS !== undefined).length,
      failed: countBy(
        placed.filter((c) => c.fate === "failed"),
        (c) => c.reason ?? "unknown",
      ),
      pending: placed.filter((c) => c.fate === "placing").length,
    },
    bot: {
      bridgeReconnects: before.sum("bridge_reconnects_total"),
      mediaSessionsLost: before.byLabel("media_sessions_lost_total"),
      callsEnded: before.byLabel("signaling_calls_ended_total"),
      framesDropped: before.byLabel("media_frames_dropped_total"),
    },
  };
}

/** Waits until the bot, its worker and the media host hold no call (or `ms` passed); what is left. */
async function waitForResidue(
  running: { bot: BotProcess; far: FarEndProcess },
  churn: CallChurn,
  ms: number,
): Promise<SoakResult["residue"]> {
  const started = performance.now();
  let last: SoakResult["residue"] = {
    botCalls: null,
    workerSessions: null,
    mediaHostSessions: null,
    waitedS: 0,
    hostSessionsLeft: [],
  };
  while (performance.now() - started < ms) {
    const scrape = await running.bot
      .scrape()
      .then((s) => botMetrics(s.metricsText))
      .catch(() => null);
    const stats = await running.far
      .request({ op: "mediaFlow", callIds: [] })
      .then((f) => f.stats)
      .catch(() => null);
    last = {
      botCalls: scrape ? liveBotCalls(scrape) : null,
      workerSessions: scrape?.get("media_active_sessions") ?? null,
      mediaHostSessions: stats ? stats.sessions + stats.detachedSessions : null,
      waitedS: round1((performance.now() - started) / 1000),
      hostSessionsLeft: [],
    };
    if (last.botCalls === 0 && last.workerSessions === 0 && last.mediaHostSessions === 0) return last;
    await sleep(500);
  }
  const left = await running.far.request({ op: "mediaFlow", callIds: [], all: true }).catch(() => null);
  last.hostSessionsLeft = (left?.sessions ?? []).slice(0, 20).flatMap((session) => {
    if (!session) return [];
    const call = churn.all.get(session.callId);
    return [{ ...session, call: call ? `${call.fate}: ${call.reason ?? ""}` : "not a call the soak placed" }];
  });
  return last;
}

function buildResult(input: {
  pids: SoakResult["pids"];
  endS: number;
  rampEndS: number;
  churn: CallChurn;
  counters: CounterTotals;
  samples: SoakSample[];
  faults: FaultOutcome[];
  residue: SoakResult["residue"];
  mediaHost: Record<string, unknown> | null;
}): SoakResult {
  const { churn, counters, samples } = input;
  const all = [...churn.all.values()];
  const callEnds = all.filter((c) => c.endedAtS !== undefined).map((c) => c.endedAtS as number);
  const window = fitWindow(input.endS, input.rampEndS);
  // Samples taken after the churn stopped (hang-up of every call) are outside the fit window.
  const series = (pick: (s: SoakSample) => number | null | undefined): Point[] =>
    samples.flatMap((s) => {
      const value = pick(s);
      return typeof value === "number" ? [{ t: s.t, value }] : [];
    });
  const growth = (
    process: ProcessGrowth["process"],
    measure: string,
    pick: (s: SoakSample) => number | null | undefined,
  ) => ({
    process,
    measure,
    growth: growthOver(series(pick), window.fromS, window.toS, callEnds),
  });
  const heapOf = (m: ProcessMemory | null) => m?.heapUsedBytes;
  const memory: ProcessGrowth[] = [
    growth("bot", "RSS (all threads)", (s) => s.bot?.rssBytes),
    growth("bot", "main thread heap used", (s) => heapOf(s.bot)),
    growth("media worker thread", "heap used", (s) => s.workerHeapUsedBytes),
    growth("graph emulator", "RSS", (s) => s.graphEmulator?.rssBytes),
    growth("graph emulator", "heap used", (s) => heapOf(s.graphEmulator)),
    growth("media emulator", "RSS", (s) => s.mediaEmulator?.rssBytes),
    growth("media emulator", "heap used", (s) => heapOf(s.mediaEmulator)),
  ];
  const dropped = counters.byLabel("media_frames_dropped_total");
  return {
    settings: {
      calls,
      runSeconds: runS,
      callSeconds,
      placeRate,
      sampleSeconds,
      faultEverySeconds: faultEvery,
      faults: faultNames,
      reconnectGraceMs: graceMs,
      mediaHostRecordSeconds: recordSeconds,
      establishTimeoutMs,
      handlers: ["echo"],
    },
    method: [
      "Three processes: the bot (BotApp with the media worker thread, configured from BOT_* as `npm run bot`), the Graph emulator (calls established only once their media connects at the media host), the media emulator (bench:load's far end, a looping tone per call).",
      "Memory is sampled every sampleSeconds: RSS and main-thread heap by each process's own process.memoryUsage() over its IPC channel; the media worker thread's heap by media_worker_heap_used_bytes (v8.getHeapStatistics() on the worker). A failed probe leaves a null.",
      "Growth: an ordinary least-squares line through each series over the window [max(run/2, ramp end), end of churn]; bytesPerMinute is its slope, fittedGrowthBytes its rise over the window, bytesPerCall that rise / calls ended in the window. r² says how straight the samples are: GC makes heap series saw-toothed, so a low r² means the slope says little. A fit over minutes neither proves nor rules out an unbounded leak.",
      "The Graph emulator keeps every call, request and notification it handled (its request and delivery logs are test tooling), so its growth per call is expected; the media emulator keeps each ended session's recording (recordMaxSeconds) until the fix of issue 13 item 7.",
      "Calls: fates as the Graph emulator saw them; lost = established, then ended by anyone but the soak; failed = never established within establishTimeoutMs. Frame counters are the bot's (reset-aware sums over all scrapes).",
      "Faults: one at a time; calls up at injection are checked graceMs + 8 s later in Graph, and their media over the next 3 s at the media host (the bot's echo frames arriving).",
    ],
    pids: input.pids,
    runSeconds: input.endS,
    rampEndS: input.rampEndS,
    calls: {
      placed: all.length,
      established: all.filter((c) => c.establishedAtS !== undefined).length,
      botDecisions: counters.byLabel("signaling_incoming_calls_total"),
      endedBySoak: all.filter((c) => c.fate === "ended").length,
      lost: all.filter((c) => c.fate === "lost").length,
      failed: all.filter((c) => c.fate === "failed").length,
      endedWithReason: countBy(
        all.filter((c) => c.fate !== "live" && c.fate !== "placing"),
        (c: SoakCall) => `${c.fate}: ${c.reason ?? "unknown"}`,
      ),
      botCallsEnded: counters.byLabel("signaling_calls_ended_total"),
      soakErrors: Object.fromEntries(churn.driverErrors),
    },
    frames: {
      workerReceived: counters.sum("media_frames_received_total"),
      workerSent: counters.sum("media_frames_sent_total"),
      droppedByReason: dropped,
      trimmed: dropped.latency_trim ?? 0,
      concealed: counters.sum("media_frames_concealed_total"),
      bridgeSendDrops: counters.byLabel("bridge_send_drops_total"),
      bridgeProtocolErrors: counters.byLabel("bridge_protocol_errors_total"),
      bridgeReconnects: counters.sum("bridge_reconnects_total"),
      mediaSessionsLost: counters.byLabel("media_sessions_lost_total"),
      mediaHost: input.mediaHost,
    },
    faults: input.faults,
    memory,
    residue: input.residue,
    samples,
  };
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}

/**
 * The bot's exposition as numbers. A sample without one (prom-client writes "Nan" for the event
 * loop lag before it was measured) is left out: nothing here reads those.
 */
function botMetrics(text: string): Scrape {
  return parseExposition(
    text
      .split("\n")
      .filter((line) => !/\sNan$|\sNaN$/i.test(line))
      .join("\n"),
  );
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

function mibOf(bytes: number | null | undefined): string {
  return typeof bytes === "number" ? (bytes / 1024 / 1024).toFixed(0) : "-";
}
