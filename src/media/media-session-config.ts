/**
 * The media session configuration that Graph's appHostedMediaConfig.blob carries: which media
 * processor (mpUri) hosts the call's media and which render/source contexts it opened.
 * Serialized with the key order the media platform itself uses. A blob the platform serialized
 * itself is only parsed here to check it: the answer sends the platform's string unchanged
 * (bridge-media-session-provider.ts), since re-serializing changes its bytes.
 */

export const SUPPORTED_AUDIO_FORMAT = "Pcm16K";

export interface MediaSessionConfiguration {
  mpUri: string;
  audioRenderContexts: string[] | null;
  videoRenderContexts: string[] | null;
  audioSourceContexts: string[] | null;
  videoSourceContexts: string[] | null;
  dataRenderContexts: string[] | null;
  dataSourceContexts: string[] | null;
  supportedAudioFormat: string;
  videoSinkEncodingFormats: string[] | null;
  mpMediaSessionId: string;
  regionAffinity: string | null;
  skypeMediaBotsVersion: string;
  mediaStackVersion: string;
  mpVersion: string;
  callId: string;
  /** Properties this code does not know, kept so they survive a parse/serialize round trip. */
  extra?: Record<string, unknown>;
}

/** Key order of the platform's own serialization (see shared/seed/call-answer.md). */
const KEY_ORDER = [
  "mpUri",
  "audioRenderContexts",
  "videoRenderContexts",
  "audioSourceContexts",
  "videoSourceContexts",
  "dataRenderContexts",
  "dataSourceContexts",
  "supportedAudioFormat",
  "videoSinkEncodingFormats",
  "mpMediaSessionId",
  "regionAffinity",
  "skypeMediaBotsVersion",
  "mediaStackVersion",
  "mpVersion",
  "callId",
] as const satisfies readonly (keyof MediaSessionConfiguration)[];

const CONTEXT_KEYS = [
  "audioRenderContexts",
  "videoRenderContexts",
  "audioSourceContexts",
  "videoSourceContexts",
  "dataRenderContexts",
  "dataSourceContexts",
] as const;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class MediaBlobError extends Error {
  constructor(message: string) {
    super(`invalid media configuration blob: ${message}`);
    this.name = "MediaBlobError";
  }
}

/** `net.tcp://{fqdn}:{port}/MediaProcessor`, the address Graph's media processor dials. */
export function mediaProcessorUri(fqdn: string, publicPort: number): string {
  return `net.tcp://${fqdn}:${publicPort}/MediaProcessor`;
}

/** What a media session produced: enough to build the configuration for one call. */
export interface MediaSessionParts {
  callId: string;
  mediaSessionId: string;
  mpUri: string;
  audioRenderContextId: string;
  audioSourceContextId: string;
  videoRenderContextIds?: string[];
  videoSourceContextIds?: string[];
  dataRenderContextIds?: string[] | null;
  dataSourceContextIds?: string[] | null;
  regionAffinity?: string | null;
  versions: { skypeMediaBotsVersion: string; mediaStackVersion: string; mpVersion: string };
}

export function buildMediaSessionConfiguration(parts: MediaSessionParts): MediaSessionConfiguration {
  const config: MediaSessionConfiguration = {
    mpUri: parts.mpUri,
    audioRenderContexts: [parts.audioRenderContextId],
    videoRenderContexts: parts.videoRenderContextIds ?? [],
    audioSourceContexts: [parts.audioSourceContextId],
    videoSourceContexts: parts.videoSourceContextIds ?? [],
    dataRenderContexts: parts.dataRenderContextIds ?? null,
    dataSourceContexts: parts.dataSourceContextIds ?? null,
    supportedAudioFormat: SUPPORTED_AUDIO_FORMAT,
    videoSinkEncodingFormats: [],
    mpMediaSessionId: parts.mediaSessionId,
    regionAffinity: parts.regionAffinity ?? null,
    skypeMediaBotsVersion: parts.versions.skypeMediaBotsVersion,
    mediaStackVersion: parts.versions.mediaStackVersion,
    mpVersion: parts.versions.mpVersion,
    callId: parts.callId,
  };
  validate(config);
  return config;
}

/** The blob string for appHostedMediaConfig. */
export function serializeMediaBlob(config: MediaSessionConfiguration): string {
  validate(config);
  const ordered: Record<string, unknown> = {};
  for (const key of KEY_ORDER) ordered[key] = config[key];
  for (const [key, value] of Object.entries(config.extra ?? {})) {
    if (!(key in ordered)) ordered[key] = value;
  }
  return JSON.stringify(ordered);
}

/** Parses and validates a blob string; throws MediaBlobError naming the bad field. */
export function parseMediaBlob(blob: string): MediaSessionConfiguration {
  let parsed: unknown;
  try {
    parsed = JSON.parse(blob);
  } catch (error) {
    throw new MediaBlobError(`not JSON (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new MediaBlobError("not a JSON object");
  }
  const source = parsed as Record<string, unknown>;
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    if (!(KEY_ORDER as readonly string[]).includes(key)) extra[key] = value;
  }
  const config = {
    ...Object.fromEntries(KEY_ORDER.map((key) => [key, source[key] === undefined ? null : source[key]])),
    ...(Object.keys(extra).length > 0 ? { extra } : {}),
  } as unknown as MediaSessionConfiguration;
  validate(config);
  return config;
}

function validate(config: MediaSessionConfiguration): void {
  if (
    typeof config.mpUri !== "string" ||
    !/^net\.tcp:\/\/[^/:]+:\d{1,5}\/MediaProcessor$/.test(config.mpUri)
  ) {
    throw new MediaBlobError(
      `mpUri must be net.tcp://{fqdn}:{port}/MediaProcessor, got ${JSON.stringify(config.mpUri)}`,
    );
  }
  for (const key of CONTEXT_KEYS) {
    const value = config[key];
    if (value === null) continue;
    if (!Array.isArray(value) || !value.every((id) => typeof id === "string" && GUID.test(id))) {
      throw new MediaBlobError(`${key} must be null or an array of GUID strings`);
    }
  }
  if (!config.audioRenderContexts?.length && !config.audioSourceContexts?.length) {
    throw new MediaBlobError("an audio session needs at least one audio render or source context");
  }
  if (config.supportedAudioFormat !== SUPPORTED_AUDIO_FORMAT) {
    throw new MediaBlobError(
      `supportedAudioFormat must be ${SUPPORTED_AUDIO_FORMAT}, got ${JSON.stringify(config.supportedAudioFormat)}`,
    );
  }
  if (config.videoSinkEncodingFormats !== null && !Array.isArray(config.videoSinkEncodingFormats)) {
    throw new MediaBlobError("videoSinkEncodingFormats must be null or an array");
  }
  if (typeof config.mpMediaSessionId !== "string" || !GUID.test(config.mpMediaSessionId)) {
    throw new MediaBlobError("mpMediaSessionId must be a GUID");
  }
  if (config.regionAffinity !== null && typeof config.regionAffinity !== "string") {
    throw new MediaBlobError("regionAffinity must be null or a string");
  }
  for (const key of ["skypeMediaBotsVersion", "mediaStackVersion", "mpVersion", "callId"] as const) {
    if (typeof config[key] !== "string" || config[key] === "")
      throw new MediaBlobError(`${key} must be a non-empty string`);
  }
}
