import type { IncomingMessage, ServerResponse } from "node:http";
import type { PlatformHealth, ToneName } from "../../bridge/protocol.js";
import { toneToWire } from "../../bridge/protocol.js";
import { pcm16kWavHeader } from "../../media/wav-writer.js";
import type { AudioSourceSpec } from "./audio-source.js";
import { authorizationMatches } from "./bearer-auth.js";
import {
  type Body,
  booleanField,
  field,
  isUint32,
  stringField,
  timeoutField,
  uint32,
} from "./control-fields.js";
import type { SpeakerSpec } from "./emulated-session.js";
import { checkImpairments, type Impairments, NO_IMPAIRMENTS } from "./impairments.js";
import {
  type EmulatorFault,
  MAX_OVERSIZED_FAULT_BYTES,
  type MediaPlatformEmulator,
} from "./media-platform-emulator.js";

/** The part of the emulator the control surface drives (see docs/media-emulator.md). */
type Emulator = Pick<
  MediaPlatformEmulator,
  | "stats"
  | "sessions"
  | "setHealth"
  | "injectFault"
  | "setImpairments"
  | "setSource"
  | "setSpeakers"
  | "setDominantSpeaker"
  | "sendTone"
  | "setSendStatus"
  | "setPaused"
  | "endSession"
  | "recording"
  | "connectMedia"
>;

class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const MAX_BODY_BYTES = 64 * 1024;
const HEALTH: readonly PlatformHealth[] = ["normal", "heavilyLoaded", "overloaded"];

/**
 * Small JSON control surface for tools, on the emulator's HTTP port, behind the same bearer
 * secret as the bridge. Tests use the emulator's methods directly.
 */
export function handleControlRequest(
  emulator: Emulator,
  secret: string,
  request: IncomingMessage,
  response: ServerResponse,
): void {
  route(emulator, secret, request)
    .then((result) => {
      if (result instanceof Buffer) {
        response.writeHead(200, { "content-type": "audio/wav", "content-length": result.length });
        response.end(result);
      } else {
        const body = JSON.stringify(result ?? { ok: true });
        response.writeHead(200, { "content-type": "application/json" });
        response.end(body);
      }
    })
    .catch((error: unknown) => {
      const status = error instanceof ControlError ? error.status : 400;
      const message = error instanceof Error ? error.message : String(error);
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: message }));
    });
}

async function route(emulator: Emulator, secret: string, request: IncomingMessage): Promise<unknown> {
  if (!authorizationMatches(request.headers.authorization, secret))
    throw new ControlError(401, "unauthorized");
  const url = new URL(request.url ?? "/", "http://emulator");
  const parts = url.pathname.split("/").filter(Boolean);
  if (parts[0] !== "control") throw new ControlError(404, "not found");
  const method = request.method ?? "GET";
  // The route first (404 when there is none), then its method (405).
  const getRoute =
    (parts.length === 2 && (parts[1] === "stats" || parts[1] === "sessions")) ||
    (parts.length === 4 && parts[1] === "sessions" && parts[3] === "recording.wav");
  const postRoute =
    (parts.length === 2 &&
      (parts[1] === "health" || parts[1] === "faults" || parts[1] === "connect-media")) ||
    (parts.length === 4 && parts[1] === "sessions" && !getRoute);
  if (!getRoute && !postRoute) throw new ControlError(404, "not found");
  if (getRoute !== (method === "GET") || postRoute !== (method === "POST"))
    throw new ControlError(405, `use ${getRoute ? "GET" : "POST"} for ${url.pathname}`);
  if (method === "GET" && parts.length === 2 && parts[1] === "stats") return emulator.stats();
  if (method === "GET" && parts.length === 2 && parts[1] === "sessions") return emulator.sessions();
  if (method === "GET" && parts.length === 4 && parts[1] === "sessions" && parts[3] === "recording.wav") {
    const pcm = emulator.recording(sessionKey(parts[2] as string));
    if (!pcm)
      throw new ControlError(
        404,
        "no such session, or its recording is no longer kept (only the most recently ended calls' are)",
      );
    return Buffer.concat([pcm16kWavHeader(pcm.length), pcm]);
  }
  const body = await readJson(request);
  if (parts.length === 2 && parts[1] === "health") {
    const health = field(body, "health");
    if (!HEALTH.includes(health as PlatformHealth))
      throw new Error(`health must be one of ${HEALTH.join(", ")}`);
    emulator.setHealth(health as PlatformHealth);
    return undefined;
  }
  if (parts.length === 2 && parts[1] === "faults") {
    emulator.injectFault(parseFault(body));
    return undefined;
  }
  if (parts.length === 2 && parts[1] === "connect-media") {
    const id = stringField(body, "mediaSessionId");
    const timeoutMs = timeoutField(body, "timeoutMs", 5000);
    return { connected: await emulator.connectMedia(id, timeoutMs) };
  }
  if (parts.length === 4 && parts[1] === "sessions") {
    const key = sessionKey(parts[2] as string);
    try {
      sessionAction(emulator, key, parts[3] as string, body);
    } catch (error) {
      if (error instanceof RangeError && /no media session/.test(error.message))
        throw new ControlError(404, error.message);
      throw error;
    }
    return undefined;
  }
  throw new ControlError(404, "not found");
}

function sessionAction(emulator: Emulator, key: number | string, action: string, body: Body): void {
  switch (action) {
    case "impairments": {
      for (const name of Object.keys(body)) {
        if (!Object.hasOwn(NO_IMPAIRMENTS, name))
          throw new Error(`unknown impairment ${JSON.stringify(name)} (loss, reorder, silence, jitterMs)`);
      }
      emulator.setImpairments(key, checkImpairments(body as Partial<Impairments>));
      return;
    }
    case "source":
      emulator.setSource(key, parseSource(body));
      return;
    case "speakers": {
      const list = field(body, "speakers");
      if (!Array.isArray(list) || list.length > 4) throw new Error("speakers must be an array of at most 4");
      const speakers: SpeakerSpec[] = list.map((entry: unknown, i) => {
        if (!isObject(entry)) throw new Error(`speakers[${i}] must be an object {id, source}`);
        const id = uint32(entry.id, `speakers[${i}].id`);
        if (!isObject(entry.source)) throw new Error(`speakers[${i}].source must be an object`);
        return { id, source: parseSource(entry.source) };
      });
      emulator.setSpeakers(key, speakers);
      return;
    }
    case "dominant-speaker": {
      const id = field(body, "speakerId");
      if (id !== null && !isUint32(id))
        throw new Error("speakerId must be an integer in [0, 4294967295] or null");
      emulator.setDominantSpeaker(key, id);
      return;
    }
    case "tone": {
      const tone = field(body, "tone");
      if (typeof tone !== "string") throw new Error("tone must be a string");
      toneToWire(tone as ToneName); // validates
      emulator.sendTone(key, tone as ToneName);
      return;
    }
    case "send-status":
      emulator.setSendStatus(key, booleanField(body, "active"));
      return;
    case "pause":
      emulator.setPaused(key, booleanField(body, "paused"));
      return;
    case "end":
      emulator.endSession(key, stringField(body, "reason", "ended by the emulator"));
      return;
    default:
      throw new ControlError(404, `unknown session action ${action}`);
  }
}

function sessionKey(raw: string): number | string {
  const key = decodeURIComponent(raw);
  return /^\d+$/.test(key) ? Number(key) : key;
}

function parseSource(body: Body): AudioSourceSpec {
  switch (body.kind) {
    case "tone": {
      const hz = body.frequencyHz;
      if (typeof hz !== "number" || !(hz > 0 && hz < 8000))
        throw new Error("tone source needs frequencyHz, a number in (0, 8000)");
      const amplitude = body.amplitude;
      if (amplitude !== undefined && (typeof amplitude !== "number" || !(amplitude >= 0 && amplitude <= 1)))
        throw new Error("tone amplitude must be a number in [0, 1]");
      return { kind: "tone", frequencyHz: hz, ...(amplitude === undefined ? {} : { amplitude }) };
    }
    case "wav":
      return {
        kind: "wav",
        path: stringField(body, "path"),
        loop: booleanField(body, "loop", true),
      };
    case "silence":
      return { kind: "silence" };
    default:
      throw new Error('source kind must be "tone", "wav" or "silence"');
  }
}

function parseFault(body: Body): EmulatorFault {
  switch (body.kind) {
    case "disconnect": {
      const refuse = body.refuseReconnectMs;
      if (refuse === undefined) return { kind: "disconnect" };
      if (typeof refuse !== "number" || !(refuse >= 0 && refuse <= 600_000))
        throw new Error("disconnect's refuseReconnectMs must be in [0, 600000]");
      return { kind: "disconnect", refuseReconnectMs: refuse };
    }
    case "restart": {
      const keepSessions = booleanField(body, "keepSessions");
      const downMs = body.downMs;
      if (downMs === undefined) return { kind: "restart", keepSessions };
      if (typeof downMs !== "number" || !(downMs >= 0 && downMs <= 600_000))
        throw new Error("restart's downMs must be in [0, 600000]");
      return { kind: "restart", keepSessions, downMs };
    }
    case "stall":
      if (typeof body.ms !== "number" || body.ms <= 0 || body.ms > 600_000)
        throw new Error("stall needs ms in (0, 600000]");
      return { kind: "stall", ms: body.ms };
    case "malformed": {
      const variants = ["truncated", "bad_wire_type", "missing_body", "bad_frame", "text"] as const;
      if (!variants.includes(body.variant as (typeof variants)[number])) {
        throw new Error(`malformed needs variant: ${variants.join(", ")}`);
      }
      return { kind: "malformed", variant: body.variant as (typeof variants)[number] };
    }
    case "oversized": {
      const bytes = body.bytes;
      if (bytes === undefined) return { kind: "oversized" };
      // Bounded: the fault builds a message of that size in memory.
      if (
        typeof bytes !== "number" ||
        !Number.isInteger(bytes) ||
        bytes < 1 ||
        bytes > MAX_OVERSIZED_FAULT_BYTES
      )
        throw new Error(`oversized bytes must be an integer in [1, ${MAX_OVERSIZED_FAULT_BYTES}]`);
      return { kind: "oversized", bytes };
    }
    default:
      throw new Error('fault kind must be "disconnect", "restart", "stall", "malformed" or "oversized"');
  }
}

function isObject(value: unknown): value is Body {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

async function readJson(request: IncomingMessage): Promise<Body> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ControlError(413, `body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new Error("body is not JSON");
  }
  if (!isObject(parsed)) throw new Error("body must be a JSON object");
  return parsed;
}
