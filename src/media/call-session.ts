import { LogRateLimiter } from "../log/log-rate-limiter.js";
import type { Logger } from "../log/logger.js";
import type { MediaMetrics } from "../metrics/media-metrics.js";
import { FRAME_BYTES, FRAME_DURATION_MS } from "./audio-format.js";
import type {
  CallEvent,
  CallHandler,
  DtmfTone,
  MediaCall,
  Pcm,
  PlaybackResult,
  PlayOptions,
  RecordingInfo,
  RecordOptions,
  RosterParticipant,
  StreamOptions,
} from "./bot-api.js";
import {
  CallControlRefusedError,
  type CallControlRequest,
  type CallControlResult,
  type CallTarget,
  invitationOf,
  PendingCallControl,
} from "./call-control-request.js";
import { CallRecorder } from "./call-recorder.js";
import {
  type ArenaRegion,
  type SessionMemory,
  SLOT_SCALAR_LAST_ARRIVAL_MS,
  slotScalarsAt,
} from "./frame-arena.js";
import { JitterBuffer } from "./jitter-buffer.js";
import type { AudioDirection } from "./media-session-provider.js";
import { type MediaTimers, realTimers } from "./media-timers.js";
import { PcmStreamReader } from "./pcm-stream-reader.js";
import { type PlayoutMarkEvent, PlayoutQueue } from "./playout-queue.js";
import type { IncomingFrameView, ReceivedFrameSlot } from "./received-frame.js";
import { createRecordingFolder } from "./recording-folder.js";
import { readPcm16kWav } from "./wav-file.js";

/** What a call session needs from the engine that owns it. */
export interface CallSessionContext {
  log: Logger;
  metrics: MediaMetrics;
  /**
   * The engine's current time (performance.now() ms), set once per received batch and per
   * tick: reading a shared field costs nothing, calling performance.now() per frame boxes a
   * double each time.
   */
  time: { nowMs: number };
  /** Timeouts (the wait for onEnd); default the real ones (see media-timers.ts). */
  timers?: MediaTimers;
  recordingsDir: string;
  playoutQueueFrames: number;
  /** Live audio (`sendLive`, the echo) is trimmed back to this depth (frames; default 2). */
  livePlayoutTargetFrames?: number;
  /** The live target adapts between 0 and livePlayoutTargetFrames (see PlayoutQueueOptions). */
  adaptiveLiveTarget?: boolean;
  jitterDepthFrames: number;
  maxConcealFrames: number;
  /**
   * The engine's arenas for the session's frame memory (received slot, playout queue), laid
   * out in session order; each session has buffers of its own without it.
   */
  memory?: SessionMemory;
  /** Tells the media host to flush the session's render queue (barge-in). */
  sendClear(session: number): void;
  /** Asks signaling to update the call's recording status; true when Graph accepted it. */
  requestRecordingStatus(callId: string, status: "recording" | "notRecording"): Promise<boolean>;
  /** Asks signaling to hang the call up (fire and forget). */
  requestHangUp(callId: string, reason: string): void;
  /**
   * Asks signaling for call control; its answer comes back through callControlSettled. Without
   * it (a session with no signaling behind it) call control is refused.
   */
  requestCallControl?(callId: string, requestId: number, request: CallControlRequest): void;
  /**
   * The call queued live audio (sendLive): the engine may send it as soon as the received batch
   * being handled is done, rather than at its next tick (see MediaEngine.sendLiveNow). Called
   * once until the engine takes the call (liveWaiting).
   */
  liveQueued?(call: CallSession): void;
}

/** One record() attempt: stopRecording() before it was recording marks it stopped. */
interface RecordingAttempt {
  stopped: boolean;
}

/** A file or buffer being played (`play`), or a source being streamed (`stream`). */
interface Playback {
  pcm: Uint8Array;
  offset: number;
  mark: string | undefined;
  framesQueued: number;
  loop: boolean;
  /** Set for `stream()`: it feeds the queue instead of `pcm`. */
  stream: PcmStreamReader | undefined;
  resolve: (result: PlaybackResult) => void;
  reject: (error: Error) => void;
}

/** Frames send() could not queue are logged at most this often per call (they are always counted). */
const SEND_DROP_LOG_INTERVAL_MS = 10_000;

/** Latencies are observed as int32 microseconds: clamped so `| 0` cannot wrap (about 33 minutes). */
const MAX_MICROS = 2_000_000_000;

/** Longest the worker waits for handlers' onEnd at the end of a call. */
const HANDLER_END_TIMEOUT_MS = 2000;

/** hangUp reasons are cut to this: they end up in signaling's logs and call states. */
const MAX_HANG_UP_REASON_CHARS = 200;
const DEFAULT_HANG_UP_REASON = "hung up by the bot";

/** A placed call has a handful of events (lobby, admitted, established, ended); more are not kept. */
const MAX_HELD_CALL_EVENTS = 16;

/**
 * One call's media inside the worker: received frames through the jitter buffer to the
 * handlers and the recorder, and the bounded playout queue the pacer drains. It is the
 * `MediaCall` handlers get.
 */
export class CallSession implements MediaCall {
  log: Logger;
  /**
   * The call_id the media host knows the session by (CreateSession.call_id, repeated by a
   * resume): the Graph call id, or for a call the bot placed its provisional id (see rekey).
   */
  readonly hostCallId: string;
  /** Call events that came before the handlers were attached, delivered when they are. */
  private heldCallEvents: CallEvent[] | undefined = [];
  handlers: CallHandler[] = [];
  sendActive = false;
  /** Frames handed to the bridge so far; the next frame's sequence number. */
  renderSequence = 0;
  /**
   * The last of the engine's render ticks this call's frame (or its turn without one) was
   * taken for; a call that sent live audio ahead of its tick is skipped by that tick.
   */
  renderedThrough = -1;
  /** The engine was told about queued live audio and has not taken the call yet (liveQueued). */
  liveWaiting = false;
  connected = false;
  ended = false;
  /** Why end() ended the call (for handlers attached after it). */
  private endReason = "";
  private readonly jitter: JitterBuffer;
  private readonly queue: PlayoutQueue;
  /** The queue's memory in the engine's arena, given back when the call ends. */
  private queueRegion: ArenaRegion | undefined;
  private readonly playbacks: Playback[] = [];
  /**
   * playbacks.length and "the jitter buffer may hold frames", kept as fields here: each tick
   * reads them for every session, and the arrays' and the buffer's memory stay out of cache.
   */
  private playbackCount = 0;
  private jitterHolding = false;
  private readonly marksOut: PlayoutMarkEvent[] = [];
  private recorder: CallRecorder | undefined;
  /** The pending or running record(), and its attempt. */
  private recording: Promise<RecordingInfo> | undefined;
  private attempt: RecordingAttempt | undefined;
  /** A stopped attempt undoing its steps (files closed, notRecording); a new one waits for it. */
  private stopping: Promise<void> | undefined;
  /** Signaling reported the call established: Graph refuses recording status before (409). */
  private isEstablished = false;
  /** Attempts waiting for established(); woken by it, by stopRecording() and by end(). */
  private readonly establishWaiters: (() => void)[] = [];
  /** +1 per clear(): a play() whose file was still loading at a clear() never starts. */
  private clearGeneration = 0;
  private roster: readonly RosterParticipant[] = [];
  private readonly bySource = new Map<number, RosterParticipant>();
  /**
   * The newest arrival time (ms; -1 none yet) at arrivalAt, in the slot region's scalars (see
   * frame-arena.ts) or an array of its own: an object field would hold a separate heap number.
   */
  private readonly arrival: Float64Array;
  private readonly arrivalAt: number;
  private lastArrivalSequence = 0;
  private handlerErrorLogged = false;
  /** Created at the first dropped send: most calls never need it. */
  private sendDropLog: LogRateLimiter | undefined;
  /** The context's metrics and clock, kept here: the per-frame path reads no other object for them. */
  private readonly metrics: MediaMetrics;
  private readonly time: { nowMs: number };
  private hangUpRequested = false;
  /** Call-control requests waiting for signaling's answer. */
  private readonly controls = new PendingCallControl();
  /** File reads and writes in flight (see pendingIo). */
  private ioInFlight = 0;

  constructor(
    /** The Graph call id (for a placed call, its provisional id until rekey). */
    public callId: string,
    readonly mediaSessionId: string,
    /** The bridge's number for this session on the current connection. */
    public bridgeSession: number,
    readonly direction: AudioDirection,
    readonly unmixedAudio: boolean,
    private readonly context: CallSessionContext,
  ) {
    this.hostCallId = callId;
    this.log = context.log.child({ callId, mediaSessionId });
    this.metrics = context.metrics;
    this.time = context.time;
    const memory = context.memory;
    if (memory !== undefined && memory.queues.regionBytes < PlayoutQueue.bytes(context.playoutQueueFrames))
      throw new RangeError("the engine's queue arena is too small for this session's playout queue");
    this.queueRegion = memory?.queues.allocate();
    this.queue = new PlayoutQueue(
      context.playoutQueueFrames,
      {
        liveTargetFrames: context.livePlayoutTargetFrames,
        adaptiveLiveTarget: context.adaptiveLiveTarget,
      },
      this.queueRegion,
    );
    const slotRegion = unmixedAudio ? undefined : memory?.slots.allocate();
    this.jitter = new JitterBuffer({
      depth: context.jitterDepthFrames,
      maxConcealFrames: context.maxConcealFrames,
      unmixed: unmixedAudio,
      onFrame: this.deliver,
      onDrop: (reason) => context.metrics.dropped[reason].inc(),
      onLost: (frames, concealed) => {
        if (concealed) context.metrics.framesConcealed.inc(frames);
      },
      onBadUnmixed: (count) => context.metrics.dropped.bad_unmixed.inc(count),
      // Lent to handlers: from an arena that never gives memory to another call.
      slotRegion,
    });
    if (slotRegion?.doubles === undefined) {
      this.arrival = new Float64Array(1);
      this.arrivalAt = 0;
    } else {
      this.arrival = slotRegion.doubles;
      this.arrivalAt = slotScalarsAt(slotRegion) + SLOT_SCALAR_LAST_ARRIVAL_MS;
    }
    this.arrival[this.arrivalAt] = -1;
  }

  get queuedFrames(): number {
    return this.queue.depth;
  }

  /**
   * Its live stream's next frame has not been produced yet (nothing else to play): a tick
   * finding it so leaves the call's turn to that frame, which goes as soon as it is queued
   * (MediaEngine.sendLiveNow), instead of counting an underrun.
   */
  get awaitingLive(): boolean {
    return this.playbackCount === 0 && this.queue.awaitingLive;
  }

  /**
   * File operations of this call in flight: a play() loading its file, a recording being
   * created or finalized. The test kit holds its virtual clock while this is above 0, as a
   * real disk answers within a tick.
   */
  get pendingIo(): number {
    return this.ioInFlight;
  }

  /** Counts `work` in pendingIo until it settles. */
  private trackIo<T>(work: Promise<T>): Promise<T> {
    this.ioInFlight++;
    const done = () => {
      this.ioInFlight--;
    };
    work.then(done, done);
    return work;
  }

  // ---- received audio -------------------------------------------------------------------

  /** A validated source-context frame from the bridge. */
  receive(view: IncomingFrameView): void {
    if (this.ended) return;
    // RFC 3550's D: arrival spacing against the spacing the sequence numbers promise.
    const arrival = this.arrival;
    const lastArrivalMs = arrival[this.arrivalAt] as number;
    if (lastArrivalMs >= 0) {
      const frames = (view.sequence - this.lastArrivalSequence) | 0;
      if (frames > 0 && frames < 50) {
        const deviationMs = Math.abs(view.receivedAtMs - lastArrivalMs - frames * FRAME_DURATION_MS);
        this.metrics.interarrivalJitter.observeUnits(Math.min(deviationMs * 1000, MAX_MICROS) | 0);
      }
    }
    if (((view.sequence - this.lastArrivalSequence) | 0) > 0 || lastArrivalMs < 0) {
      arrival[this.arrivalAt] = view.receivedAtMs;
      this.lastArrivalSequence = view.sequence;
    }
    const jitter = this.jitter;
    jitter.push(view);
    // Only push adds held frames: while this is false, expire() has nothing to do.
    this.jitterHolding = jitter.heldFrames > 0;
  }

  /** A frame of this call refused for its content: its place is lost now (see JitterBuffer.refuse). */
  refused(sequence: number, receivedAtMs: number): void {
    if (this.ended) return;
    this.jitter.refuse(sequence, receivedAtMs);
    this.jitterHolding = this.jitter.heldFrames > 0;
  }

  /** The host created the session again (after a reconnect): its sequence numbers start over. */
  restartStreams(bridgeSession: number): void {
    this.bridgeSession = bridgeSession;
    this.jitter.reset();
    this.arrival[this.arrivalAt] = -1;
    this.renderSequence = 0;
  }

  /** Called on every clock tick: gives up on frames that are missing for too long. */
  expire(nowMs: number): void {
    if (!this.jitterHolding) return;
    this.jitter.expire(nowMs);
    this.jitterHolding = this.jitter.heldFrames > 0;
  }

  private readonly deliver = (frame: ReceivedFrameSlot): void => {
    // Whole microseconds: an integer argument is not boxed (see FrameHistogram).
    const transitUs = (this.time.nowMs - frame.receivedAtMs) * 1000;
    this.metrics.frameTransit.observeUnits(Math.max(-MAX_MICROS, Math.min(transitUs, MAX_MICROS)) | 0);
    this.recorder?.write(frame);
    const handlers = this.handlers;
    for (let i = 0; i < handlers.length; i++) {
      const handler = handlers[i] as CallHandler;
      if (handler.onAudio === undefined) continue;
      try {
        // An async onAudio: its rejection is counted, not left to kill the worker.
        const result: unknown = handler.onAudio(frame);
        if (result !== undefined && isThenable(result)) result.then(undefined, this.onAudioRejected);
      } catch (error) {
        this.handlerFailed("onAudio", error);
        this.metrics.dropped.handler_error.inc();
      }
    }
  };

  /** Bound once: an async onAudio must not cost a closure per frame on top of its promise. */
  private readonly onAudioRejected = (error: unknown): void => this.handlerFailed("onAudio", error);

  // ---- sent audio -------------------------------------------------------------------------

  send(pcm: Int16Array | Uint8Array): number {
    if (this.ended || this.direction === "recvOnly") return Math.floor(pcm.byteLength / FRAME_BYTES);
    const bytes =
      pcm instanceof Uint8Array ? pcm : new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    const dropped = this.queue.write(bytes.byteLength % 2 === 0 ? bytes : this.evenBytes(bytes, "send"));
    if (dropped > 0) this.countSendDrops(dropped, "send");
    return dropped;
  }

  sendLive(pcm: Int16Array | Uint8Array): number {
    if (this.ended || this.direction === "recvOnly") return Math.floor(pcm.byteLength / FRAME_BYTES);
    const bytes =
      pcm instanceof Uint8Array ? pcm : new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    const dropped = this.queue.write(
      bytes.byteLength % 2 === 0 ? bytes : this.evenBytes(bytes, "sendLive"),
      true,
    );
    if (dropped > 0) this.countSendDrops(dropped, "sendLive");
    this.countTrims();
    if (!this.liveWaiting && this.queue.depth > 0 && this.context.liveQueued !== undefined) {
      this.liveWaiting = true;
      this.context.liveQueued(this);
    }
    return dropped;
  }

  /**
   * A Uint8Array of odd length is not PCM16: its last byte would stay in the queue's partial
   * frame and shift every later sample by a byte. The stray byte is dropped, counted as a handler error.
   */
  private evenBytes(bytes: Uint8Array, method: string): Uint8Array {
    this.handlerFailed(
      method,
      new RangeError(
        `${method}(): PCM16 needs an even number of bytes, got ${bytes.byteLength}; last byte dropped`,
      ),
    );
    return bytes.subarray(0, bytes.byteLength - 1);
  }

  play(audio: string | Pcm, options: PlayOptions = {}): Promise<PlaybackResult> {
    if (this.ended) return Promise.resolve({ framesQueued: 0, completed: false });
    if (typeof audio !== "string") {
      return new Promise<PlaybackResult>((resolve, reject) => {
        this.startPlayback(
          this.pcmCopy(audio),
          options.mark,
          options.loop === true,
          undefined,
          resolve,
          reject,
        );
      });
    }
    const generation = this.clearGeneration;
    return this.trackIo(readPcm16kWav(audio)).then(
      (pcm) =>
        new Promise<PlaybackResult>((resolve, reject) => {
          if (this.ended) return resolve({ framesQueued: 0, completed: false });
          if (generation !== this.clearGeneration) {
            // clear() (barge-in) came while the file was loading: it stopped this playback too.
            if (options.mark !== undefined) {
              this.marksOut.push({ name: options.mark, played: false });
              this.reportMarks();
            }
            return resolve({ framesQueued: 0, completed: false });
          }
          this.startPlayback(pcm, options.mark, options.loop === true, undefined, resolve, reject);
        }),
    );
  }

  stream(source: AsyncIterable<Pcm> | Iterable<Pcm>, options: StreamOptions = {}): Promise<PlaybackResult> {
    if (this.ended) return Promise.resolve({ framesQueued: 0, completed: false });
    return new Promise<PlaybackResult>((resolve, reject) => {
      const playback = this.startPlayback(
        new Uint8Array(0),
        options.mark,
        false,
        new PcmStreamReader(
          source,
          () => this.topUp(),
          (error) => this.streamFailed(playback, error),
        ),
        resolve,
        reject,
      );
    });
  }

  private startPlayback(
    pcm: Uint8Array,
    mark: string | undefined,
    loop: boolean,
    stream: PcmStreamReader | undefined,
    resolve: (result: PlaybackResult) => void,
    reject: (error: Error) => void,
  ): Playback {
    const playback: Playback = {
      pcm,
      offset: 0,
      mark,
      framesQueued: 0,
      loop: loop && pcm.length >= FRAME_BYTES,
      stream,
      resolve,
      reject,
    };
    this.playbackCount++;
    this.playbacks.push(playback);
    // Queued now rather than at the next tick, so queuedFrames counts it at once.
    this.topUp();
    return playback;
  }

  /** play(pcm) copies the caller's buffer: it may reuse it at once. An odd byte count loses its last byte. */
  private pcmCopy(audio: Pcm): Uint8Array {
    if (!(audio instanceof Uint8Array) && !(audio instanceof Int16Array))
      throw new TypeError("play(): audio must be a WAV file path, an Int16Array or a Uint8Array");
    const bytes = new Uint8Array(audio.buffer, audio.byteOffset, audio.byteLength);
    return (bytes.byteLength % 2 === 0 ? bytes : this.evenBytes(bytes, "play")).slice();
  }

  /** Tops the queue up from the playbacks outside a tick (new audio, a streamed chunk arrived). */
  private topUp(): void {
    if (!this.ended && this.sendActive && this.direction !== "recvOnly" && this.playbackCount > 0)
      this.fillFromPlaybacks();
  }

  /** A stream's source threw: its playback ends (its mark unplayed) and stream() rejects. */
  private streamFailed(playback: Playback, error: Error): void {
    const at = this.playbacks.indexOf(playback);
    if (at < 0) return;
    this.playbacks.splice(at, 1);
    this.playbackCount--;
    if (playback.mark !== undefined) {
      this.marksOut.push({ name: playback.mark, played: false });
      this.reportMarks();
    }
    playback.reject(error);
    // The playbacks after it go on now.
    this.topUp();
  }

  clear(): void {
    this.clearGeneration++;
    const dropped = this.queue.clear(this.marksOut);
    if (dropped > 0) this.context.metrics.cleared.barge_in.inc(dropped);
    this.stopPlaybacks();
    this.context.sendClear(this.bridgeSession);
    this.reportMarks();
  }

  mark(name: string): void {
    const dropped = this.queue.mark(String(name));
    if (dropped > 0) this.countSendDrops(dropped, "mark");
  }

  /**
   * One render tick: tops the queue up from playbacks, then takes one frame for the batch
   * (only while the platform accepts audio). Returns the frame to send, if any.
   */
  render(): Uint8Array | undefined {
    if (this.ended) return undefined;
    let frame: Uint8Array | undefined;
    if (this.sendActive && this.direction !== "recvOnly") {
      if (this.playbackCount > 0) this.fillFromPlaybacks();
      frame = this.queue.take();
    }
    const trimmed = this.queue.endTick();
    if (trimmed > 0) this.metrics.dropped.latency_trim.inc(trimmed);
    this.metrics.playoutQueueDepth.observeUnits(this.queue.depth);
    if (this.queue.pendingMarks > 0) {
      this.queue.reachedMarks(this.marksOut);
      this.reportMarks();
    }
    return frame;
  }

  /**
   * The media clock skipped ticks (a stall): live audio due meanwhile arrives in a burst, and
   * is trimmed back to the live target within two ticks instead of standing in the queue.
   * Called after this tick's render.
   */
  clockSkipped(): void {
    this.queue.expediteTrim();
  }

  setSendStatus(active: boolean): void {
    if (active === this.sendActive) return;
    this.sendActive = active;
    this.log.info({ active }, "send status changed");
    this.forEachHandler("onSendStatus", (handler) => handler.onSendStatus?.(active));
  }

  private fillFromPlaybacks(): void {
    while (this.playbacks.length > 0 && this.queue.space > 0) {
      const playback = this.playbacks[0] as Playback;
      if (playback.stream !== undefined) {
        // Waiting for its source (or the queue is full): later playbacks wait behind it.
        if (!playback.stream.fill(this.queue)) {
          playback.framesQueued = playback.stream.framesQueued;
          return;
        }
        playback.framesQueued = playback.stream.framesQueued;
        this.finishPlayback(playback);
        continue;
      }
      const remaining = playback.pcm.length - playback.offset;
      if (remaining >= FRAME_BYTES) {
        this.queue.pushFrame(playback.pcm, playback.offset);
        playback.offset += FRAME_BYTES;
        playback.framesQueued++;
        continue;
      }
      if (playback.loop) {
        playback.offset = 0;
        continue;
      }
      if (remaining > 0) {
        // The file's last partial frame, padded with silence.
        this.queue.write(playback.pcm.subarray(playback.offset));
        this.queue.flushPartial();
        playback.framesQueued++;
      }
      this.finishPlayback(playback);
    }
  }

  /** The head playback was queued completely: its mark goes in after its last frame. */
  private finishPlayback(playback: Playback): void {
    this.playbacks.shift();
    this.playbackCount--;
    if (playback.mark !== undefined) this.queue.mark(playback.mark);
    playback.resolve({ framesQueued: playback.framesQueued, completed: true });
  }

  private stopPlaybacks(): void {
    this.playbackCount = 0;
    for (const playback of this.playbacks.splice(0)) {
      playback.stream?.stop();
      // Its mark was not queued yet (that happens after its last frame): it will never play.
      if (playback.mark !== undefined) this.marksOut.push({ name: playback.mark, played: false });
      playback.resolve({ framesQueued: playback.framesQueued, completed: false });
    }
  }

  private countTrims(): void {
    const trimmed = this.queue.takeTrimmed();
    if (trimmed > 0) this.context.metrics.dropped.latency_trim.inc(trimmed);
  }

  /**
   * Frames send()/sendLive()/mark() could not queue: counted, and logged at warn at most once
   * per SEND_DROP_LOG_INTERVAL_MS per call, so a handler sending too much is seen, not flooding.
   */
  private countSendDrops(frames: number, method: string): void {
    const reason = this.sendActive ? "playout_overflow" : "not_active";
    this.context.metrics.dropped[reason].inc(frames);
    this.sendDropLog ??= new LogRateLimiter(SEND_DROP_LOG_INTERVAL_MS);
    const notLoggedBefore = this.sendDropLog.take();
    if (notLoggedBefore === undefined) return;
    this.log.warn(
      { method, framesDropped: frames, reason, queueFrames: this.queue.capacity, notLoggedBefore },
      `${method}(): the playout queue is full, audio dropped; play(pcm) or stream() waits for room instead`,
    );
  }

  private reportMarks(): void {
    if (this.marksOut.length === 0) return;
    for (const mark of this.marksOut.splice(0)) {
      this.forEachHandler("onMarkPlayed", (handler) => handler.onMarkPlayed?.(mark.name, mark.played));
    }
  }

  // ---- events from the host and from signaling ----------------------------------------------

  toneReceived(tone: DtmfTone, origin: "media" | "graph"): void {
    this.forEachHandler("onTone", (handler) => handler.onTone?.(tone, origin));
  }

  dominantSpeakerChanged(sourceId: number | null): void {
    const participant = sourceId === null ? undefined : this.bySource.get(sourceId);
    this.forEachHandler("onDominantSpeaker", (handler) => handler.onDominantSpeaker?.(sourceId, participant));
  }

  updateRoster(participants: readonly RosterParticipant[]): void {
    this.roster = participants;
    this.bySource.clear();
    for (const participant of participants) {
      for (const sourceId of participant.audioSourceIds) this.bySource.set(sourceId, participant);
    }
    // Speakers who leave stay named in recording.json: the recorder keeps who they were.
    this.recorder?.rosterChanged();
    this.forEachHandler("onRoster", (handler) => handler.onRoster?.(this.roster));
  }

  get participants(): readonly RosterParticipant[] {
    return this.roster;
  }

  participantForSource(sourceId: number): RosterParticipant | undefined {
    return this.bySource.get(sourceId);
  }

  // ---- recording ----------------------------------------------------------------------------

  /** Signaling reports the call established: a record() waiting for it goes on. */
  established(): void {
    if (this.isEstablished) return;
    this.isEstablished = true;
    this.wakeEstablishWaiters();
  }

  record(options: RecordOptions = {}): Promise<RecordingInfo> {
    if (this.ended) return Promise.reject(new Error("the call has ended"));
    if (this.recording !== undefined) return this.recording;
    const attempt: RecordingAttempt = { stopped: false };
    const recording = this.startRecording(options.unmixed === true, attempt, this.stopping).catch(
      (error: Error) => {
        if (this.attempt === attempt) {
          this.recording = undefined;
          this.attempt = undefined;
        }
        throw error;
      },
    );
    this.recording = recording;
    this.attempt = attempt;
    return recording;
  }

  private async startRecording(
    unmixed: boolean,
    attempt: RecordingAttempt,
    previous: Promise<void> | undefined,
  ): Promise<RecordingInfo> {
    if (unmixed && !this.unmixedAudio) {
      throw new Error("per-speaker recording needs a session created with unmixed audio");
    }
    // A stopped attempt may still be telling Graph notRecording: not to cross with our request.
    if (previous !== undefined) await previous;
    // Graph refuses updateRecordingStatus (409) until the call is established.
    while (!this.isEstablished && !this.ended && !attempt.stopped) {
      await new Promise<void>((wake) => this.establishWaiters.push(wake));
    }
    if (this.ended && !this.isEstablished)
      throw new Error("the call ended before it was established; nothing was recorded");
    if (this.ended) throw new Error("the call ended before recording started");
    if (attempt.stopped) throw stoppedBeforeStart();
    const accepted = await this.context.requestRecordingStatus(this.callId, "recording");
    if (!accepted) throw new Error("Graph did not accept recording status 'recording'; nothing is stored");
    let recorder: CallRecorder | undefined;
    try {
      if (this.ended) throw new Error("the call ended before recording started");
      if (attempt.stopped) throw stoppedBeforeStart();
      const directory = await this.trackIo(
        createRecordingFolder(this.context.recordingsDir, this.callId, new Date()),
      );
      recorder = new CallRecorder(directory, unmixed, (id) => this.bySource.get(id), this.callId);
      await this.trackIo(recorder.ready);
      if (this.ended) throw new Error("the call ended before recording started");
      if (attempt.stopped) throw stoppedBeforeStart();
    } catch (error) {
      // Graph says recording and nothing is: the files are closed, Graph is told notRecording.
      if (recorder !== undefined) await this.trackIo(recorder.close()).catch(() => {});
      if (!this.ended)
        await this.context.requestRecordingStatus(this.callId, "notRecording").catch(() => false);
      throw error;
    }
    this.recorder = recorder;
    this.context.metrics.activeRecordings.inc();
    this.log.info({ directory: recorder.directory, unmixed }, "recording started");
    return recorder.info;
  }

  /**
   * Finalizes the files and reports notRecording. During a record() that is not recording yet,
   * that record() undoes what it did (files closed, notRecording if Graph had accepted) and
   * rejects; this resolves once it has.
   */
  async stopRecording(): Promise<void> {
    const recorder = this.recorder;
    if (recorder === undefined) {
      const attempt = this.attempt;
      const recording = this.recording;
      if (attempt === undefined || recording === undefined) return this.stopping;
      attempt.stopped = true;
      this.attempt = undefined;
      this.recording = undefined;
      this.wakeEstablishWaiters();
      const stopping = recording.then(
        () => {},
        () => {},
      );
      this.stopping = stopping;
      await stopping;
      if (this.stopping === stopping) this.stopping = undefined;
      return;
    }
    await this.closeRecorder();
    if (!this.ended)
      await this.context.requestRecordingStatus(this.callId, "notRecording").catch(() => false);
  }

  private wakeEstablishWaiters(): void {
    for (const wake of this.establishWaiters.splice(0)) wake();
  }

  private async closeRecorder(): Promise<void> {
    const recorder = this.recorder;
    if (recorder === undefined) return;
    this.recorder = undefined;
    this.recording = undefined;
    this.attempt = undefined;
    try {
      await this.trackIo(recorder.close());
      this.log.info({ directory: recorder.directory }, "recording finalized");
    } catch (error) {
      this.log.error({ err: error, directory: recorder.directory }, "recording could not be finalized");
    } finally {
      // Active until its files are final: 0 means every recording can be read (or failed).
      this.context.metrics.activeRecordings.dec();
    }
  }

  // ---- end ------------------------------------------------------------------------------------

  // ---- call control (signaling carries it out through Graph) --------------------------------

  mute(): Promise<void> {
    return this.callControl({ action: "mute" });
  }

  unmute(): Promise<void> {
    return this.callControl({ action: "unmute" });
  }

  transfer(target: CallTarget): Promise<void> {
    return this.callControl({ action: "transfer", transferTarget: invitationOf(target) });
  }

  invite(targets: CallTarget | readonly CallTarget[]): Promise<void> {
    const list = Array.isArray(targets) ? targets : [targets as CallTarget];
    return this.callControl({ action: "invite", participants: list.map(invitationOf) });
  }

  /** Signaling's answer to one of this call's call-control requests. */
  callControlSettled(requestId: number, result: CallControlResult): void {
    this.controls.settle(requestId, result);
  }

  private callControl(request: CallControlRequest): Promise<void> {
    if (this.ended)
      return Promise.reject(
        new CallControlRefusedError(request.action, { reason: "call_ended", message: "the call has ended" }),
      );
    if (this.context.requestCallControl === undefined)
      return Promise.reject(
        new CallControlRefusedError(request.action, {
          reason: "failed",
          message: "no signaling behind this media session",
        }),
      );
    return this.controls.start(request, (requestId) =>
      this.context.requestCallControl?.(this.callId, requestId, request),
    );
  }

  hangUp(reason?: string): void {
    // After end() signaling is already ending the call; a second request adds nothing.
    if (this.ended || this.hangUpRequested) return;
    const why = boundedReason(reason) || DEFAULT_HANG_UP_REASON;
    this.hangUpRequested = true;
    this.log.info({ reason: why }, "handler asked to hang up the call");
    this.context.requestHangUp(this.callId, why);
  }

  /**
   * Gives the call its handlers once their factories are done. A call that ended meanwhile
   * (closed while they were being created) had none to tell: they get onEnd now, as end()
   * would have given it, and this returns false.
   */
  async attachHandlers(handlers: CallHandler[]): Promise<boolean> {
    this.handlers = handlers;
    const held = this.heldCallEvents ?? [];
    this.heldCallEvents = undefined;
    for (const event of held) this.callEvent(event);
    if (!this.ended) return true;
    await this.endHandlers(this.endReason);
    return false;
  }

  /**
   * A placed call learns its Graph call id (created under a provisional one, before Graph
   * named the call): its log lines carry the Graph id from now on. The host keeps knowing the
   * session by hostCallId.
   */
  rekey(callId: string): void {
    this.callId = callId;
    this.log = this.context.log.child({
      callId,
      mediaSessionId: this.mediaSessionId,
      hostCallId: this.hostCallId,
    });
  }

  /** A call event of a placed call, for every handler's onCallEvent (held until they are attached). */
  callEvent(event: CallEvent): void {
    if (this.heldCallEvents !== undefined) {
      if (this.heldCallEvents.length < MAX_HELD_CALL_EVENTS) this.heldCallEvents.push(event);
      return;
    }
    for (const handler of this.handlers) {
      if (!handler.onCallEvent) continue;
      try {
        handler.onCallEvent(event);
      } catch (error) {
        this.handlerFailed("onCallEvent", error);
      }
    }
  }

  /** Ends the call's media: held frames delivered, playbacks stopped, recordings finalized. */
  async end(reason: string): Promise<void> {
    if (this.ended) return;
    this.jitter.flush();
    this.ended = true;
    this.endReason = reason;
    this.controls.rejectAll(`the call ended (${reason}) before signaling answered`);
    this.wakeEstablishWaiters();
    this.stopPlaybacks();
    const pending = this.queue.clear(this.marksOut);
    if (pending > 0) this.context.metrics.cleared.call_ended.inc(pending);
    this.reportMarks();
    this.releaseQueueMemory();
    await this.endHandlers(reason);
    await this.closeRecorder();
  }

  /** Every handler's onEnd, waited for at most HANDLER_END_TIMEOUT_MS. */
  private async endHandlers(reason: string): Promise<void> {
    const endings = this.handlers.map(async (handler) => {
      try {
        await handler.onEnd?.(reason);
      } catch (error) {
        this.handlerFailed("onEnd", error);
      }
    });
    const timers = this.context.timers ?? realTimers;
    let timer: unknown;
    await Promise.race([
      Promise.all(endings),
      new Promise((resolve) => {
        timer = timers.setTimer(() => resolve(undefined), HANDLER_END_TIMEOUT_MS);
      }),
    ]);
    timers.clearTimer(timer);
  }

  /** The queue moves to memory of its own; its region goes back to the arena for a later call. */
  private releaseQueueMemory(): void {
    const region = this.queueRegion;
    if (region === undefined) return;
    this.queueRegion = undefined;
    this.queue.detach();
    this.context.memory?.queues.release(region);
  }

  private forEachHandler(name: string, call: (handler: CallHandler) => unknown): void {
    for (const handler of this.handlers) {
      try {
        // An async callback: its rejection is counted and logged, not left to kill the worker.
        const result = call(handler);
        if (result !== undefined && isThenable(result))
          result.then(undefined, (error: unknown) => this.handlerFailed(name, error));
      } catch (error) {
        this.handlerFailed(name, error);
      }
    }
  }

  /** A callback threw or its promise rejected (or a handler passed bad input): counted, logged once. */
  private handlerFailed(callback: string, error: unknown): void {
    this.metrics.handlerErrors.labels(callback).inc();
    // Logged once per call: a handler failing on every frame must not flood the log.
    if (this.handlerErrorLogged) return;
    this.handlerErrorLogged = true;
    this.log.error({ err: error, callback }, "call handler threw (further errors of this call not logged)");
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function"
  );
}

function stoppedBeforeStart(): Error {
  return new Error("recording was stopped (stopRecording) before it started; nothing is recorded");
}

/**
 * Handlers are plain JavaScript at run time: whatever they pass becomes a printable string of
 * at most MAX_HANG_UP_REASON_CHARS ("" for nothing). Control characters become spaces.
 */
function boundedReason(reason: unknown): string {
  if (reason === undefined || reason === null) return "";
  let text = "";
  for (const char of String(reason).slice(0, MAX_HANG_UP_REASON_CHARS)) {
    const code = char.charCodeAt(0);
    text += code < 0x20 || code === 0x7f ? " " : char;
  }
  return text.trim();
}
