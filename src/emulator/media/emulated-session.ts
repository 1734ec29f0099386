import { randomUUID } from "node:crypto";
import type { FrameBatchWriter } from "../../bridge/frame-batch-writer.js";
import {
  type Direction,
  FRAME_TICKS,
  MAX_UNMIXED_BUFFERS,
  PCM_FRAME_BYTES,
  v1,
} from "../../bridge/protocol.js";
import {
  type AudioSource,
  type AudioSourceSpec,
  createAudioSource,
  readWatermark,
  writeWatermark,
} from "./audio-source.js";
import type { FrameLedger, FrameOwner } from "./frame-ledger.js";
import {
  checkImpairments,
  type Impairments,
  jitterMaxTicks,
  NO_IMPAIRMENTS,
  reorderHoldProbability,
} from "./impairments.js";
import { LatencyStats, type LatencySummary } from "./latency-stats.js";
import { LevelMeter } from "./level-meter.js";
import { PlayoutRecording } from "./playout-recording.js";
import type { EmulatorTimingObserver } from "./timing-observer.js";

export type { Impairments } from "./impairments.js";
export { NO_IMPAIRMENTS } from "./impairments.js";

export interface SpeakerSpec {
  /** Media source id (participant mediaStreams[].sourceId). */
  id: number;
  source: AudioSourceSpec;
}

export interface SessionStats {
  session: number;
  callId: string;
  mediaSessionId: string;
  /** False while the session waits (detached) for its worker to reconnect and resume it. */
  attached: boolean;
  /** Times a reconnected worker resumed the session. */
  resumes: number;
  mediaConnected: boolean;
  sendActive: boolean;
  /** Source frames handed to the worker's socket. */
  framesSent: number;
  /**
   * Source frames produced for the worker but never sent: their message was not sent (a stall,
   * backpressure, a closing socket) or they were on their way when the connection was lost.
   */
  framesDropped: number;
  /** Far-end frames the platform produced while no worker was attached (lost, as on the platform). */
  framesWhileDetached: number;
  framesLost: number;
  framesReordered: number;
  silenceFrames: number;
  /** Render frames received from the bot. */
  renderFramesReceived: number;
  /** Render frames received before send status was ACTIVE (the platform discards them). */
  renderFramesDiscarded: number;
  /** Render frames dropped because the playout queue was full. */
  renderFramesOverflowed: number;
  /** Render frames dropped from a standing backlog (see renderTargetFrames). */
  renderFramesTrimmed: number;
  /** Render frames played (taken off the playout queue by the 20 ms clock). */
  framesPlayed: number;
  /** Ticks with nothing to play after playing had started. */
  underruns: number;
  playoutQueueDepth: number;
  marksPlayed: number;
  marksCleared: number;
  /** Level of the far end's audio sent to the bot (smoothed over ~150 ms), dBFS; -96 = silence. */
  callerLevelDbfs: number;
  /** Level of the bot's audio played to the far end (smoothed over ~150 ms), dBFS; -96 = silence. */
  botLevelDbfs: number;
  /** Round trip of source frames echoed back by the bot (watermark matched). */
  echo: LatencySummary;
}

/** A source frame produced and waiting for its (jittered) delivery tick. */
interface DelayedFrame {
  due: number;
  sequence: number;
  ticks: number;
  silence: boolean;
  pcm: Uint8Array;
  unmixed: Uint8Array[];
  /** Active speakers when it was produced; null for a silent frame. */
  speakers: readonly number[] | null;
}

/** A frame or a mark waiting in the playout queue. */
type QueueEntry = { kind: "frame"; offset: number; atMs: number } | { kind: "mark"; name: string };

const SOURCE_CONTEXT = v1.MediaContext.MEDIA_CONTEXT_AUDIO_SOURCE;
/** Sent-frame times remembered for echo matching (5 s of frames). */
const ECHO_WINDOW = 256;

/**
 * The far end of one call as the media platform emulator plays it: the audio the bot
 * receives (with impairments, speakers, unmixed buffers) and the playout of what the bot
 * renders (one frame per tick, marks, clear, recording, echo latency).
 */
export class EmulatedSession implements FrameOwner {
  /** Number naming the session on its connection; a resumed session gets a new one. */
  session: number;
  readonly callId: string;
  readonly mediaSessionId: string;
  readonly audioRenderContextId = randomUUID();
  readonly audioSourceContextId = randomUUID();
  readonly direction: Direction;
  readonly unmixedAudio: boolean;

  mediaConnected = false;
  sendActive = false;
  impairments: Impairments = { ...NO_IMPAIRMENTS };
  /** Paused sessions send no frames (e.g. the far end is on hold). */
  paused = false;
  /** False while no worker connection holds the session (see detach()). */
  attached = true;
  /** The last dominant speaker the platform reported (NO_SPEAKER = nobody); undefined = none yet. */
  dominantSpeaker: number | undefined;

  private source: AudioSource;
  private sourceEnded = false;
  private speakers: { id: number; spec: AudioSourceSpec; source: AudioSource }[] = [];
  /** The speakers' ids; replaced (never changed) by setSpeakers, so frames keep the list they were made with. */
  private speakerIdList: readonly number[] = [];
  /**
   * Far-end frames the platform produced so far: drives the platform timestamps and the echo
   * watermark, and keeps counting while the session is detached (the far end goes on talking).
   */
  private platformFrames = 0;
  /** platformFrames when the current attachment began: wire sequence numbers restart at 1. */
  private sequenceBase = 0;
  private ticks = 0;
  private readonly discard = new Uint8Array(PCM_FRAME_BYTES);
  /** Frames waiting for their (jittered) delivery tick, in order. */
  private readonly delayLine: DelayedFrame[] = [];
  /** A frame held back to go out after the next one (reorder), and the tick it was held at. */
  private held: DelayedFrame | null = null;
  private heldAt = 0;
  private readonly sentAt = new Float64Array(ECHO_WINDOW);
  private readonly sentSeq = new Int32Array(ECHO_WINDOW).fill(-1);
  readonly echo = new LatencyStats();
  private readonly callerLevel = new LevelMeter();
  private readonly botLevel = new LevelMeter();

  // Playout of what the bot renders.
  private readonly queue: QueueEntry[] = [];
  private readonly renderTargetFrames: number;
  private readonly renderTrimWindowTicks: number;
  /** The trim window: ticks so far, smallest depth after playing, frames still to drop. */
  private trimWindowTicks = 0;
  private trimWindowMin = Number.MAX_SAFE_INTEGER;
  private trimBudget = 0;
  private readonly queuePcm: Uint8Array;
  private queueFrames = 0;
  private slotNext = 0;
  private playing = false;
  private readonly recording: PlayoutRecording;

  private readonly stats = {
    resumes: 0,
    framesSent: 0,
    framesDropped: 0,
    framesWhileDetached: 0,
    framesLost: 0,
    framesReordered: 0,
    silenceFrames: 0,
    renderFramesReceived: 0,
    renderFramesDiscarded: 0,
    renderFramesOverflowed: 0,
    renderFramesTrimmed: 0,
    framesPlayed: 0,
    underruns: 0,
    marksPlayed: 0,
    marksCleared: 0,
  };

  constructor(
    options: {
      session: number;
      callId: string;
      mediaSessionId: string;
      direction: Direction;
      unmixedAudio: boolean;
      source: AudioSourceSpec;
      speakers?: SpeakerSpec[];
      /** Playout queue bound in frames (the platform's jitter buffer). */
      playoutQueueFrames: number;
      /** In-memory recording bound in seconds. */
      recordMaxSeconds: number;
      /**
       * A playout queue that never got shorter than this after a tick's frame was played,
       * during a whole window of renderTrimWindowTicks, drops the excess one frame per tick,
       * as the .NET host does (RenderTargetFrames 1, RenderTrimWindowTicks 50); 0 = never
       * (the default: tests compare what was played byte for byte, whatever the machine's stalls).
       */
      renderTargetFrames?: number;
      renderTrimWindowTicks?: number;
    },
    private readonly random: () => number = Math.random,
  ) {
    this.session = options.session;
    this.callId = options.callId;
    this.mediaSessionId = options.mediaSessionId;
    this.direction = options.direction;
    this.unmixedAudio = options.unmixedAudio;
    this.source = createAudioSource(options.source);
    this.setSpeakers(options.speakers ?? []);
    this.queuePcm = new Uint8Array(options.playoutQueueFrames * PCM_FRAME_BYTES);
    this.recording = new PlayoutRecording(Math.round(options.recordMaxSeconds * 50));
    this.renderTargetFrames = options.renderTargetFrames ?? 0;
    this.renderTrimWindowTicks = options.renderTrimWindowTicks ?? 50;
  }

  setSource(spec: AudioSourceSpec): void {
    this.source = createAudioSource(spec);
    this.sourceEnded = false;
  }

  /** Up to four speakers, each with its own source (mixed for the main frame, unmixed if asked). */
  setSpeakers(speakers: SpeakerSpec[]): void {
    if (speakers.length > MAX_UNMIXED_BUFFERS)
      throw new RangeError(`at most ${MAX_UNMIXED_BUFFERS} speakers`);
    for (const { id } of speakers) {
      if (!Number.isInteger(id) || id < 0 || id > 0xffffffff)
        throw new RangeError(`speaker id must be an integer in [0, 4294967295], got ${id}`);
    }
    // A speaker set again with the same source goes on where it was (a roster change elsewhere
    // in the meeting does not restart everyone's audio); a new or changed one starts afresh.
    const previous = this.speakers;
    this.speakers = speakers.map((s) => {
      const kept = previous.find((p) => p.id === s.id && sameSource(p.spec, s.source));
      return kept ?? { id: s.id, spec: s.source, source: createAudioSource(s.source) };
    });
    this.speakerIdList = this.speakers.map((s) => s.id);
  }

  get speakerIds(): number[] {
    return [...this.speakerIdList];
  }

  /** Replaces the impairments given (checked: a bad value throws a RangeError naming it). */
  setImpairments(impairments: Partial<Impairments>): void {
    const next = { ...this.impairments };
    for (const [name, value] of Object.entries(checkImpairments(impairments)))
      if (value !== undefined) next[name as keyof Impairments] = value;
    this.impairments = next;
  }

  /** True when the session sends received audio to the bot (direction sends far-end audio). */
  private get receives(): boolean {
    return this.direction !== "sendOnly";
  }

  /**
   * This tick of the far end: produces its source frame (after impairments) and writes the
   * frames due now into the batch, recording each in the ledger. nowMs: the send time used for
   * echo latency.
   */
  writeSourceFrame(writer: FrameBatchWriter, nowMs: number, ledger: FrameLedger): void {
    this.ticks++;
    if (!this.receives) return;
    if (this.mediaConnected && !this.paused) this.produceFrame(nowMs);
    // Drained even when nothing was produced (loss, pause): frames in flight still arrive.
    this.deliverDue(writer, ledger);
  }

  private produceFrame(nowMs: number): void {
    this.platformFrames++;
    const platformFrame = this.platformFrames;
    const sequence = (platformFrame - this.sequenceBase) >>> 0;
    const imp = this.impairments;
    if (imp.loss > 0 && this.random() < imp.loss) {
      // The far end spoke this frame and the network lost it: its audio is gone, not postponed.
      this.skipSourceFrame();
      this.stats.framesLost++;
      this.callerLevel.addSilence();
      return;
    }
    const pcm = new Uint8Array(PCM_FRAME_BYTES);
    const unmixed: Uint8Array[] = [];
    let silence = this.sourceEnded;
    if (!silence && !this.fillFrame(pcm, unmixed)) {
      // A WAV played once has ended: from now on the far end is silent.
      this.sourceEnded = true;
      silence = true;
    }
    if (!silence && imp.silence > 0 && this.random() < imp.silence) {
      // Sent as generated silence; the source advanced all the same.
      silence = true;
      pcm.fill(0);
      unmixed.length = 0;
    }
    if (silence) {
      this.stats.silenceFrames++;
      this.callerLevel.addSilence();
    } else {
      this.callerLevel.addFrame(pcm, 0, PCM_FRAME_BYTES);
      // The platform frame number, not the wire sequence: it never restarts, so a frame
      // rendered back after a resume cannot match an older one.
      writeWatermark(pcm, 0, platformFrame);
      this.sentSeq[platformFrame % ECHO_WINDOW] = platformFrame & 0xffff;
      this.sentAt[platformFrame % ECHO_WINDOW] = nowMs;
    }
    const maxTicks = jitterMaxTicks(imp.jitterMs);
    const jitterTicks = maxTicks > 0 ? Math.floor(this.random() * (maxTicks + 1)) : 0;
    const lastDue = this.delayLine[this.delayLine.length - 1]?.due ?? 0;
    this.delayLine.push({
      // In order: a frame never leaves before the one ahead of it.
      due: Math.max(lastDue, this.ticks + jitterTicks),
      sequence,
      ticks: platformFrame * FRAME_TICKS,
      silence,
      pcm,
      unmixed,
      // The speakers of the moment it was spoken, even if they change while it is held back.
      speakers: silence ? null : this.speakerIdList,
    });
  }

  private deliverDue(writer: FrameBatchWriter, ledger: FrameLedger): void {
    const hold = reorderHoldProbability(this.impairments.reorder);
    while ((this.delayLine[0]?.due ?? Number.POSITIVE_INFINITY) <= this.ticks) {
      const frame = this.delayLine.shift() as DelayedFrame;
      if (this.held === null && hold > 0 && this.random() < hold) {
        // Hold this frame and send it after the next one.
        this.held = frame;
        this.heldAt = this.ticks;
        continue;
      }
      this.emit(writer, ledger, frame);
      if (this.held !== null) {
        this.emit(writer, ledger, this.held);
        this.held = null;
        this.stats.framesReordered++;
      }
    }
    // Nothing overtook the held frame within a tick (its successor was lost, or the far end
    // paused): it goes out a tick late, alone, instead of waiting indefinitely.
    if (this.held !== null && this.heldAt < this.ticks) {
      this.emit(writer, ledger, this.held);
      this.held = null;
    }
  }

  /** The source advances by a frame whose audio nobody receives (lost, or no worker attached). */
  private skipSourceFrame(): void {
    if (this.sourceEnded) return;
    if (this.speakers.length > 0) {
      for (const speaker of this.speakers) speaker.source.read(this.discard, 0);
    } else if (!this.source.read(this.discard, 0)) this.sourceEnded = true;
  }

  /**
   * A tick while no worker is attached: the far end goes on (its source advances, the platform
   * clock runs) but the frame reaches nobody, as the .NET host drops a parked session's audio.
   */
  advanceDetached(): void {
    this.ticks++;
    if (!this.mediaConnected || this.paused || !this.receives) return;
    this.platformFrames++;
    this.stats.framesWhileDetached++;
    this.skipSourceFrame();
  }

  /**
   * The worker connection went away: frames on their way to it are lost, the playout queue
   * is dropped and its marks go unanswered (nobody is there to hear them), as in the .NET
   * host's BridgeSession.Detach(). Source position, send status and recording stay.
   */
  detach(): void {
    this.attached = false;
    this.stats.framesDropped += this.delayLine.length + (this.held === null ? 0 : 1);
    this.delayLine.length = 0;
    this.held = null;
    this.queue.length = 0;
    this.queueFrames = 0;
    this.playing = false;
  }

  /** A reconnected worker resumed the session under a new number; sequence numbers restart. */
  resume(session: number): void {
    this.session = session;
    this.attached = true;
    this.sequenceBase = this.platformFrames;
    this.stats.resumes++;
  }

  /** Fills the frame (and the speakers' own buffers); false when the source has no audio left. */
  private fillFrame(pcm: Uint8Array, unmixed: Uint8Array[]): boolean {
    if (this.speakers.length === 0) return this.source.read(pcm, 0);
    // Mix the speakers into the main frame (saturating), keep each one for unmixed buffers.
    const mix = new Int32Array(PCM_FRAME_BYTES / 2);
    for (const speaker of this.speakers) {
      const own = new Uint8Array(PCM_FRAME_BYTES);
      speaker.source.read(own, 0);
      const view = new DataView(own.buffer);
      for (let i = 0; i < mix.length; i++) mix[i] = (mix[i] as number) + view.getInt16(2 * i, true);
      unmixed.push(own);
    }
    const out = new DataView(pcm.buffer);
    for (let i = 0; i < mix.length; i++)
      out.setInt16(2 * i, Math.max(-32768, Math.min(32767, mix[i] as number)), true);
    return true;
  }

  private emit(writer: FrameBatchWriter, ledger: FrameLedger, frame: DelayedFrame): void {
    writer.addFrame(
      this.session,
      SOURCE_CONTEXT,
      frame.sequence,
      frame.ticks,
      frame.pcm,
      0,
      frame.silence,
      frame.speakers,
    );
    if (this.unmixedAudio && frame.speakers !== null) {
      const ids = frame.speakers;
      frame.unmixed.forEach((pcm, i) => {
        writer.addUnmixed(ids[i] ?? 0, pcm, 0, frame.ticks);
      });
    }
    // After addFrame: a split it caused settled the frames before this one, not this one.
    ledger.record(this);
  }

  /** The ledger's verdict on one frame this session wrote: its message was sent or not. */
  settleFrame(sent: boolean): void {
    if (sent) this.stats.framesSent++;
    else this.stats.framesDropped++;
  }

  /** A render frame from the bot. Returns false when it was discarded (send status not active). */
  acceptRender(buffer: Uint8Array, pcmOffset: number, nowMs: number): boolean {
    this.stats.renderFramesReceived++;
    if (!this.sendActive) {
      this.stats.renderFramesDiscarded++;
      return false;
    }
    const mark = readWatermark(buffer, pcmOffset);
    if (mark >= 0) {
      const slot = mark % ECHO_WINDOW;
      if (this.sentSeq[slot] === mark) {
        this.echo.record(nowMs - (this.sentAt[slot] as number));
        this.sentSeq[slot] = -1;
      }
    }
    const capacity = this.queuePcm.length / PCM_FRAME_BYTES;
    if (this.queueFrames === capacity) {
      this.stats.renderFramesOverflowed++;
      return true;
    }
    const offset = this.slotNext * PCM_FRAME_BYTES;
    this.slotNext = (this.slotNext + 1) % capacity;
    this.queuePcm.set(buffer.subarray(pcmOffset, pcmOffset + PCM_FRAME_BYTES), offset);
    this.queue.push({ kind: "frame", offset, atMs: nowMs });
    this.queueFrames++;
    return true;
  }

  /** PlayoutMark: reported when every frame queued before it has been played. */
  addMark(name: string): void {
    this.queue.push({ kind: "mark", name });
  }

  /** ClearPlayout: drops queued frames; returns the marks that will never play. */
  clear(): string[] {
    const cleared: string[] = [];
    for (const entry of this.queue) if (entry.kind === "mark") cleared.push(entry.name);
    this.queue.length = 0;
    this.queueFrames = 0;
    this.stats.marksCleared += cleared.length;
    return cleared;
  }

  /** Plays one frame (called every tick); returns the marks reached. */
  playTick(nowMs = performance.now(), observer: EmulatorTimingObserver | null = null): string[] {
    const reached: string[] = [];
    while (this.headIsMark()) reached.push((this.queue.shift() as { name: string }).name);
    const entry = this.queue.shift();
    if (entry && entry.kind === "frame") {
      this.queueFrames--;
      this.playing = true;
      this.stats.framesPlayed++;
      observer?.renderFramePlayed((nowMs - entry.atMs) * 1000);
      this.recording.append(this.queuePcm, entry.offset);
      this.botLevel.addFrame(this.queuePcm, entry.offset, PCM_FRAME_BYTES);
      // Marks right behind the frame just played are reached now too.
      while (this.headIsMark()) reached.push((this.queue.shift() as { name: string }).name);
    } else {
      this.botLevel.addSilence();
      if (this.playing) this.stats.underruns++;
    }
    if (this.sendActive && this.renderTargetFrames > 0) this.trimStandingBacklog(reached);
    this.stats.marksPlayed += reached.length;
    return reached;
  }

  /**
   * A backlog that stood a whole window above the target (a burst after a stall) is not
   * jitter: one frame of it is dropped per tick until it is gone, as the .NET host does.
   */
  private trimStandingBacklog(reached: string[]): void {
    const depth = this.queueFrames;
    if (depth < this.trimWindowMin) this.trimWindowMin = depth;
    if (++this.trimWindowTicks >= this.renderTrimWindowTicks) {
      if (this.trimWindowMin > this.renderTargetFrames)
        this.trimBudget = this.trimWindowMin - this.renderTargetFrames;
      this.trimWindowTicks = 0;
      this.trimWindowMin = Number.MAX_SAFE_INTEGER;
    }
    if (this.trimBudget === 0 || depth <= this.renderTargetFrames) return;
    this.trimBudget--;
    while (this.headIsMark()) reached.push((this.queue.shift() as { name: string }).name);
    if (this.queue.shift() === undefined) return;
    this.queueFrames--;
    this.stats.renderFramesTrimmed++;
    while (this.headIsMark()) reached.push((this.queue.shift() as { name: string }).name);
  }

  private headIsMark(): boolean {
    return this.queue[0]?.kind === "mark";
  }

  /** What the bot rendered and was played, as PCM16K (a copy). */
  recordedPcm(): Buffer {
    return this.recording.pcm();
  }

  snapshot(): SessionStats {
    return {
      session: this.session,
      callId: this.callId,
      mediaSessionId: this.mediaSessionId,
      attached: this.attached,
      mediaConnected: this.mediaConnected,
      sendActive: this.sendActive,
      ...this.stats,
      playoutQueueDepth: this.queueFrames,
      callerLevelDbfs: this.callerLevel.dbfs,
      botLevelDbfs: this.botLevel.dbfs,
      echo: this.echo.summary(),
    };
  }
}

/** Whether two source specs describe the same audio (a pcm source: the same buffer). */
function sameSource(a: AudioSourceSpec, b: AudioSourceSpec): boolean {
  switch (a.kind) {
    case "tone":
      return b.kind === "tone" && a.frequencyHz === b.frequencyHz && a.amplitude === b.amplitude;
    case "wav":
      return b.kind === "wav" && a.path === b.path && (a.loop ?? true) === (b.loop ?? true);
    case "pcm":
      return b.kind === "pcm" && a.pcm === b.pcm && (a.loop ?? true) === (b.loop ?? true);
    case "silence":
      return b.kind === "silence";
  }
}
