import type { DtmfTone } from "../media/bot-api.js";
import { teamsbot } from "./generated/media_bridge.js";
import { int64ToBigInt } from "./int64-parts.js";

/** The generated protocol namespace (teamsbot.bridge.v1), from native-bridge/proto/media_bridge.proto. */
export const v1 = teamsbot.bridge.v1;
/** The generated message and enum types: pb.Envelope, pb.IEnvelope, pb.PlatformHealth, ... */
export import pb = teamsbot.bridge.v1;

/** Major protocol version this code speaks (Hello/HelloAck protocol_version). */
export const PROTOCOL_VERSION = v1.ProtocolVersion.PROTOCOL_VERSION_CURRENT as number;
/** 20 ms of PCM16K: 320 samples of 16-bit little-endian mono. */
export const PCM_FRAME_BYTES = 640;
export const PCM_FRAME_SAMPLES = 320;
/** 20 ms in the platform's 100-ns ticks. */
export const FRAME_TICKS = 200_000;
export const FRAME_MS = 20;
/** The platform hands at most four unmixed speaker buffers per frame. */
export const MAX_UNMIXED_BUFFERS = 4;
/** DominantSpeakerChanged.speaker_id meaning "nobody". */
export const NO_SPEAKER = 0xffffffff;
/** Session 0 names no session: hosts number a connection's sessions from 1. */
export const NO_SESSION = 0;
/**
 * Largest message a receiver accepts by default (both hosts and the worker): 1 MiB. Senders
 * keep FrameBatch messages under MAX_FRAME_BATCH_BYTES, so this leaves room for other
 * implementations' framing without letting one message grow without bound.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
/**
 * Protocol rule (see the proto header): a FrameBatch message is at most 256 KiB; a sender
 * splits a tick's frames into several FrameBatch messages (about 390 source frames or 400
 * render frames each; 1000 sessions take three).
 */
export const MAX_FRAME_BATCH_BYTES = 256 * 1024;

/** Capabilities announced in Hello/HelloAck (rule 6). */
export const CAPABILITY_UNMIXED_AUDIO = "unmixed-audio";
export const CAPABILITY_PLAYOUT_MARKS = "playout-marks";

/** Envelope.body case names, as the generated code spells them. */
export type EnvelopeBody = NonNullable<teamsbot.bridge.v1.Envelope["body"]>;

/** Envelope.body field numbers (from the schema). */
export const BODY_FIELD = {
  hello: 2,
  helloAck: 3,
  health: 4,
  createSession: 5,
  sessionCreated: 6,
  closeSession: 7,
  sessionClosed: 8,
  frames: 9,
  sendStatus: 10,
  dominantSpeaker: 11,
  tone: 12,
  mark: 13,
  markPlayed: 14,
  clear: 15,
  ping: 16,
  pong: 17,
  error: 18,
} as const satisfies Record<EnvelopeBody, number>;

export type Direction = "sendRecv" | "recvOnly" | "sendOnly";

export function directionToWire(direction: Direction): pb.AudioDirection {
  switch (direction) {
    case "sendRecv":
      return v1.AudioDirection.AUDIO_DIRECTION_SEND_RECV;
    case "recvOnly":
      return v1.AudioDirection.AUDIO_DIRECTION_RECV_ONLY;
    case "sendOnly":
      return v1.AudioDirection.AUDIO_DIRECTION_SEND_ONLY;
  }
}

/** Unknown or unspecified values map to undefined (rule 4: ignore, carry on). */
export function directionFromWire(value: number | null | undefined): Direction | undefined {
  switch (value) {
    case v1.AudioDirection.AUDIO_DIRECTION_SEND_RECV:
      return "sendRecv";
    case v1.AudioDirection.AUDIO_DIRECTION_RECV_ONLY:
      return "recvOnly";
    case v1.AudioDirection.AUDIO_DIRECTION_SEND_ONLY:
      return "sendOnly";
    default:
      return undefined;
  }
}

export type PlatformHealth = "unspecified" | "normal" | "heavilyLoaded" | "overloaded";

export function healthFromWire(value: number | null | undefined): PlatformHealth {
  switch (value) {
    case v1.PlatformHealth.PLATFORM_HEALTH_NORMAL:
      return "normal";
    case v1.PlatformHealth.PLATFORM_HEALTH_HEAVILY_LOADED:
      return "heavilyLoaded";
    case v1.PlatformHealth.PLATFORM_HEALTH_OVERLOADED:
      return "overloaded";
    default:
      return "unspecified";
  }
}

export function healthToWire(health: PlatformHealth): pb.PlatformHealth {
  switch (health) {
    case "normal":
      return v1.PlatformHealth.PLATFORM_HEALTH_NORMAL;
    case "heavilyLoaded":
      return v1.PlatformHealth.PLATFORM_HEALTH_HEAVILY_LOADED;
    case "overloaded":
      return v1.PlatformHealth.PLATFORM_HEALTH_OVERLOADED;
    case "unspecified":
      return v1.PlatformHealth.PLATFORM_HEALTH_UNSPECIFIED;
  }
}

/** DTMF tones as Graph's toneInfo spells them without the "tone" prefix for digits. */
/** The media platform's tones, named as handlers get them (see DtmfTone). */
export type ToneName = DtmfTone;

/** Index = wire value - 1 (TONE_0 = 1 ... TONE_FLASH = 17). */
const TONES: readonly ToneName[] = [
  "0",
  "1",
  "2",
  "3",
  "4",
  "5",
  "6",
  "7",
  "8",
  "9",
  "star",
  "pound",
  "a",
  "b",
  "c",
  "d",
  "flash",
];

/**
 * A Graph toneInfo tone in the vocabulary handlers see for media tones: Graph spells digits
 * "tone0".."tone9" (any case); "star", "pound", "a".."d", "flash" are the same. Anything else
 * (not in Graph's tone enum) is undefined: the caller ignores and counts it.
 */
export function toneFromGraphName(tone: string): DtmfTone | undefined {
  const lower = tone.trim().toLowerCase();
  const name = /^tone\d$/.test(lower) ? lower.slice(4) : lower;
  return (TONES as readonly string[]).includes(name) ? (name as DtmfTone) : undefined;
}

export function toneFromWire(value: number | null | undefined): ToneName | undefined {
  if (typeof value !== "number") return undefined;
  return TONES[value - 1];
}

export function toneToWire(tone: ToneName): pb.Tone {
  const index = TONES.indexOf(tone);
  if (index < 0) throw new RangeError(`unknown tone ${JSON.stringify(tone)}`);
  return (index + 1) as pb.Tone;
}

export type SendStatus = "active" | "inactive" | "unspecified";

export function sendStatusFromWire(value: number | null | undefined): SendStatus {
  if (value === v1.SendStatus.SEND_STATUS_ACTIVE) return "active";
  if (value === v1.SendStatus.SEND_STATUS_INACTIVE) return "inactive";
  return "unspecified";
}

/** int64/uint64 fields decode as Long (when long.js is present) or number; numbers everywhere here. */
export function longToNumber(value: number | { toNumber(): number } | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === "number" ? value : value.toNumber();
}

/** An int64 field of a generated message exactly (a Long's halves; a plain number as it is). */
export function longToBigInt(value: number | { high: number; low: number } | null | undefined): bigint {
  if (value === null || value === undefined) return 0n;
  return typeof value === "number" ? BigInt(value) : int64ToBigInt(value.high, value.low);
}

/** Microseconds on a monotonic-ish clock comparable across processes on one host (wall clock). */
export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** "SESSION_LIMIT" for ERROR_CODE_SESSION_LIMIT; "UNSPECIFIED" for unknown values (rule 4). */
export function errorCodeName(code: number | null | undefined): string {
  const name = (v1.ErrorCode as unknown as Record<number, string | undefined>)[code ?? 0];
  return typeof name === "string" ? name.replace(/^ERROR_CODE_/, "") : "UNSPECIFIED";
}
