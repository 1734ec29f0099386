/**
 * The public API for bot authors: a per-call handler loaded inside the media worker.
 *
 * A handler module exports a factory (default export, or the export named in the spec),
 * best made with `defineHandler` so its options are validated once when the worker starts:
 *
 *   export default defineHandler({ options: parseMyOptions, create(call, options) { ... } });
 *
 * Every callback runs on the media worker's event loop, between 20 ms ticks: it must return
 * fast and must not block. Frames passed to `onAudio` are reused: copy what you keep.
 * See docs/media-api.md.
 */
import type { Logger } from "../log/logger.js";
import type { CallTarget } from "./call-control-request.js";

/** One unmixed per-speaker buffer received with a frame (unmixed audio sessions only). */
export interface UnmixedSpeakerAudio {
  /** Media source id of the speaker (a participant's mediaStreams[].sourceId). */
  readonly speakerId: number;
  /** 320 samples; a view that is reused after the callback returns. */
  readonly samples: Int16Array;
  /** The same 640 bytes, little-endian. */
  readonly pcm: Uint8Array;
  /** Sender's capture time, 100-ns ticks; 0 while the platform does not know it. */
  readonly originalSenderTimestampTicks: number;
}

/** 20 ms of received (mixed) call audio with its metadata. Valid only during the callback. */
export interface ReceivedAudioFrame {
  /** Per-session frame number from the media platform (+1 every 20 ms, wraps at 2^32). */
  readonly sequence: number;
  /** Media platform clock, 100-ns ticks (a double: precise to about 13 µs at today's values). */
  readonly timestampTicks: number;
  /** Generated silence (muted peers) or concealment of a lost frame. */
  readonly isSilence: boolean;
  /** True when this frame was lost on the way and is silence standing in for it. */
  readonly concealed: boolean;
  /** 320 samples of PCM16K mono; reused after the callback returns. */
  readonly samples: Int16Array;
  /** The same 640 bytes, little-endian. */
  readonly pcm: Uint8Array;
  /** Source ids of the active speakers (the bot excluded). */
  readonly activeSpeakers: readonly number[];
  /** Up to four per-speaker buffers; empty unless the session asked for unmixed audio. */
  readonly unmixed: readonly UnmixedSpeakerAudio[];
}

/** Which identity Graph gives a participant (the identitySet member present). */
export type ParticipantKind = "user" | "guest" | "application" | "phone" | "device" | "unknown";

/**
 * A participant's role in the call: the bot itself ("self": the call's myParticipantId, or an
 * application identity with the bot's app id), the meeting's organizer (its user id is
 * meetingInfo.organizer's), or anyone else.
 */
export type ParticipantRole = "self" | "organizer" | "attendee";

/** A participant of the call as the Graph roster describes it, keyed by media source ids. */
export interface RosterParticipant {
  /** Graph participant id. */
  id: string;
  displayName?: string;
  /** AAD user id, when Graph gives one. */
  userId?: string;
  kind: ParticipantKind;
  role: ParticipantRole;
  /** Audio source ids of this participant (what `activeSpeakers` and `speakerId` carry). */
  audioSourceIds: number[];
  isMuted: boolean;
  isInLobby: boolean;
  /** removedState.reason, when Graph says why the participant was removed. */
  removedReason?: string;
}

/**
 * A DTMF tone in the one vocabulary handlers get from both origins: the media platform's
 * (TONE_0..TONE_FLASH in media_bridge.proto) and Graph's toneInfo (`tone0`..`tone9` arrive as
 * "0".."9"; `star`, `pound`, `a`..`d`, `flash` as they are).
 */
export type DtmfTone =
  | "0"
  | "1"
  | "2"
  | "3"
  | "4"
  | "5"
  | "6"
  | "7"
  | "8"
  | "9"
  | "star"
  | "pound"
  | "a"
  | "b"
  | "c"
  | "d"
  | "flash";

/** PCM16K mono audio: samples, or their bytes little-endian (an even count). */
export type Pcm = Int16Array | Uint8Array;

export interface PlayOptions {
  /** Name of a mark reported through `onMarkPlayed` when the last frame of the audio was sent. */
  mark?: string;
  /** Start over at the end until `clear()` or the end of the call. */
  loop?: boolean;
}

/** Options of `stream()`: a mark after its end, as for `play()`. */
export interface StreamOptions {
  /** Name of a mark reported through `onMarkPlayed` when the stream's last frame was sent. */
  mark?: string;
}

export interface PlaybackResult {
  /** Frames the file, buffer or stream contributed to the playout queue. */
  framesQueued: number;
  /** False when `clear()` or the end of the call stopped it before its end. */
  completed: boolean;
}

export interface RecordOptions {
  /** Also write one file per speaker (needs a session created with unmixed audio). */
  unmixed?: boolean;
}

export interface RecordingInfo {
  /** The mixed-stream WAV file. */
  mixedPath: string;
  /** Per-speaker files written so far, by speaker (source) id. */
  speakerPaths: Map<number, string>;
}

/** What a handler can do with its call. */
export interface MediaCall {
  readonly callId: string;
  readonly mediaSessionId: string;
  /** Logger carrying the call id. */
  readonly log: Logger;
  /** The platform accepts audio (send status Active). Audio queued before it waits, up to the queue bound. */
  readonly sendActive: boolean;
  /** Frames waiting in the playout queue (each 20 ms). */
  readonly queuedFrames: number;
  /**
   * Queue PCM16K mono audio now, as far as the playout queue (10 frames = 200 ms by default)
   * has room: whole frames are queued, a remainder waits for more; the last byte of an odd
   * count is dropped, counted in media_handler_errors_total. Frames that do not fit are
   * DROPPED: returned (0 = all queued), counted in `media_frames_dropped_total{reason=
   * "playout_overflow"}` (`"not_active"` before send status Active) and logged at warn (at most
   * once per 10 s per call). For audio longer than the queue's room (a prompt, a generated
   * tone) use `play(pcm)` or `stream()`, which wait for room instead.
   */
  send(pcm: Pcm): number;
  /**
   * Queue live PCM16K audio (an echo, audio relayed or produced as it is heard; what the
   * built-in echo uses): like `send`, but latency stays bounded instead of audio being kept.
   * A full queue drops its oldest live frame for the new one. A live backlog that stands above
   * the call's live target for a whole 200 ms window (e.g. after a stall) is trimmed from its
   * oldest frames down to the target: two frames or more above it, or one frame when that
   * frame is quiet; after a clock stall within two ticks. The live target adapts per call from
   * 0 up to BOT_MEDIA_LIVE_TARGET_FRAMES (default 2 = 40 ms): a frame up per underrun or
   * trimmed burst, a frame down after 10 s with neither. Live frames that waited longer than
   * the queue holds (send status inactive, host away) are dropped as stale. All of these count
   * as `media_frames_dropped_total{reason="latency_trim"}` (docs/media-api.md, "Live audio").
   * Buffered audio queued ahead is never trimmed. Returns the frames not queued because the
   * queue was full of buffered audio (counted and logged as for `send`).
   */
  sendLive(pcm: Pcm): number;
  /**
   * Play a 16 kHz mono 16-bit WAV file, or PCM16K audio of any length given as samples or
   * bytes (copied at the call: the buffer may be reused at once). Played through the playout
   * queue as room frees up, never dropped for lack of room; resolves when it has been queued
   * completely or stopped (by `clear()`, also one made while a file was still loading, or the
   * end of the call). Rejects with WavFormatError for a missing, truncated or unsuitable file:
   * handle it. A PCM buffer of an odd byte count loses its last byte (counted as a handler error).
   */
  play(audio: string | Pcm, options?: PlayOptions): Promise<PlaybackResult>;
  /**
   * Play PCM16K audio as a source produces it (a TTS engine, a file read in chunks): chunks
   * of any length are pulled from `source` only when the playout queue has room, so a fast
   * source is held back (back-pressure) and nothing is dropped; a slow one leaves gaps of
   * silence. Plays after the playbacks already started (a file joins once it is loaded).
   * Resolves when the source has ended and all of it was queued, or when `clear()` or the end
   * of the call stopped it (`completed: false`; the source's `return()` is called); rejects
   * when the source throws or gives a chunk that is not PCM.
   */
  stream(source: AsyncIterable<Pcm> | Iterable<Pcm>, options?: StreamOptions): Promise<PlaybackResult>;
  /** Barge-in: drop every queued frame now, stop playbacks, tell the media host to flush. */
  clear(): void;
  /** Report `onMarkPlayed(name, true)` once everything queued before it has been sent. */
  mark(name: string): void;
  /**
   * Record the call as WAV. Waits until the call is established (Graph refuses recording status
   * before), asks signaling to set the call's recording status to `recording` and stores
   * nothing until Graph accepted it; rejects when it was refused, when the call ended first,
   * or when `stopRecording()` was called before it was recording.
   */
  record(options?: RecordOptions): Promise<RecordingInfo>;
  /**
   * Finalize the recording files (valid headers) and report `notRecording`. During a
   * `record()` still starting, that `record()` undoes what it did and rejects; this resolves
   * once it has.
   */
  stopRecording(): Promise<void>;
  /** The latest roster (Graph's deltas applied in order), the bot's own participant included. */
  readonly participants: readonly RosterParticipant[];
  /** The participant a media source id belongs to, from the latest roster. */
  participantForSource(sourceId: number): RosterParticipant | undefined;
  /**
   * End the call: signaling hangs it up through Graph. Returns at once; media keeps flowing
   * until the call has ended, then `onEnd` runs. Only the first call counts; after the end
   * it does nothing. `reason` (default "hung up by the bot", at most 200 characters) is logged.
   */
  hangUp(reason?: string): void;
  /**
   * Call control, carried out by signaling through Graph (docs/media-api.md, "Call control").
   * Each resolves once Graph accepted it and rejects with CallControlRefusedError (its
   * `reason`, and Graph's `status`/`graphCode` when Graph refused) when Graph refused it, the
   * target is wrong, or the call ended first. Mute/unmute the bot itself:
   */
  mute(): Promise<void>;
  unmute(): Promise<void>;
  /** Transfer the call (peer-to-peer) to a user; the call then ends (200/7015) and `onEnd` runs. */
  transfer(target: CallTarget): Promise<void>;
  /** Invite users into the call; they appear in the roster when they join. */
  invite(targets: CallTarget | readonly CallTarget[]): Promise<void>;
}

/**
 * Callbacks of one handler for one call; all optional. A callback may be async: a promise it
 * returns that rejects is counted and logged like a throw (the call goes on).
 */
export interface CallHandler {
  onAudio?(frame: ReceivedAudioFrame): void;
  /** DTMF from the media platform ("media") or from a Graph notification ("graph"). */
  onTone?(tone: DtmfTone, origin: "media" | "graph"): void;
  /** Dominant speaker changed; null = nobody. */
  onDominantSpeaker?(sourceId: number | null, participant: RosterParticipant | undefined): void;
  onRoster?(participants: readonly RosterParticipant[]): void;
  onSendStatus?(active: boolean): void;
  /** A mark was reached (played = true) or cleared before it was reached (played = false). */
  onMarkPlayed?(name: string, played: boolean): void;
  /**
   * The call's media ended; finish quickly (the worker waits for the returned promise, bounded).
   * For a call the bot placed, `reason` is the end reason word (CallEndReason: "meetingEnded",
   * "lobbyTimeout"...); for an answered call, a short description of why it ended.
   */
  onEnd?(reason: string): void | Promise<void>;
  /**
   * Call events of a call the bot placed (a meeting join or a call to a user): `lobby`,
   * `admitted`, `established`, `ended` (see CallEvent). Answered calls get none.
   */
  onCallEvent?(event: CallEvent): void;
}

/**
 * Why a placed call ended, from Graph's resultInfo (docs/meetings.md has the mapping):
 * hungUp (the bot), remoteEnded (the other party), meetingEnded, removed (from the meeting),
 * lobbyTimeout (never admitted), declined (the callee), busy (the callee), unreachable (the
 * callee), transferred (200/7015: the bot transferred it and the target took it), failed
 * (anything else).
 */
export type CallEndReason =
  | "hungUp"
  | "remoteEnded"
  | "meetingEnded"
  | "removed"
  | "lobbyTimeout"
  | "declined"
  | "busy"
  | "unreachable"
  | "transferred"
  | "failed";

/** What happens to a call the bot placed, in order: [lobby, admitted,] established, ended. */
export type CallEvent =
  /** The bot waits in the meeting's lobby (the call stays establishing). */
  | { type: "lobby" }
  /** Someone admitted the bot from the lobby. */
  | { type: "admitted" }
  | { type: "established" }
  | {
      type: "ended";
      reason: CallEndReason;
      resultInfo?: { code: number; subcode: number; message?: string };
    };

/**
 * Creates one call's handler, once per call, with the handler's options (from its spec, or
 * BOT_MEDIA_HANDLER_OPTIONS). `CallHandlerFactory<MyOptions>` types them; without a type
 * argument any options parameter is accepted, so `(call, options: MyOptions) => ...` needs no
 * cast. Prefer `defineHandler`, which also validates the options once at worker start.
 */
// biome-ignore lint/suspicious/noExplicitAny: a factory with any options type must be assignable to the bare type
export type CallHandlerFactory<Options = any> = (
  call: MediaCall,
  options: Options,
) => CallHandler | Promise<CallHandler>;

/**
 * Which handlers the worker creates for each call, in order (each frame goes to all of them).
 * `module` is an absolute file path or file: URL of an ES module exporting a CallHandlerFactory
 * (or a handler made with `defineHandler`, whose options are checked when the worker starts).
 */
export type HandlerSpec =
  | { builtin: "echo"; options?: Record<string, never> }
  | { builtin: "player"; options: { wavPath: string; mark?: string; loop?: boolean } }
  | { builtin: "recorder"; options?: { unmixed?: boolean } }
  | { module: string; export?: string; options?: unknown };
