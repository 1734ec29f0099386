import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ToneName } from "../bridge/protocol.js";
import { DEFAULTS } from "../config/config.js";
import { createLogger } from "../log/logger.js";
import { FRAME_DURATION_MS, MAX_UNMIXED_SPEAKERS, SAMPLES_PER_FRAME } from "../media/audio-format.js";
import type { CallHandler, CallHandlerFactory, MediaCall, RosterParticipant } from "../media/bot-api.js";
import type { CallControlRequest, CallControlResult } from "../media/call-control-request.js";
import { CallSession } from "../media/call-session.js";
import type { LoadedHandler } from "../media/handler-loader.js";
import { MediaEngine } from "../media/media-engine.js";
import type { WorkerEvent } from "../media/worker-messages.js";
import { createMediaMetrics } from "../metrics/media-metrics.js";
import { createRegistry } from "../metrics/registry.js";
import { tone as makeTone, readWavSamples, silence, type ToneOptions } from "./audio.js";
import { SpeakerFeed } from "./caller-audio.js";
import { EmulatedMediaHost } from "./emulated-media-host.js";
import { observeHandlerErrors } from "./handler-errors.js";
import { VirtualClock } from "./virtual-clock.js";

/** A DTMF key in the handlers' vocabulary: "0".."9", "star", "pound", "a".."d", "flash". */
export type DtmfKey = ToneName;

/** A speaker on the caller's side: a roster participant with one audio source id. */
export interface TestSpeaker {
  sourceId: number;
  displayName?: string;
  /** Graph participant id (default `participant-<sourceId>`). */
  id?: string;
  userId?: string;
}

export interface TestCallOptions<Options = unknown> {
  /** The handler's options, passed to the factory as the worker passes a spec's `options`. */
  options?: Options;
  callId?: string;
  /** The session asks for unmixed per-speaker audio (frame.unmixed, record({ unmixed })). */
  unmixed?: boolean;
  /**
   * The people on the call (default one: source id 1, "Caller"). They are the first roster;
   * audio fed without a speaker comes from the first of them.
   */
  speakers?: readonly TestSpeaker[];
  direction?: "sendRecv" | "recvOnly" | "sendOnly";
  /** The platform reports send status Active right after the session is created (default true). */
  sendActive?: boolean;
  /** Signaling reports the call established at the start (default true): record() can start. */
  established?: boolean;
  /**
   * What signaling answers a recording-status request with, playing Graph's part: "accept"
   * (default), "refuse" (Graph failed it), "noAnswer" (record() gives up after 15 s, virtual).
   */
  recording?: "accept" | "refuse" | "noAnswer";
  /**
   * After the handler's `hangUp()`, signaling ends the call (default "endCall", `hangUpDelayMs`
   * later, onEnd("call ended")) or leaves it running ("ignore": the request is only recorded).
   */
  hangUp?: "endCall" | "ignore";
  /**
   * How signaling answers the handler's mute/unmute/transfer/invite: "accept" (default: Graph
   * took it), "refuse" (Graph refused it: 403 Forbidden), "noAnswer" (the promise stays pending
   * until the call ends).
   */
  callControl?: "accept" | "refuse" | "noAnswer";
  /** Virtual time from `hangUp()` to the end of the call (Graph's round trip; default 0). */
  hangUpDelayMs?: number;
  /**
   * A handler callback that throws or rejects: the kit action during which it happened throws
   * a HandlerFailedError ("throw", default), or it is only collected in `handlerErrors`.
   */
  handlerErrors?: "throw" | "collect";
  /** Where record() writes (default a new temporary directory, removed by close()). */
  recordingsDir?: string;
  /** Playout queue bound in frames (default: the bot's, 10 = 200 ms). */
  playoutQueueFrames?: number;
  livePlayoutTargetFrames?: number;
  adaptiveLiveTarget?: boolean;
  jitterDepthFrames?: number;
  /** Level of the log lines collected in `logs` (default "info"). */
  logLevel?: string;
}

export interface MarkEvent {
  name: string;
  played: boolean;
  atMs: number;
}

export interface HandlerError {
  callback: string;
  error: unknown;
  atMs: number;
}

/** A handler callback threw or rejected during a kit action (see TestCallOptions.handlerErrors). */
export class HandlerFailedError extends Error {
  constructor(
    readonly callback: string,
    readonly atMs: number,
    cause: unknown,
  ) {
    super(
      `handler ${callback} failed at ${atMs} ms: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
    this.name = "HandlerFailedError";
  }
}

/** One parsed log line of the worker side (pino JSON: level, msg, callId, ...). */
export type LogLine = { level: number; msg: string } & Record<string, unknown>;

/** Longest real time the kit waits for a call's file I/O before it gives up on it. */
const IO_WAIT_LIMIT_MS = 10_000;
/** Longest virtual time the kit runs to let a call finish ending (onEnd is bounded at 2 s). */
const END_LIMIT_MS = 10_000;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Runs a handler factory against an emulated call: the real MediaEngine and CallSession (the
 * code the media worker runs), an in-process media host in place of the bridge, the kit as
 * signaling and Graph, and a virtual clock. Resolves once the factory has returned its handler.
 */
export async function startTestCall<Options = unknown>(
  /** A CallHandlerFactory, or a factory typed for its options. */
  factory: (call: MediaCall, options: Options) => CallHandler | Promise<CallHandler>,
  options: TestCallOptions<Options> = {},
): Promise<TestCall> {
  const recordingsDir = options.recordingsDir ?? (await mkdtemp(join(tmpdir(), "teams-media-bot-test-")));
  const call = new TestCall(
    factory as CallHandlerFactory,
    options,
    recordingsDir,
    options.recordingsDir === undefined,
  );
  await call.start();
  return call;
}

/** A call in progress under test; see startTestCall and docs/testing.md. */
export class TestCall {
  readonly callId: string;
  /** Where record() writes its files. */
  readonly recordingsDir: string;
  /** Marks reported to the handler (played or cleared), in order, with the virtual time. */
  readonly marks: MarkEvent[] = [];
  /** Requests from the handler to hang up (only the first of a call is sent). */
  readonly hangUps: { reason: string; atMs: number }[] = [];
  /** Recording-status requests the handler's record()/stopRecording() made, and the answers. */
  readonly recordingRequests: {
    status: "recording" | "notRecording";
    accepted: boolean | undefined;
    atMs: number;
  }[] = [];
  /** Call-control requests the handler made (mute, unmute, transfer, invite), in order. */
  readonly callControlRequests: (CallControlRequest & { atMs: number })[] = [];
  /** Send status changes the handler was told about. */
  readonly sendStatusChanges: { active: boolean; atMs: number }[] = [];
  /** Callbacks that threw or rejected. */
  readonly handlerErrors: HandlerError[] = [];
  /** Why the call ended (undefined while it runs). */
  endReason: string | undefined;
  private readonly clock = new VirtualClock();
  private readonly host = new EmulatedMediaHost(this.clock);
  private readonly registry = createRegistry();
  private readonly engine: MediaEngine;
  private readonly logLines: string[] = [];
  private readonly speakers: TestSpeaker[];
  private readonly feeds = new Map<number, SpeakerFeed>();
  private readonly defaultSpeaker: number;
  private session: CallSession | undefined;
  private bridgeSession = 0;
  private factoryError: { error: unknown } | undefined;
  private errorsRaised = 0;
  private ending: Promise<unknown> | undefined;
  private closed = false;
  /** The rendered timeline: SAMPLES_PER_FRAME per tick from tick 0, and whether a frame was sent. */
  private output = new Int16Array(SAMPLES_PER_FRAME * 3000);
  private sentFlags = new Uint8Array(3000);
  private ticksRecorded = 0;
  private lastTickMs = -FRAME_DURATION_MS;
  // Scratch for composing one caller frame.
  private readonly mixed = new Int16Array(SAMPLES_PER_FRAME);
  private readonly speakerFrame = new Int16Array(SAMPLES_PER_FRAME);
  private readonly unmixedFrames: Int16Array[] = Array.from(
    { length: MAX_UNMIXED_SPEAKERS },
    () => new Int16Array(SAMPLES_PER_FRAME),
  );

  constructor(
    private readonly factory: CallHandlerFactory,
    private readonly options: TestCallOptions<unknown>,
    recordingsDir: string,
    private readonly ownsRecordingsDir: boolean,
  ) {
    this.callId = options.callId ?? "test-call";
    this.recordingsDir = recordingsDir;
    this.speakers = [...(options.speakers ?? [{ sourceId: 1, displayName: "Caller" }])];
    if (this.speakers.length === 0) throw new RangeError("a test call needs at least one speaker");
    for (const speaker of this.speakers) {
      if (!Number.isInteger(speaker.sourceId) || speaker.sourceId < 0 || speaker.sourceId >= 0xffffffff)
        throw new RangeError(`speaker sourceId must be an unsigned 32-bit integer, got ${speaker.sourceId}`);
      if (this.feeds.has(speaker.sourceId))
        throw new RangeError(`two speakers have sourceId ${speaker.sourceId}`);
      this.feeds.set(speaker.sourceId, new SpeakerFeed(speaker.sourceId));
    }
    this.defaultSpeaker = (this.speakers[0] as TestSpeaker).sourceId;
    const log = createLogger({ level: options.logLevel ?? "info", name: "media-worker" }, {
      write: (line: string) => this.logLines.push(line),
    } as unknown as NodeJS.WritableStream);
    const userHandler: LoadedHandler = {
      name: "handler under test",
      factory: async (call, handlerOptions) => {
        if (call instanceof CallSession) this.session = call;
        try {
          const handler = await this.factory(call, handlerOptions);
          if (handler === null || typeof handler !== "object")
            throw new TypeError(`the handler factory returned ${String(handler)}, not a handler object`);
          return observeHandlerErrors(handler, (callback, error) => this.recordError(callback, error));
        } catch (error) {
          this.factoryError = { error };
          throw error;
        }
      },
      options: options.options,
    };
    // After the handler under test, so it sees what the handler was told, in the same order.
    const observer: LoadedHandler = {
      name: "test kit observer",
      factory: () => ({
        onMarkPlayed: (name, played) => this.marks.push({ name, played, atMs: this.nowMs }),
        onSendStatus: (active) => this.sendStatusChanges.push({ active, atMs: this.nowMs }),
      }),
      options: undefined,
    };
    this.engine = new MediaEngine({
      bridge: this.host.asBridge(),
      metrics: createMediaMetrics(this.registry),
      log,
      handlers: [userHandler, observer],
      recordingsDir,
      playoutQueueFrames: options.playoutQueueFrames ?? DEFAULTS.playoutQueueFrames,
      livePlayoutTargetFrames: options.livePlayoutTargetFrames ?? DEFAULTS.livePlayoutTargetFrames,
      adaptiveLiveTarget: options.adaptiveLiveTarget ?? DEFAULTS.adaptiveLiveTarget,
      jitterDepthFrames: options.jitterDepthFrames ?? DEFAULTS.jitterDepthFrames,
      maxConcealFrames: 50,
      reconnectGraceMs: 0,
      emit: this.onWorkerEvent,
      clock: this.clock,
      timers: this.clock,
    });
  }

  /** @internal Creates the session and the handler (startTestCall calls it). */
  async start(): Promise<void> {
    this.engine.start();
    try {
      await this.engine.createSession({
        callId: this.callId,
        direction: this.options.direction ?? "sendRecv",
        unmixedAudio: this.options.unmixed === true,
      });
    } catch (error) {
      await this.close();
      if (this.factoryError !== undefined) throw this.factoryError.error;
      throw error;
    }
    if (this.factoryError !== undefined) {
      await this.close();
      throw this.factoryError.error;
    }
    const session = this.session as CallSession;
    this.bridgeSession = session.bridgeSession;
    // The media clock's tick 0 ran when the session was added (now, at 0 ms).
    this.lastTickMs = this.nowMs;
    this.collectRendered();
    if (this.options.established !== false) this.engine.callEstablished(this.callId);
    this.engine.updateRoster(this.callId, this.speakers.map(toParticipant));
    if (this.options.sendActive !== false) this.host.sendStatus(this.bridgeSession, true);
    await this.settle();
  }

  /** The call as the handler sees it (sendActive, queuedFrames, ...). */
  get media(): MediaCall {
    return this.session as MediaCall;
  }

  /** Virtual time since the call started, ms. */
  get nowMs(): number {
    return this.clock.now();
  }

  get ended(): boolean {
    return this.endReason !== undefined;
  }

  /** The handler asked to hang up (its first request). */
  get hangUpRequested(): { reason: string; atMs: number } | undefined {
    return this.hangUps[0];
  }

  /** Times the handler cleared the queue (barge-in), as the media host saw them. */
  get clears(): readonly { atMs: number }[] {
    return this.host.clears.map(({ atMs }) => ({ atMs }));
  }

  /** The worker's log lines so far, parsed (pino JSON). */
  get logs(): LogLine[] {
    return this.logLines.map((line) => JSON.parse(line) as LogLine);
  }

  // ---- time ------------------------------------------------------------------------------

  /**
   * Moves virtual time on by `ms`, in 20 ms ticks: at each tick the caller's next frame reaches
   * the handler, then the media clock renders the bot's frame. Between ticks, promises settle
   * and a call's file I/O (play() loading, recording files) is waited for in real time.
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0) || !Number.isFinite(ms))
      throw new RangeError(`advance() needs a duration >= 0, got ${ms}`);
    const until = this.nowMs + ms;
    while (this.lastTickMs + FRAME_DURATION_MS <= until) await this.step();
    this.clock.advanceTo(until);
    this.clock.runDue();
    await this.settle();
  }

  /** advance() by seconds. */
  runFor(seconds: number): Promise<void> {
    return this.advance(seconds * 1000);
  }

  /** Advances tick by tick until `condition` holds; throws after `maxMs` of virtual time. */
  async advanceUntil(condition: () => boolean, maxMs = 60_000): Promise<void> {
    const limit = this.nowMs + maxMs;
    while (!condition()) {
      if (this.nowMs >= limit) throw new Error(`condition not met within ${maxMs} ms of virtual time`);
      await this.step();
    }
  }

  // ---- the caller's side ---------------------------------------------------------------------

  /** Queues caller audio (16 kHz mono) to be delivered 20 ms per tick from the next tick on. */
  feed(samples: Int16Array, options: { speaker?: number } = {}): this {
    this.feedOf(options.speaker).push(samples);
    return this;
  }

  feedTone(hz: number, ms: number, options: ToneOptions & { speaker?: number } = {}): this {
    return this.feed(makeTone(hz, ms, options), options);
  }

  /** Queues silence: the speaker is on the line, saying nothing (not the platform's generated silence). */
  feedSilence(ms: number, options: { speaker?: number } = {}): this {
    return this.feed(silence(ms), options);
  }

  /** Queues a 16 kHz mono 16-bit WAV file (read with the bot's own WAV reader). */
  async feedWav(path: string, options: { speaker?: number } = {}): Promise<this> {
    return this.feed(await readWavSamples(path), options);
  }

  /** Caller audio still queued (samples), for one speaker or all. */
  pendingCallerSamples(speaker?: number): number {
    if (speaker !== undefined) return this.feedOf(speaker).queuedSamples;
    let total = 0;
    for (const feed of this.feeds.values()) total += feed.queuedSamples;
    return total;
  }

  /** A DTMF key: from the media platform (default) or from a Graph notification ("tone5"). */
  dtmf(key: DtmfKey, origin: "media" | "graph" = "media"): void {
    if (origin === "media") this.host.tone(this.bridgeSession, key);
    else this.engine.toneFromGraph(this.callId, /^\d$/.test(key) ? `tone${key}` : key);
    this.raiseErrors();
  }

  /** The platform's dominant speaker changed (null: nobody). */
  setDominantSpeaker(sourceId: number | null): void {
    this.host.dominantSpeaker(this.bridgeSession, sourceId);
    this.raiseErrors();
  }

  /** A Graph roster update; the speakers' feeds follow it (a new source id can be fed). */
  setRoster(participants: readonly RosterParticipant[]): void {
    for (const participant of participants) {
      for (const id of participant.audioSourceIds)
        if (!this.feeds.has(id)) this.feeds.set(id, new SpeakerFeed(id));
    }
    this.engine.updateRoster(
      this.callId,
      participants.map((p) => ({ ...p, audioSourceIds: [...p.audioSourceIds] })),
    );
    this.raiseErrors();
  }

  /** The platform's send status (Active: it accepts the bot's audio). */
  setSendStatus(active: boolean): void {
    this.host.sendStatus(this.bridgeSession, active);
    this.raiseErrors();
  }

  /** Signaling reports the call established (with `established: false` at the start). */
  establish(): void {
    this.engine.callEstablished(this.callId);
  }

  /** The caller hangs up: signaling closes the media session, the handler gets onEnd(reason). */
  async hangUpAsCaller(reason = "the caller hung up"): Promise<void> {
    this.endCall(reason);
    await this.finishEnding();
  }

  // ---- what the bot sent -------------------------------------------------------------------

  /**
   * The audio the bot sent from `fromMs` to `toMs` (default the whole call), one 20 ms frame
   * per tick, silence where it sent nothing. Tick t covers [t, t + 20) ms.
   */
  rendered(fromMs = 0, toMs = this.ticksRecorded * FRAME_DURATION_MS): Int16Array {
    const [first, end] = this.tickRange(fromMs, toMs);
    return this.output.slice(first * SAMPLES_PER_FRAME, end * SAMPLES_PER_FRAME);
  }

  /** Per tick from `fromMs` to `toMs`: its time and its samples, null where nothing was sent. */
  renderedFrames(
    fromMs = 0,
    toMs = this.ticksRecorded * FRAME_DURATION_MS,
  ): { atMs: number; samples: Int16Array | null }[] {
    const [first, end] = this.tickRange(fromMs, toMs);
    const frames: { atMs: number; samples: Int16Array | null }[] = [];
    for (let tick = first; tick < end; tick++) {
      frames.push({
        atMs: tick * FRAME_DURATION_MS,
        samples:
          this.sentFlags[tick] === 1
            ? this.output.slice(tick * SAMPLES_PER_FRAME, (tick + 1) * SAMPLES_PER_FRAME)
            : null,
      });
    }
    return frames;
  }

  /** Frames the bot actually sent from `fromMs` to `toMs`. */
  framesSent(fromMs = 0, toMs = this.ticksRecorded * FRAME_DURATION_MS): number {
    const [first, end] = this.tickRange(fromMs, toMs);
    let count = 0;
    for (let tick = first; tick < end; tick++) count += this.sentFlags[tick] as number;
    return count;
  }

  /** The worker's media metrics (Prometheus text), e.g. media_frames_dropped_total{reason=...}. */
  metricsText(): Promise<string> {
    return this.registry.metrics();
  }

  /** The value of one metric sample, e.g. metric("media_frames_dropped_total", { reason: "playout_overflow" }). */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const wanted = Object.entries(labels);
    for (const line of (await this.registry.metrics()).split("\n")) {
      const match = /^([A-Za-z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
      if (match === null || match[1] !== name) continue;
      const labelText = match[2] ?? "";
      if (wanted.every(([key, value]) => labelText.includes(`${key}="${value}"`))) return Number(match[3]);
    }
    return 0;
  }

  /** Ends the call if it still runs, stops the worker side, removes the kit's temporary directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.session !== undefined && !this.ended) {
      this.endCall("test call closed");
      await this.finishEnding().catch(() => {});
    }
    await this.engine.shutdown();
    if (this.ownsRecordingsDir) await rm(this.recordingsDir, { recursive: true, force: true });
  }

  // ---- internals ---------------------------------------------------------------------------

  /** One 20 ms tick: the caller's frame, then the media clock's render, then promises and I/O. */
  private async step(): Promise<void> {
    // File I/O started since the last tick (by the test's own actions) finishes before it.
    await this.waitForIo();
    const tickMs = this.lastTickMs + FRAME_DURATION_MS;
    this.clock.advanceTo(tickMs);
    this.lastTickMs = tickMs;
    if (this.ending === undefined && this.session !== undefined) this.sendCallerFrame();
    this.clock.runDue();
    this.collectRendered();
    await this.settle();
  }

  private sendCallerFrame(): void {
    const mixed = this.mixed;
    mixed.fill(0);
    const speakers: number[] = [];
    const unmixed: { speakerId: number; pcm: Uint8Array }[] = [];
    const frame = this.speakerFrame;
    for (const feed of this.feeds.values()) {
      if (!feed.takeFrame(frame)) continue;
      speakers.push(feed.sourceId);
      for (let i = 0; i < SAMPLES_PER_FRAME; i++)
        mixed[i] = Math.max(-32768, Math.min(32767, (mixed[i] as number) + (frame[i] as number)));
      if (this.options.unmixed === true && unmixed.length < MAX_UNMIXED_SPEAKERS) {
        const copy = this.unmixedFrames[unmixed.length] as Int16Array;
        copy.set(frame);
        unmixed.push({ speakerId: feed.sourceId, pcm: bytesOf(copy) });
      }
    }
    this.host.sendCallerFrame(this.bridgeSession, {
      pcm: bytesOf(mixed),
      isSilence: speakers.length === 0,
      activeSpeakers: speakers,
      unmixed,
    });
  }

  /** Puts what the worker sent on the timeline; ticks that sent nothing are silence. */
  private collectRendered(): void {
    for (const frame of this.host.takeRendered()) {
      if (frame.session !== this.bridgeSession) continue;
      const tick = Math.round(frame.atMs / FRAME_DURATION_MS);
      this.recordTicksThrough(tick - 1);
      this.ensureTicks(tick + 1);
      this.output.set(
        new Int16Array(frame.pcm.buffer, frame.pcm.byteOffset, SAMPLES_PER_FRAME),
        tick * SAMPLES_PER_FRAME,
      );
      this.sentFlags[tick] = 1;
      this.ticksRecorded = Math.max(this.ticksRecorded, tick + 1);
    }
    // The media clock ticked through now (while the call runs): what it did not send was silence.
    if (this.ending === undefined) this.recordTicksThrough(Math.floor(this.nowMs / FRAME_DURATION_MS));
  }

  private recordTicksThrough(tick: number): void {
    if (tick < this.ticksRecorded) return;
    this.ensureTicks(tick + 1);
    this.ticksRecorded = tick + 1;
  }

  private ensureTicks(ticks: number): void {
    if (ticks <= this.sentFlags.length) return;
    const capacity = Math.max(ticks, this.sentFlags.length * 2);
    const output = new Int16Array(capacity * SAMPLES_PER_FRAME);
    output.set(this.output);
    this.output = output;
    const flags = new Uint8Array(capacity);
    flags.set(this.sentFlags);
    this.sentFlags = flags;
  }

  private tickRange(fromMs: number, toMs: number): [number, number] {
    const first = Math.max(0, Math.ceil(fromMs / FRAME_DURATION_MS));
    const end = Math.min(this.ticksRecorded, Math.ceil(toMs / FRAME_DURATION_MS));
    return [first, Math.max(first, end)];
  }

  /**
   * Lets promises settle (one event-loop turn) and waits for the call's file I/O: virtual time
   * stands still meanwhile, as a real disk answers within a tick.
   */
  private async settle(): Promise<void> {
    await nextTurn();
    await this.waitForIo();
    this.collectRendered();
    this.raiseErrors();
  }

  /** Waits (real time) while the call has file I/O in flight, e.g. a play() started between ticks. */
  private async waitForIo(): Promise<void> {
    const session = this.session;
    if (session === undefined || session.pendingIo === 0) return;
    const started = performance.now();
    while (session.pendingIo > 0) {
      if (performance.now() - started > IO_WAIT_LIMIT_MS)
        throw new Error(`the call's file I/O did not finish within ${IO_WAIT_LIMIT_MS} ms (real time)`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    // What waited for the I/O (a playback joining the queue) runs before the next tick.
    await nextTurn();
  }

  private readonly onWorkerEvent = (event: WorkerEvent): void => {
    switch (event.type) {
      case "hangUpRequested":
        this.hangUps.push({ reason: event.reason, atMs: this.nowMs });
        if (this.options.hangUp !== "ignore")
          this.clock.setTimer(() => this.endCall("call ended"), this.options.hangUpDelayMs ?? 0);
        return;
      case "recordingStatusRequested": {
        const policy = this.options.recording ?? "accept";
        const request = {
          status: event.status,
          accepted: policy === "noAnswer" ? undefined : policy === "accept",
          atMs: this.nowMs,
        };
        this.recordingRequests.push(request);
        // Signaling answers asynchronously, as after its Graph request.
        if (request.accepted !== undefined) {
          const accepted = request.accepted;
          queueMicrotask(() => this.engine.recordingStatusUpdated(this.callId, event.status, accepted));
        }
        return;
      }
      case "callControlRequested": {
        this.callControlRequests.push({ ...event.request, atMs: this.nowMs });
        const policy = this.options.callControl ?? "accept";
        if (policy === "noAnswer") return;
        const result: CallControlResult =
          policy === "accept"
            ? { ok: true }
            : {
                ok: false,
                failure: {
                  reason: "refused",
                  message: "Graph refused it (403 Forbidden)",
                  status: 403,
                  graphCode: "Forbidden",
                },
              };
        // Signaling answers asynchronously, as after its Graph request.
        queueMicrotask(() => this.engine.callControlResult(this.callId, event.requestId, result));
        return;
      }
      default:
        return;
    }
  };

  private endCall(reason: string): void {
    if (this.ending !== undefined) return;
    this.ending = this.engine.closeSession(this.callId, reason).then(() => {
      this.endReason = reason;
    });
  }

  /** Runs until the ending call has ended (its onEnd waited for, at most 2 s virtual). */
  private async finishEnding(): Promise<void> {
    let done = false;
    void this.ending?.then(() => {
      done = true;
    });
    const limit = this.nowMs + END_LIMIT_MS;
    await this.settle();
    while (!done) {
      if (this.nowMs >= limit)
        throw new Error(`the call did not end within ${END_LIMIT_MS} ms of virtual time`);
      await this.step();
    }
  }

  private recordError(callback: string, error: unknown): void {
    this.handlerErrors.push({ callback, error, atMs: this.nowMs });
  }

  /** Throws the first handler error not thrown yet (with handlerErrors: "throw"). */
  private raiseErrors(): void {
    if (this.options.handlerErrors === "collect") return;
    if (this.errorsRaised >= this.handlerErrors.length) return;
    const failure = this.handlerErrors[this.errorsRaised] as HandlerError;
    this.errorsRaised = this.handlerErrors.length;
    throw new HandlerFailedError(failure.callback, failure.atMs, failure.error);
  }

  private feedOf(speaker: number | undefined): SpeakerFeed {
    const id = speaker ?? this.defaultSpeaker;
    const feed = this.feeds.get(id);
    if (feed === undefined)
      throw new RangeError(`no speaker with sourceId ${id} (speakers: ${[...this.feeds.keys()].join(", ")})`);
    return feed;
  }
}

function toParticipant(speaker: TestSpeaker): RosterParticipant {
  return {
    id: speaker.id ?? `participant-${speaker.sourceId}`,
    displayName: speaker.displayName,
    userId: speaker.userId,
    kind: "user",
    role: "attendee",
    audioSourceIds: [speaker.sourceId],
    isMuted: false,
    isInLobby: false,
  };
}

function bytesOf(samples: Int16Array): Uint8Array {
  return new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
}
