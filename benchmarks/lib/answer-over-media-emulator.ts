/**
 * `bench:answer --media emulator`: incoming calls answered with a real media session. The bot
 * runs in this process with its media worker and bridge; Graph and the media host are emulators
 * in a child (answer-standin-child.ts) that rings the bot `concurrency` calls at a time. See
 * answer-latency.ts for what is measured.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import path from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { BotApp } from "../../src/app/bot-app.js";
import { loadConfig } from "../../src/config/config.js";
import { freePort } from "../../src/demo/free-port.js";
import { createLocalBotTls } from "../../src/demo/local-bot-tls.js";
import { createLogger } from "../../src/log/logger.js";
import { BridgeMediaSessionProvider } from "../../src/media/bridge-media-session-provider.js";
import type { AnswerTiming } from "../../src/signaling/call-manager.js";
import type { StandinMessage, StandinRequest, StandinSample } from "./answer-standin-child.js";
import { LatencyHistogram } from "./latency-histogram.js";
import { reapOnExit } from "./reap-children.js";
import { writeResultIn } from "./result-file.js";
import { formatTable } from "./results.js";
import { countTlsConnections } from "./tls-connection-count.js";

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const ENTRY = path.join(ROOT, "benchmarks", "lib", "answer-standin-child.ts");

export interface AnswerOverMediaOptions {
  concurrency: number;
  waves: number;
  warmupWaves: number;
  gapMs: number;
  resultsDir: string | undefined;
}

/** The bot's stages, each as the time from the notification's arrival in the bot. */
const STAGES: [label: string, key: keyof AnswerTiming][] = [
  ["bot: token checked", "tokenCheckedAt"],
  ["bot: body parsed", "parsedAt"],
  ["bot: 202 written", "respondedAt"],
  ["bot: handling started", "handledAt"],
  ["bot: admitted", "admittedAt"],
  ["bot: CreateSession sent", "sessionRequestedAt"],
  ["bot: SessionCreated (blob)", "sessionCreatedAt"],
  ["bot: answer written", "answerSentAt"],
  ["bot: Graph's 202 read", "answerAcceptedAt"],
];

export async function runAnswersOverMediaEmulator(options: AnswerOverMediaOptions): Promise<void> {
  const { concurrency, waves, warmupWaves, gapMs } = options;
  const port = await freePort();
  const tls = await createLocalBotTls();
  const child = spawn(
    process.execPath,
    [
      ...(process.env.ANSWER_CHILD_PROF
        ? ["--cpu-prof", `--cpu-prof-dir=${process.env.ANSWER_CHILD_PROF}`]
        : []),
      "--import",
      "tsx",
      ENTRY,
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        // A --cpu-prof meant for the bot is not the child's.
        NODE_OPTIONS: "",
        ANSWER_BOT_PORT: String(port),
        ANSWER_BOT_CERT: tls.certPath,
        ANSWER_BOT_KEY: tls.keyPath,
        BOT_LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    },
  );
  reapOnExit(child);
  const ready = await next(child, 30_000);
  if (ready.type !== "ready") throw new Error(`stand-in: ${JSON.stringify(ready)}`);
  console.log(`graph + media emulators: pid ${child.pid}`);

  // Bot -> Graph connections (answers, token, OpenID keys).
  const tlsConnections = countTlsConnections();
  const timings = new Map<string, AnswerTiming>();
  const config = loadConfig({
    ...ready.env,
    BOT_OPS_PORT: "0",
    BOT_MAX_CALLS: String(concurrency * 4),
    // The media thread's scheduling can be compared (realtime by default, as deployed).
    ...(process.env.BOT_MEDIA_THREAD_PRIORITY
      ? { BOT_MEDIA_THREAD_PRIORITY: process.env.BOT_MEDIA_THREAD_PRIORITY }
      : {}),
  });
  const bot = await BotApp.start({
    config,
    logger: createLogger({ level: process.env.BOT_LOG_LEVEL ?? "warn" }),
    media: async ({ config: c, logger }) => {
      const provider = await BridgeMediaSessionProvider.start({
        bridge: c.bridge,
        media: c.media,
        logger,
        handlers: [{ builtin: "echo" }],
      });
      await provider.waitUntilConnected(10_000);
      return provider;
    },
    signaling: { onAnswered: (timing) => timings.set(timing.callId, timing) },
  });

  const run = async (count: number) => {
    child.send({ type: "run", waves: count, concurrency, gapMs } satisfies StandinRequest);
    const reply = await next(child, 60_000 + count * 10_000);
    if (reply.type !== "result") throw new Error(`stand-in: ${JSON.stringify(reply)}`);
    return reply;
  };
  // Warm-up: JIT, TLS sessions and keep-alive connections both ways, the token cache.
  if (warmupWaves > 0) await run(warmupWaves);
  timings.clear();
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  const eluBefore = performance.eventLoopUtilization();
  loopDelay.enable();
  const cpuBefore = process.cpuUsage();
  const connectionsBefore = tlsConnections.count;
  const started = performance.now();
  const result = await run(waves);
  const elapsedS = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const newConnections = {
    botToGraph: tlsConnections.count - connectionsBefore,
    graphToBot: result.tlsConnections,
  };
  loopDelay.disable();
  const elu = performance.eventLoopUtilization(eluBefore);
  await bot.stop(30_000);
  // The child exits once its channel closes (a --cpu-prof of it is written then).
  child.disconnect();
  await rm(path.dirname(tls.certPath), { recursive: true, force: true });

  const atGraph = new LatencyHistogram();
  const notification202 = new LatencyHistogram();
  const stages = STAGES.map(() => new LatencyHistogram());
  // Across the two processes, on the machine's clock (performance.timeOrigin + now() in each):
  // Graph's POST -> the bot read its headers, and the bot's answer written -> Graph read it.
  const postedToArrival = new LatencyHistogram();
  const writtenToGraph = new LatencyHistogram();
  let unmatched = 0;
  for (const sample of result.samples as StandinSample[]) {
    atGraph.recordMs(sample.postedToAnswerMs);
    notification202.recordMs(sample.postedTo202Ms);
    const timing = timings.get(sample.callId);
    if (!timing) {
      unmatched++;
      continue;
    }
    postedToArrival.recordMs(performance.timeOrigin + timing.receivedAt - sample.postedAtEpochMs);
    writtenToGraph.recordMs(sample.answerAtEpochMs - (performance.timeOrigin + timing.answerSentAt));
    for (const [i, [, key]] of STAGES.entries()) {
      const at = timing[key];
      if (typeof at === "number") stages[i]?.recordMs(at - timing.receivedAt);
    }
  }
  // CPU (user + system, all threads) per answered call: with N posted at once, the last answer
  // of a wave waits for the others' CPU on a shared machine.
  const answeredCount = Math.max(1, result.samples.length);
  const cpuPerCallMs = {
    bot: round3((cpu.user + cpu.system) / 1000 / answeredCount),
    emulators: round3(result.cpuMs / answeredCount),
  };
  const row = (label: string, h: LatencyHistogram) => {
    const s = h.summary();
    return [label, h.count, s.p50Ms, s.p99Ms, s.maxMs];
  };
  const table = formatTable(
    ["interval", "calls", "p50 ms", "p99 ms", "max ms"],
    [
      row("graph: posted -> answer received", atGraph),
      row("graph: posted -> notification's 202", notification202),
      row("across: Graph's POST -> bot read its headers", postedToArrival),
      ...STAGES.map(([label], i) => row(`${label} (from arrival)`, stages[i] as LatencyHistogram)),
      row("across: bot's answer written -> Graph read it", writtenToGraph),
    ],
  );
  const delay = {
    p50Ms: round3(loopDelay.percentile(50) / 1e6),
    p99Ms: round3(loopDelay.percentile(99) / 1e6),
    maxMs: round3(loopDelay.max / 1e6),
  };
  console.log(
    `\nAnswer latency over the media emulator: ${waves} waves of ${concurrency} notifications posted at once (${result.samples.length} answered, ${result.failed} failed) over ${elapsedS.toFixed(1)} s\n${table}\nbot event loop: utilization ${round3(elu.utilization)}, delay p50 ${delay.p50Ms} / p99 ${delay.p99Ms} / max ${delay.maxMs} ms (monitorEventLoopDelay, 1 ms resolution)\nCPU per answered call (user + system, all threads; the calls' ends included): bot ${cpuPerCallMs.bot} ms, Graph + media emulators ${cpuPerCallMs.emulators} ms\nTLS connections opened while measuring (after the warm-up): bot -> Graph ${newConnections.botToGraph}, Graph -> bot ${newConnections.graphToBot}\n`,
  );
  const file = writeResultIn(options.resultsDir, "answer-latency-media-emulator", {
    concurrency,
    waves,
    warmupWaves,
    gapMs,
    answered: result.samples.length,
    failed: result.failed,
    unmatched,
    atGraph: { postedToAnswer: atGraph.summary(), postedToNotification202: notification202.summary() },
    acrossProcesses: {
      postedToBotArrival: postedToArrival.summary(),
      answerWrittenToGraph: writtenToGraph.summary(),
      clock: "performance.timeOrigin + performance.now() in each process (the machine's clock)",
    },
    botStagesFromArrival: Object.fromEntries(
      STAGES.map(([, key], i) => [key, { count: stages[i]?.count, ...stages[i]?.summary() }]),
    ),
    botEventLoop: { utilization: round3(elu.utilization), delay },
    cpuPerCallMs,
    tlsConnectionsOpenedWhileMeasuring: newConnections,
    goal: { p50Ms: 5, p99Ms: 20, at: "graph: posted -> answer received" },
    interval:
      "Graph's side: performance.now() in the emulators' process when the signed notification POST went to its HTTP client -> when the bot's answer request reached its express stack; bot's stages: performance.now() in the bot's process from the notification request's arrival (headers read)",
    placement:
      "Graph emulator and media platform emulator in one child process; the bot (media worker, bridge to the media emulator) in the benchmark's process; waves of `concurrency` notifications posted in one turn of Graph's loop, the next wave after every answer of this one arrived, its calls were ended and gapMs passed",
  });
  console.log(`written ${file}`);
  if (result.failed > 0 || unmatched > 0) process.exitCode = 1;
}

function next(child: ChildProcess, timeoutMs: number): Promise<StandinMessage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stand-in did not reply in ${timeoutMs} ms`)), timeoutMs);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`stand-in exited (${code})`));
    };
    child.once("message", (message: StandinMessage) => {
      clearTimeout(timer);
      child.off("exit", onExit);
      resolve(message);
    });
    child.once("exit", onExit);
  });
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
