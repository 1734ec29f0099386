/**
 * Graph's side of `bench:answer --concurrency N --media emulator`, in a child process of the
 * benchmark (the bot runs in the parent): the Graph calling emulator and the media platform
 * emulator the bot's bridge connects to, both in this process, as an independent Graph
 * stand-in with its own host would be. On `run` it rings the bot in waves of N calls posted at
 * once (each a signed `created` notification over HTTPS), waits for every answer, ends those
 * calls, and reports per call: the notification POST handed to the HTTP client -> the bot's
 * answer request reached Graph, both performance.now() in this process.
 *
 * Settings come in the environment (ANSWER_BOT_PORT, ANSWER_BOT_CERT, ANSWER_BOT_KEY,
 * ANSWER_BOT_CERT_PEM_PATH); it replies `ready` with the BOT_* settings of a bot pointed at
 * both emulators. It exits when its IPC channel closes (the benchmark ended in any way).
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { emulatedBotEnv, newEmulatedApp } from "../../src/demo/emulator-bot-env.js";
import { GraphEmulator } from "../../src/emulator/graph/graph-emulator.js";
import { MediaPlatformEmulator } from "../../src/emulator/media/media-platform-emulator.js";
import { createLogger } from "../../src/log/logger.js";
import { countTlsConnections } from "./tls-connection-count.js";

process.on("disconnect", () => process.exit(0));
if (!process.connected) process.exit(0);
// Graph -> bot connections: the notification POSTs' (keep-alive) connections.
const tlsConnections = countTlsConnections();

export interface StandinSample {
  callId: string;
  /** Notification POST handed to the HTTP client -> the bot's answer request reached Graph. */
  postedToAnswerMs: number;
  /** The same POST -> the bot's 202 to it read at Graph. */
  postedTo202Ms: number;
  /** The POST and the answer's arrival as wall-clock ms (timeOrigin + now), to set against the bot's. */
  postedAtEpochMs: number;
  answerAtEpochMs: number;
}

export type StandinRequest = { type: "run"; waves: number; concurrency: number; gapMs: number };
export type StandinMessage =
  | { type: "ready"; env: Record<string, string> }
  | { type: "result"; samples: StandinSample[]; failed: number; cpuMs: number; tlsConnections: number }
  | { type: "error"; message: string };

const send = (message: StandinMessage) => process.send?.(message);
const env = process.env;
const port = Number(env.ANSWER_BOT_PORT);
const logger = createLogger({ level: env.BOT_LOG_LEVEL ?? "warn", name: "answer-standin" });
const secret = randomBytes(24).toString("base64url");
const app = newEmulatedApp();
const media = await MediaPlatformEmulator.start({
  secret,
  logger: logger.child({ component: "media-emulator" }),
  fqdn: "media.answer.test",
  publicPort: 8445,
});
const graph = await GraphEmulator.start({
  logger: logger.child({ component: "graph-emulator" }),
  callbackCaPem: readFileSync(String(env.ANSWER_BOT_CERT), "utf8"),
  apps: [{ ...app, callbackUrl: `https://127.0.0.1:${port}/api/calls` }],
  // Established at once: the calls are ended as soon as their answers arrive, so no media flows
  // and the emulators' frame work stays off the cores being measured.
  establishWhen: () => Promise.resolve(true),
});
const botEnv = emulatedBotEnv(graph, {
  app,
  port,
  tls: { certPath: String(env.ANSWER_BOT_CERT), keyPath: String(env.ANSWER_BOT_KEY), certPem: "" },
  mediaFqdn: "media.answer.test",
  bridgeUrl: media.url,
  bridgeSecret: secret,
  recordingsDir: path.join(tmpdir(), "answer-bench-recordings"),
  logLevel: env.BOT_LOG_LEVEL ?? "warn",
});
send({ type: "ready", env: botEnv as Record<string, string> });

// How far the request log and the deliveries have been read (by earlier waves).
let logRead = 0;
let deliveriesRead = 0;
/** Answer requests read from the log, by call id: when each reached Graph. */
const answers = new Map<string, number>();

process.on("message", (request: StandinRequest) => {
  if (request.type !== "run") return;
  runWaves(request).then(
    (result) => send({ type: "result", ...result }),
    (error: unknown) => send({ type: "error", message: String(error) }),
  );
});

async function runWaves(
  request: StandinRequest,
): Promise<{ samples: StandinSample[]; failed: number; cpuMs: number; tlsConnections: number }> {
  const cpuBefore = process.cpuUsage();
  const connectionsBefore = tlsConnections.count;
  const samples: StandinSample[] = [];
  let failed = 0;
  for (let wave = 0; wave < request.waves; wave++) {
    // All N notifications of a wave are queued in one turn of the loop: N POSTs in flight at once.
    const ids: string[] = [];
    for (let i = 0; i < request.concurrency; i++) ids.push(graph.placeIncomingCall().callId);
    // Answered once Graph moved the call past incoming (a per-call lookup); the request log and
    // the deliveries are then read once per wave from where the last wave stopped, so this
    // harness's own work on Graph's event loop does not grow with the calls made.
    const answered = await Promise.allSettled(
      ids.map((callId) => graph.waitForCallState(callId, "establishing", 10_000)),
    );
    // The answer's log entry is written when Graph's response to it finished: a little later.
    for (let tries = 0; tries < 1000 && !ids.every((id) => answers.has(id)); tries++) {
      const log = graph.requestLog();
      for (; logRead < log.length; logRead++) {
        const entry = log[logRead];
        if (entry?.action === "answer" && entry.callId !== undefined)
          answers.set(entry.callId, entry.receivedAtMs);
      }
      if (!ids.every((id) => answers.has(id))) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const deliveries = graph.notificationDeliveries();
    const posted = new Map<string, { postedAtMs?: number; latencyMs?: number }>();
    for (; deliveriesRead < deliveries.length; deliveriesRead++) {
      const delivery = deliveries[deliveriesRead];
      if (delivery?.callId !== undefined && delivery.changeTypes[0] === "created")
        posted.set(delivery.callId, delivery);
    }
    for (const [i, callId] of ids.entries()) {
      const answerAt = answers.get(callId);
      const delivery = posted.get(callId);
      if (
        answered[i]?.status !== "fulfilled" ||
        answerAt === undefined ||
        delivery?.postedAtMs === undefined ||
        delivery.latencyMs === undefined
      ) {
        failed++;
        continue;
      }
      samples.push({
        callId,
        postedToAnswerMs: answerAt - delivery.postedAtMs,
        postedTo202Ms: delivery.latencyMs,
        postedAtEpochMs: performance.timeOrigin + delivery.postedAtMs,
        answerAtEpochMs: performance.timeOrigin + answerAt,
      });
    }
    for (const callId of ids) {
      answers.delete(callId);
      try {
        graph.endCall(callId);
      } catch {
        // Already ended (its answer failed): nothing to end.
      }
    }
    await graph.drainNotifications();
    await new Promise((resolve) => setTimeout(resolve, request.gapMs));
  }
  const cpu = process.cpuUsage(cpuBefore);
  return {
    samples,
    failed,
    cpuMs: (cpu.user + cpu.system) / 1000,
    tlsConnections: tlsConnections.count - connectionsBefore,
  };
}
