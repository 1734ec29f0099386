/**
 * `teams-media-bot dev`: the local stack with the user's handler, N calls from an emulated
 * caller, DTMF from the keyboard, a live line of levels, marks, drops and latency, and the
 * demo's report at the end.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { stopSignals } from "../app/stop-triggers.js";
import { MAX_UNMIXED_BUFFERS } from "../bridge/protocol.js";
import {
  type DemoReport,
  describeEnding,
  finishReport,
  formatReport,
  mediaFigures,
  round,
} from "../demo/demo-report.js";
import type { AudioSourceSpec } from "../emulator/media/audio-source.js";
import type { SessionStats, SpeakerSpec } from "../emulator/media/emulated-session.js";
import { createLogger } from "../log/logger.js";
import type { HandlerSpec } from "../media/bot-api.js";
import { type Scrape, sumOf } from "../metrics/prometheus-text.js";
import type { PlacedCall } from "../signaling/placed-call.js";
import { toneOfKey } from "./dtmf-keys.js";
import { LocalStack } from "./local-stack.js";
import { startProgressLine } from "./progress-line.js";

export interface DevOptions {
  /** The handlers to run (the CLI builds one from `<handler>` and --options). */
  handlers: HandlerSpec[];
  /** The caller's audio. */
  callerSource: AudioSourceSpec;
  calls: number;
  /** How long each call lasts before the caller hangs up (unless the bot hangs up first). */
  seconds: number;
  unmixed: boolean;
  /** Meeting speakers (0: a one-to-one call; with `meeting`, the meeting's participants, at least 1). */
  speakers: number;
  /**
   * Instead of ringing the bot, create an emulated meeting of `speakers` participants and have
   * the bot join it by its join link (BotApp.joinMeeting); one call, `calls` is ignored.
   */
  meeting?: { lobbyAdmitAfterMs?: number };
  recordingsDir: string;
  logLevel: string;
  /** Keys typed here arrive as DTMF (raw mode on a terminal); q or Ctrl-C ends the calls. */
  input?: NodeJS.ReadableStream;
  out?: NodeJS.WritableStream;
}

/** A problem the user can fix (bad handler path, a call that does not establish): one line. */
export class DevError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DevError";
  }
}

/** The handler spec of `path[#export]`, relative to the working directory; a missing file is a DevError. */
export function handlerSpecOf(location: string, options: unknown): HandlerSpec {
  const [file, exportName] = location.split("#") as [string, string | undefined];
  const resolved = path.resolve(file);
  if (!existsSync(resolved)) throw new DevError(`handler ${file} not found (looked for ${resolved})`);
  return {
    module: resolved,
    ...(exportName ? { export: exportName } : {}),
    ...(options === undefined ? {} : { options }),
  };
}

/** Speakers 1..n: the first speaks the caller's audio, the others quieter tones of their own. */
function speakersOf(count: number, callerSource: AudioSourceSpec): SpeakerSpec[] {
  if (count > MAX_UNMIXED_BUFFERS) throw new DevError(`--speakers: at most ${MAX_UNMIXED_BUFFERS}`);
  return Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    source: i === 0 ? callerSource : { kind: "tone", frequencyHz: 300 + 250 * i, amplitude: 0.1 },
  }));
}

export async function runDev(options: DevOptions): Promise<DemoReport> {
  const out = options.out ?? process.stdout;
  const say = (line: string) => out.write(`${line}\n`);
  const started = performance.now();
  const logger = createLogger({ level: options.logLevel, name: "dev" });
  let stack: LocalStack;
  try {
    stack = await LocalStack.start({
      handlers: options.handlers,
      callerSource: options.callerSource,
      // A meeting's participants speak through the Graph emulator (their sourceIds), not these.
      speakers: options.meeting ? [] : speakersOf(options.speakers, options.callerSource),
      unmixedAudio: options.unmixed,
      recordingsDir: options.recordingsDir,
      logger,
      logLevel: options.logLevel,
    });
  } catch (error) {
    // The media worker's start failure names the handler and what went wrong.
    throw new DevError((error as Error).message.replace(/^media worker did not start: /, ""));
  }
  const { graph, media } = stack;
  say(`bot listening at ${stack.bot.signaling.url} (health and metrics at ${stack.bot.signaling.opsUrl})`);
  const meeting = options.meeting;
  say(
    meeting
      ? `joining an emulated meeting of ${Math.max(1, options.speakers)} speaker${options.speakers > 1 ? "s" : ""} for ${options.seconds} s; type 0-9 * # A-D to send DTMF, q to hang up`
      : `placing ${options.calls} call${options.calls === 1 ? "" : "s"} of ${options.seconds} s; type 0-9 * # A-D to send DTMF, q to hang up`,
  );

  const callIds: string[] = [];
  // The media host's name of each call's session: the call id for answered calls, the media
  // session id for a joined meeting (its session was created before Graph named the call).
  const sessionIds: string[] = [];
  let latest: Scrape = new Map();
  let scraping = false;
  // The media host forgets a session once the bot closes it (right after the call ends): keep
  // each call's latest statistics for the report.
  const lastStats = new Map<string, SessionStats>();
  const keepStats = () => {
    for (const stats of media.sessions())
      if (sessionIds.includes(stats.callId)) lastStats.set(stats.callId, stats);
  };
  const refresh = setInterval(() => {
    keepStats();
    if (scraping) return;
    scraping = true;
    stack.workerMetrics().then(
      (scrape) => {
        latest = scrape;
        scraping = false;
      },
      () => (scraping = false),
    );
  }, 500);
  const progress = startProgressLine(out, () => liveLine(stack, callIds, sessionIds, latest, started));

  let endNow: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => (endNow = resolve));
  const keys = listenForKeys(options.input ?? process.stdin, (key) => {
    if (key === "q" || key === "Q" || key === "\u0003") {
      progress.line("ending the calls");
      endNow();
      return;
    }
    if (toneOfKey(key) === undefined) return;
    // Keys typed (or piped) before the calls are up wait for them.
    if (callIds.length === 0) pendingKeys.push(key);
    else sendKey(key);
  });
  const pendingKeys: string[] = [];
  const sendKey = (key: string) => {
    const tone = toneOfKey(key) as string;
    let sent = 0;
    for (const callId of callIds) {
      if (graph.call(callId)?.state !== "established") continue;
      graph.sendTone(callId, tone);
      sent++;
    }
    progress.line(`DTMF ${key} sent to ${sent} call${sent === 1 ? "" : "s"}`);
  };
  const onSignal = () => endNow();
  // SIGINT/SIGTERM, and on Windows Ctrl+Break and the console window closing.
  for (const signal of stopSignals(process.platform)) process.once(signal, onSignal);

  const report: Partial<DemoReport> = {
    calls: meeting ? 1 : options.calls,
    answerMs: 0,
    establishedMs: 0,
    ...(meeting ? { joined: true } : {}),
  };
  const endings: string[] = [];
  let hangUpJoined: (() => Promise<void>) | undefined;
  try {
    if (meeting) {
      const joined = await joinEmulatedMeeting(stack, options, meeting, (line) => progress.line(line));
      callIds.push(joined.callId);
      sessionIds.push(joined.mediaSessionId);
      hangUpJoined = joined.hangUp;
      report.answerMs = round(joined.acceptedMs);
      report.establishedMs = round(joined.establishedMs);
    } else {
      const placed = await Promise.all(
        Array.from({ length: options.calls }, async (_, i) => {
          try {
            return await stack.placeCall(`Caller ${i + 1} (emulated)`);
          } catch (error) {
            throw new DevError(`call ${i + 1} was not established: ${(error as Error).message}`);
          }
        }),
      );
      for (const call of placed) {
        callIds.push(call.callId);
        sessionIds.push(call.callId);
        report.answerMs = Math.max(report.answerMs ?? 0, round(call.answerMs));
        report.establishedMs = Math.max(report.establishedMs ?? 0, round(call.establishedMs));
        progress.line(
          `call ${call.callId} answered in ${round(call.answerMs)} ms, established after ${round(call.establishedMs)} ms`,
        );
      }
    }
    report.callId = callIds[0];
    for (const key of pendingKeys.splice(0)) sendKey(key);
    // Each call lasts `seconds` unless the bot hangs up first, or the user ends them all.
    const allEnded = Promise.all(
      callIds.map((callId) =>
        graph.waitForCallState(callId, "terminated", 2 ** 31 - 1).catch(() => undefined),
      ),
    );
    const timer = setTimeout(endNow, options.seconds * 1000);
    await Promise.race([ended, allEnded]);
    clearTimeout(timer);
    keepStats();
    for (const callId of callIds) {
      // The caller hangs up (in a meeting, the bot leaves it); a call that ended meanwhile (the
      // bot hung up, the meeting ended) is left as it is.
      if (graph.call(callId)?.state !== "terminated") {
        try {
          if (hangUpJoined) await hangUpJoined();
          else graph.endCall(callId);
        } catch {}
      }
    }
    for (const callId of callIds) {
      const call = await graph.waitForCallState(callId, "terminated", 10_000);
      const how = describeEnding(call.resultInfo);
      if (!endings.includes(how)) endings.push(how);
    }
    report.endedWith = endings.join("; ");
    keepStats();
    Object.assign(report, mediaFigures(await stack.workerMetrics(), [...lastStats.values()]));
  } finally {
    clearInterval(refresh);
    keys.stop();
    for (const signal of stopSignals(process.platform)) process.off(signal, onSignal);
    progress.stop();
    await stack.stop();
  }
  const full = await finishReport(report, stack.config.media.recordingsDir, started);
  say(formatReport(full));
  return full;
}

interface JoinedMeeting {
  callId: string;
  mediaSessionId: string;
  /** joinMeeting called -> Graph accepted createCall, ms. */
  acceptedMs: number;
  /** joinMeeting called -> established (the lobby included), ms. */
  establishedMs: number;
  hangUp(): Promise<void>;
}

/**
 * Creates an emulated meeting whose participants speak (the first the caller's audio, the others
 * tones of their own), has the bot join it by its join link, and waits until it is established,
 * telling the lobby and the admission as they happen.
 */
async function joinEmulatedMeeting(
  stack: LocalStack,
  options: DevOptions,
  meeting: { lobbyAdmitAfterMs?: number },
  tell: (line: string) => void,
): Promise<JoinedMeeting> {
  const count = Math.max(1, options.speakers);
  if (count > MAX_UNMIXED_BUFFERS) throw new DevError(`--speakers: at most ${MAX_UNMIXED_BUFFERS}`);
  const first = options.callerSource;
  const created = stack.graph.createMeeting({
    participants: Array.from({ length: count }, (_, i) => ({
      displayName: `Speaker ${i + 1} (emulated)`,
      audio:
        i > 0
          ? { toneHz: 300 + 250 * i }
          : first.kind === "wav"
            ? { wavPath: first.path }
            : first.kind === "tone"
              ? { toneHz: first.frequencyHz }
              : { silence: true },
    })),
    ...(meeting.lobbyAdmitAfterMs !== undefined
      ? { lobby: { admitAfterMs: meeting.lobbyAdmitAfterMs } }
      : {}),
  });
  tell(`meeting ${created.id}: ${created.joinUrl}`);
  const startedAt = performance.now();
  let placed: PlacedCall;
  try {
    placed = await stack.bot.joinMeeting(created.joinUrl, {
      // The lobby wait must outlast the admission; the bot's default otherwise.
      ...(meeting.lobbyAdmitAfterMs !== undefined
        ? { lobbyTimeoutMs: meeting.lobbyAdmitAfterMs + 60_000 }
        : {}),
    });
  } catch (error) {
    throw new DevError(`the bot could not join the meeting: ${(error as Error).message}`);
  }
  const acceptedMs = performance.now() - startedAt;
  placed.onEvent((event) => {
    if (event.type === "lobby") tell(`call ${placed.callId} waiting in the meeting's lobby`);
    else if (event.type === "admitted") tell(`call ${placed.callId} admitted from the lobby`);
  });
  try {
    await placed.established;
  } catch (error) {
    throw new DevError(`the meeting join was not established: ${(error as Error).message}`);
  }
  const establishedMs = performance.now() - startedAt;
  tell(
    `call ${placed.callId} joined the meeting: accepted in ${round(acceptedMs)} ms, established after ${round(establishedMs)} ms`,
  );
  return {
    callId: placed.callId,
    mediaSessionId: placed.mediaSessionId,
    acceptedMs,
    establishedMs,
    hangUp: () => placed.hangUp(),
  };
}

/** Levels both ways, marks played, frames dropped and latency, summed or averaged over the calls. */
function liveLine(
  stack: LocalStack,
  callIds: readonly string[],
  sessionIds: readonly string[],
  metrics: Scrape,
  started: number,
): string {
  const sessions = stack.media.sessions().filter((s) => sessionIds.includes(s.callId));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (sessions.length === 0) return `  ${seconds} s  waiting for the call`;
  const loudest = (values: number[]) => Math.max(...values).toFixed(0);
  const marks = sessions.reduce((sum, s) => sum + s.marksPlayed, 0);
  const echoed = sessions.filter((s) => s.echo.count > 0);
  const echo = echoed.length > 0 ? `${Math.max(...echoed.map((s) => s.echo.p50Ms)).toFixed(0)} ms` : "-";
  const live = callIds.filter((id) => stack.graph.call(id)?.state === "established").length;
  return [
    `  ${seconds} s`,
    `calls ${live}/${callIds.length}`,
    `caller ${loudest(sessions.map((s) => s.callerLevelDbfs))} dBFS`,
    `bot ${loudest(sessions.map((s) => s.botLevelDbfs))} dBFS`,
    `marks ${marks}`,
    `dropped ${sumOf(metrics, "media_frames_dropped_total")}`,
    `echo rtt ${echo}`,
    `transit p50 ${metrics.size > 0 ? `<= ${mediaFigures(metrics, []).transitP50Ms} ms` : "-"}`,
  ].join("  ");
}

/** Calls onKey for each character typed (raw mode on a terminal) or piped in. */
function listenForKeys(input: NodeJS.ReadableStream, onKey: (key: string) => void): { stop(): void } {
  const tty = input as NodeJS.ReadStream;
  const raw = tty.isTTY === true && typeof tty.setRawMode === "function";
  if (raw) tty.setRawMode(true);
  const onData = (chunk: Buffer | string) => {
    for (const key of chunk.toString()) onKey(key);
  };
  input.on("data", onData);
  input.resume();
  return {
    stop() {
      input.off("data", onData);
      if (raw) tty.setRawMode(false);
      input.pause();
    },
  };
}
