import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { MEDIA_THREAD_PRIORITIES, type MediaThreadPriority } from "../media/thread-priority.js";
import { ConfigError } from "./config-error.js";
import {
  isDomainName,
  isGuid,
  type RawConfig,
  readBoolean,
  readInteger,
  readList,
  readString,
  readUrl,
  requireString,
} from "./env-readers.js";
import { HANDLER_OPTIONS_VARIABLE, readHandlerOptions } from "./handler-options.js";
import { REDIRECT_WHEN_BUSY_VARIABLE, type RedirectTarget, readRedirectTarget } from "./redirect-target.js";
import {
  readServiceHostedSettings,
  SERVICE_HOSTED_OPTIONS_VARIABLE,
  type ServiceHostedSettings,
} from "./service-hosted-settings.js";

/** How the bot proves its identity to Azure AD: a client secret, or a certificate. */
export type AppCredential =
  | { kind: "secret"; secret: string }
  | { kind: "certificate"; privateKeyPath: string; thumbprint: string; certificatePath?: string };

export interface GraphClientSettings {
  /** Timeout of one HTTP request to Graph. */
  requestTimeoutMs: number;
  /** Attempts per logical request, first included (429/503/504 are retried). */
  maxAttempts: number;
  /** No retry starts after this much time has passed since the first attempt. */
  overallDeadlineMs: number;
}

export interface MediaSettings {
  /** Public FQDN of the media host; must match its certificate. Goes into the blob's mpUri. */
  fqdn: string;
  /** Public TCP port of the media host instance (InstancePublicPort). */
  publicPort: number;
  /** Ask the platform for unmixed per-speaker meeting audio. */
  unmixedAudio: boolean;
  /** Where recordings are written. */
  recordingsDir: string;
  /**
   * What runs in the media worker for every call, in order: "echo", "recorder",
   * "recorder:unmixed", "player:<wav path>", "module:<path>[#export]" (see docs/media-api.md).
   */
  handlers?: string[];
  /**
   * Options of each `handlers` entry, by position (undefined = none), from
   * BOT_MEDIA_HANDLER_OPTIONS (see handler-options.ts); checked by each handler at worker start.
   */
  handlerOptions?: unknown[];
  /** How the media thread is scheduled (see src/media/thread-priority.ts). Default realtime. */
  threadPriority?: MediaThreadPriority;
  /** The media timing of every call, in 20 ms frames (see readMediaTiming). */
  timing?: MediaTiming;
}

/** How much audio the media worker holds, in 20 ms frames: latency traded against robustness. */
export interface MediaTiming {
  /** Bound of each call's playout queue (BOT_MEDIA_PLAYOUT_QUEUE_FRAMES, default 10 = 200 ms). */
  playoutQueueFrames: number;
  /**
   * Depth live audio (the echo, `sendLive`) is trimmed back to (BOT_MEDIA_LIVE_TARGET_FRAMES,
   * default 0: live audio is sent as soon as it is queued, nothing needs to stand).
   */
  livePlayoutTargetFrames: number;
  /**
   * The live target adapts per call between 0 and livePlayoutTargetFrames: up a frame when live
   * audio runs out or a burst is trimmed, down after 10 s without (BOT_MEDIA_LIVE_TARGET_ADAPTIVE,
   * default true).
   */
  adaptiveLiveTarget: boolean;
  /** Frames a missing received frame is waited for (BOT_MEDIA_JITTER_DEPTH_FRAMES, default 3 = 60 ms). */
  jitterDepthFrames: number;
}

export interface BridgeSettings {
  /** ws:// URL of the media host's bridge endpoint (loopback). */
  url: string;
  /** Shared secret checked at WebSocket upgrade. */
  secret: string;
  /** Calls whose media host disconnects are ended after this grace period unless it returns. */
  reconnectGraceMs: number;
}

/** The operational listener: /healthz and /metrics, kept off the public notification listener. */
export interface OpsListenerSettings {
  /** Listen address; loopback by default, since the endpoints have no authentication. */
  host: string;
  port: number;
}

export interface BotConfig {
  appId: string;
  credential: AppCredential;
  tenantId: string;
  /** https base URL that Graph calls back. */
  publicUrl: string;
  /** `${publicUrl}/api/calls`. */
  callbackUrl: string;
  /** Listen address and port of the public notification endpoint (`/api/calls` only). */
  host: string;
  port: number;
  tls?: { certPath: string; keyPath: string };
  ops: OpsListenerSettings;
  graphUrl: string;
  authorityUrl: string;
  notificationOpenIdUrl: string;
  /** Extra CA certificate (PEM path) trusted for outbound HTTPS, e.g. the emulator's. */
  caCertPath?: string;
  maxCalls: number;
  /**
   * How long an incoming call arriving while the media host is disconnected is held for it to
   * come back (then answered, else rejected `busy`); 0 rejects such a call at once. The hold
   * also ends MEDIA_HOST_WAIT_RESERVE_MS before Graph's answer deadline.
   */
  mediaHostWaitMs: number;
  /** Tenants allowed to call the bot, and whose meetings and users it may call; empty = any tenant. */
  allowedTenants: string[];
  /** BOT_REDIRECT_WHEN_BUSY: a call arriving at capacity is redirected here instead of rejected busy. */
  redirectWhenBusy?: RedirectTarget;
  /**
   * A call the bot placed that is not established this long after Graph accepted it (time in
   * the lobby not counted) is hung up (BOT_JOIN_TIMEOUT_MS, default 60000).
   */
  joinTimeoutMs: number;
  /** A meeting join waiting in the lobby longer than this is hung up (BOT_LOBBY_TIMEOUT_MS, default 300000). */
  lobbyTimeoutMs: number;
  keepAliveIntervalMs: number;
  /** Clock skew accepted on notification token nbf/exp. */
  tokenClockSkewSeconds: number;
  /** Maximum body size of a notification request. */
  notificationBodyLimitBytes: number;
  graph: GraphClientSettings;
  media: MediaSettings;
  bridge: BridgeSettings;
  logLevel: string;
  /**
   * Bearer token of the calls API on the operational listener (BOT_CONTROL_TOKEN, 32+ characters;
   * docs/calls-api.md). Absent: the API is disabled. A secret: never logged.
   */
  controlToken?: string;
  /**
   * Stop gracefully when stdin ends (BOT_STOP_ON_STDIN_END): the stop request of a supervisor
   * that cannot send SIGTERM, such as the Windows service wrapper (TeamsMediaBot.Service).
   */
  stopOnStdinEnd: boolean;
  /** The service-hosted handler (BOT_SERVICE_HOSTED_HANDLER); none = every call app-hosted. */
  serviceHosted?: ServiceHostedSettings;
}

export const DEFAULTS = {
  port: 9441,
  host: "0.0.0.0",
  opsPort: 9443,
  opsHost: "127.0.0.1",
  graphUrl: "https://graph.microsoft.com/v1.0",
  authorityUrl: "https://login.microsoftonline.com/{tenant}",
  notificationOpenIdUrl: "https://api.aps.skype.com/v1/.well-known/OpenIdConfiguration",
  maxCalls: 1000,
  keepAliveIntervalSeconds: 15 * 60,
  tokenClockSkewSeconds: 120,
  notificationBodyLimitBytes: 256 * 1024,
  requestTimeoutMs: 5000,
  maxAttempts: 4,
  overallDeadlineMs: 12_000,
  bridgeUrl: "ws://127.0.0.1:9442/bridge",
  reconnectGraceMs: 5000,
  /** Longest hold of an incoming call for the media host: Graph's 15 s less the reserve below. */
  maxMediaHostWaitMs: 10_000,
  recordingsDir: "recordings",
  playoutQueueFrames: 10,
  livePlayoutTargetFrames: 0,
  adaptiveLiveTarget: true,
  jitterDepthFrames: 3,
  joinTimeoutMs: 60_000,
  lobbyTimeoutMs: 300_000,
} as const;

/**
 * Environment variables merged over the JSON file named by BOT_CONFIG_FILE (env wins). On
 * Windows, where variable names ignore case (`bot_max_calls` is BOT_MAX_CALLS to every
 * program), BOT_* names are read in any case, also once merged with the file.
 */
export function readRawConfig(
  processEnv: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): RawConfig {
  const env = platform === "win32" ? botNamesInUpperCase(processEnv) : processEnv;
  const file = env.BOT_CONFIG_FILE?.trim();
  if (!file) return env;
  let parsed: unknown;
  try {
    // A UTF-8 byte order mark (Windows PowerShell 5.1's -Encoding UTF8, Notepad) is not JSON.
    parsed = JSON.parse(readFileSync(file, "utf8").replace(/^\uFEFF/, ""));
  } catch (error) {
    // A syntax error's message quotes the file around the error, which may be a secret.
    const why = error instanceof SyntaxError ? jsonSyntaxWhere(error) : (error as Error).message;
    throw new ConfigError("BOT_CONFIG_FILE", `cannot read JSON from "${file}": ${why}`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ConfigError("BOT_CONFIG_FILE", `"${file}" must hold a JSON object of BOT_* keys`);
  }
  const merged: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!key.startsWith("BOT_"))
      throw new ConfigError("BOT_CONFIG_FILE", `unknown key "${key}" in "${file}"`);
    // JSON-valued settings may be written as JSON in the file itself (the environment's value is JSON text).
    if (JSON_VALUED_SETTINGS.has(key) && value !== null && typeof value === "object") {
      merged[key] = JSON.stringify(value);
      continue;
    }
    if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
      throw new ConfigError(key, `in "${file}" must be a string, number or boolean`);
    }
    merged[key] = String(value);
  }
  return { ...merged, ...env };
}

/** Settings whose value is JSON: BOT_CONFIG_FILE may hold them as JSON values, not only as text. */
const JSON_VALUED_SETTINGS: ReadonlySet<string> = new Set([
  HANDLER_OPTIONS_VARIABLE,
  SERVICE_HOSTED_OPTIONS_VARIABLE,
  REDIRECT_WHEN_BUSY_VARIABLE,
]);

function botNamesInUpperCase(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    const upper = name.toUpperCase();
    out[upper.startsWith("BOT_") ? upper : name] = value;
  }
  return out;
}

/** True when the bot is configured to talk to real services (BOT_APP_ID present). */
export function hasBotConfiguration(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(readString(readRawConfig(env), "BOT_APP_ID"));
}

/**
 * Loads and validates the whole configuration. Throws ConfigError naming the first bad variable.
 */
export function loadConfig(source: RawConfig = readRawConfig()): BotConfig {
  // Lower case: notification tokens carry the app id as their audience in lower case, and
  // the audience is compared exactly.
  const appId = requireString(source, "BOT_APP_ID").toLowerCase();
  if (!isGuid(appId)) throw new ConfigError("BOT_APP_ID", `must be a GUID, got "${appId}"`);
  const tenantId = requireString(source, "BOT_TENANT_ID");
  // It becomes a path segment of the token authority: a URL or a path there would send the
  // app's credential to another authority (or fail only at the first token request).
  if (!isGuid(tenantId) && !isDomainName(tenantId)) {
    throw new ConfigError("BOT_TENANT_ID", `must be a tenant GUID or domain name, got "${tenantId}"`);
  }
  const credential = readCredential(source);
  const publicUrl = readUrl(source, "BOT_PUBLIC_URL", undefined, ["https:"]);
  if (!publicUrl) throw new ConfigError("BOT_PUBLIC_URL", "is required but not set");
  const parsedPublicUrl = new URL(publicUrl);
  if (
    parsedPublicUrl.search !== "" ||
    parsedPublicUrl.hash !== "" ||
    publicUrl.endsWith("?") ||
    publicUrl.endsWith("#")
  )
    throw new ConfigError(
      "BOT_PUBLIC_URL",
      `must be a base URL without query or fragment, got "${publicUrl}"`,
    );

  const tlsCert = readString(source, "BOT_TLS_CERT");
  const tlsKey = readString(source, "BOT_TLS_KEY");
  if (Boolean(tlsCert) !== Boolean(tlsKey)) {
    throw new ConfigError(
      tlsCert ? "BOT_TLS_KEY" : "BOT_TLS_CERT",
      "BOT_TLS_CERT and BOT_TLS_KEY go together",
    );
  }

  const authorityTemplate = readUrl(source, "BOT_AUTHORITY_URL", DEFAULTS.authorityUrl, ["https:"]) as string;
  const allowedTenants = readList(source, "BOT_ALLOWED_TENANTS");
  for (const tenant of allowedTenants) {
    if (!isGuid(tenant)) throw new ConfigError("BOT_ALLOWED_TENANTS", `"${tenant}" is not a tenant GUID`);
  }
  const bridgeSecret = requireString(source, "BOT_BRIDGE_SECRET");
  if (bridgeSecret.length < 16) throw new ConfigError("BOT_BRIDGE_SECRET", "must be at least 16 characters");
  const mediaFqdn = requireString(source, "BOT_MEDIA_FQDN");
  const handlers = readHandlers(source);
  if (!/^[a-z0-9.-]+$/i.test(mediaFqdn)) {
    throw new ConfigError("BOT_MEDIA_FQDN", `must be a host name, got "${mediaFqdn}"`);
  }

  const reconnectGraceMs = readInteger(source, "BOT_BRIDGE_RECONNECT_GRACE_MS", DEFAULTS.reconnectGraceMs, {
    min: 0,
    max: 120_000,
  });
  // As long as a reconnect within the grace takes, by default.
  const mediaHostWaitMs = readInteger(
    source,
    "BOT_MEDIA_HOST_WAIT_MS",
    Math.min(reconnectGraceMs, DEFAULTS.maxMediaHostWaitMs),
    { min: 0, max: DEFAULTS.maxMediaHostWaitMs },
  );

  const graph = readGraphSettings(source);
  const host = readHost(source, "BOT_HOST", DEFAULTS.host);
  const port = readInteger(source, "BOT_PORT", DEFAULTS.port, { min: 0, max: 65535 });
  const ops = readOpsListener(source, host, port);

  return {
    appId,
    credential,
    tenantId,
    publicUrl,
    callbackUrl: `${publicUrl}/api/calls`,
    host,
    port,
    tls: tlsCert && tlsKey ? { certPath: tlsCert, keyPath: tlsKey } : undefined,
    ops,
    graphUrl: readUrl(source, "BOT_GRAPH_URL", DEFAULTS.graphUrl, ["https:"]) as string,
    authorityUrl: authorityTemplate.replace("{tenant}", () => tenantId),
    notificationOpenIdUrl: readUrl(source, "BOT_NOTIFICATION_OPENID_URL", DEFAULTS.notificationOpenIdUrl, [
      "https:",
    ]) as string,
    caCertPath: readString(source, "BOT_CA_CERT"),
    maxCalls: readInteger(source, "BOT_MAX_CALLS", DEFAULTS.maxCalls, { min: 1, max: 100_000 }),
    mediaHostWaitMs,
    allowedTenants,
    redirectWhenBusy: readRedirectTarget(source),
    joinTimeoutMs: readInteger(source, "BOT_JOIN_TIMEOUT_MS", DEFAULTS.joinTimeoutMs, {
      min: 1000,
      max: 600_000,
    }),
    lobbyTimeoutMs: readInteger(source, "BOT_LOBBY_TIMEOUT_MS", DEFAULTS.lobbyTimeoutMs, {
      min: 1000,
      max: 3_600_000,
    }),
    keepAliveIntervalMs:
      readInteger(source, "BOT_KEEPALIVE_INTERVAL_SECONDS", DEFAULTS.keepAliveIntervalSeconds, {
        // Graph ends a call after 45 minutes without one: at most 30 leaves room for retries.
        min: 1,
        max: 30 * 60,
      }) * 1000,
    tokenClockSkewSeconds: readInteger(
      source,
      "BOT_TOKEN_CLOCK_SKEW_SECONDS",
      DEFAULTS.tokenClockSkewSeconds,
      {
        min: 0,
        max: 600,
      },
    ),
    notificationBodyLimitBytes: readInteger(
      source,
      "BOT_NOTIFICATION_BODY_LIMIT_BYTES",
      DEFAULTS.notificationBodyLimitBytes,
      { min: 1024, max: 16 * 1024 * 1024 },
    ),
    graph,
    media: {
      fqdn: mediaFqdn,
      publicPort: readInteger(source, "BOT_MEDIA_PUBLIC_PORT", 8445, { min: 1, max: 65535 }),
      unmixedAudio: readBoolean(source, "BOT_MEDIA_UNMIXED_AUDIO", false),
      recordingsDir: readString(source, "BOT_RECORDINGS_DIR") ?? DEFAULTS.recordingsDir,
      handlers,
      handlerOptions: readHandlerOptions(source, handlers),
      threadPriority: readThreadPriority(source),
      timing: readMediaTiming(source),
    },
    bridge: {
      url: readUrl(source, "BOT_BRIDGE_URL", DEFAULTS.bridgeUrl, ["ws:", "wss:"]) as string,
      secret: bridgeSecret,
      reconnectGraceMs,
    },
    logLevel: readLogLevel(source),
    controlToken: readControlToken(source),
    stopOnStdinEnd: readBoolean(source, "BOT_STOP_ON_STDIN_END", false),
    serviceHosted: readServiceHostedSettings(source),
  };
}

/** An IP address or a DNS host name: what `server.listen` takes as a host. */
function readHost(source: RawConfig, name: string, fallback: string): string {
  const value = readString(source, name) ?? fallback;
  const hostName =
    /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
  if (isIP(value) === 0 && !hostName.test(value))
    throw new ConfigError(name, `must be an IP address or a host name, got "${value}"`);
  return value;
}

const WILDCARD_HOSTS = new Set(["0.0.0.0", "::"]);

function readOpsListener(source: RawConfig, publicHost: string, publicPort: number): OpsListenerSettings {
  const host = readHost(source, "BOT_OPS_HOST", DEFAULTS.opsHost);
  const port = readInteger(source, "BOT_OPS_PORT", DEFAULTS.opsPort, { min: 0, max: 65535 });
  // One port on overlapping addresses would fail at listen with EADDRINUSE; say why at load.
  const overlapping = host === publicHost || WILDCARD_HOSTS.has(host) || WILDCARD_HOSTS.has(publicHost);
  if (port !== 0 && port === publicPort && overlapping)
    throw new ConfigError(
      "BOT_OPS_PORT",
      `must differ from BOT_PORT (${publicPort}): the operational endpoints have their own listener`,
    );
  return { host, port };
}

function readMediaTiming(source: RawConfig): MediaTiming {
  // 250 frames = 5 s: a queue is preallocated per call, so its bound is memory too.
  const playoutQueueFrames = readInteger(
    source,
    "BOT_MEDIA_PLAYOUT_QUEUE_FRAMES",
    DEFAULTS.playoutQueueFrames,
    {
      min: 2,
      max: 250,
    },
  );
  const livePlayoutTargetFrames = readInteger(
    source,
    "BOT_MEDIA_LIVE_TARGET_FRAMES",
    Math.min(DEFAULTS.livePlayoutTargetFrames, playoutQueueFrames - 1),
    { min: 0, max: playoutQueueFrames - 1 },
  );
  const jitterDepthFrames = readInteger(source, "BOT_MEDIA_JITTER_DEPTH_FRAMES", DEFAULTS.jitterDepthFrames, {
    min: 0,
    max: 25,
  });
  const adaptiveLiveTarget = readBoolean(
    source,
    "BOT_MEDIA_LIVE_TARGET_ADAPTIVE",
    DEFAULTS.adaptiveLiveTarget,
  );
  return { playoutQueueFrames, livePlayoutTargetFrames, adaptiveLiveTarget, jitterDepthFrames };
}

function readThreadPriority(source: RawConfig): MediaThreadPriority {
  const value = readString(source, "BOT_MEDIA_THREAD_PRIORITY") ?? "realtime";
  const known = MEDIA_THREAD_PRIORITIES.find((p) => p === value.toLowerCase());
  if (known === undefined)
    throw new ConfigError(
      "BOT_MEDIA_THREAD_PRIORITY",
      `must be one of ${MEDIA_THREAD_PRIORITIES.join(", ")}, got "${value}"`,
    );
  return known;
}

function readCredential(source: RawConfig): AppCredential {
  const secret = readString(source, "BOT_APP_SECRET");
  const keyPath = readString(source, "BOT_APP_CERT_KEY");
  const thumbprint = readString(source, "BOT_APP_CERT_THUMBPRINT");
  if (secret && (keyPath || thumbprint)) {
    throw new ConfigError(
      "BOT_APP_SECRET",
      "set either BOT_APP_SECRET or BOT_APP_CERT_KEY/THUMBPRINT, not both",
    );
  }
  if (secret) return { kind: "secret", secret };
  if (keyPath || thumbprint) {
    if (!keyPath) throw new ConfigError("BOT_APP_CERT_KEY", "is required with BOT_APP_CERT_THUMBPRINT");
    if (!thumbprint) throw new ConfigError("BOT_APP_CERT_THUMBPRINT", "is required with BOT_APP_CERT_KEY");
    if (!/^[0-9a-f]{40}$|^[0-9a-f]{64}$/i.test(thumbprint)) {
      throw new ConfigError("BOT_APP_CERT_THUMBPRINT", "must be a SHA-1 (40) or SHA-256 (64) hex thumbprint");
    }
    return {
      kind: "certificate",
      privateKeyPath: keyPath,
      thumbprint,
      certificatePath: readString(source, "BOT_APP_CERT_PATH"),
    };
  }
  throw new ConfigError("BOT_APP_SECRET", "is required (or BOT_APP_CERT_KEY with BOT_APP_CERT_THUMBPRINT)");
}

const HANDLER_ENTRY = /^(echo|recorder|recorder:unmixed|player:.+|module:[^#]+(#[A-Za-z_$][\w$]*)?)$/;

export function readHandlers(source: RawConfig): string[] {
  const entries = readList(source, "BOT_MEDIA_HANDLERS");
  for (const entry of entries) {
    if (!HANDLER_ENTRY.test(entry)) {
      throw new ConfigError(
        "BOT_MEDIA_HANDLERS",
        `"${entry}" is not one of echo, recorder, recorder:unmixed, player:<wav>, module:<path>[#export]`,
      );
    }
  }
  return entries;
}

/** Shorter tokens are guessable; 32 characters is what `openssl rand -hex 16` prints. */
export const MIN_CONTROL_TOKEN_LENGTH = 32;

function readControlToken(source: RawConfig): string | undefined {
  const token = readString(source, "BOT_CONTROL_TOKEN");
  if (token === undefined) return undefined;
  // The value itself is never quoted: it is a secret.
  if (token.length < MIN_CONTROL_TOKEN_LENGTH)
    throw new ConfigError(
      "BOT_CONTROL_TOKEN",
      `must be at least ${MIN_CONTROL_TOKEN_LENGTH} characters, got ${token.length}`,
    );
  if (!/^[\x21-\x7e]+$/.test(token))
    throw new ConfigError(
      "BOT_CONTROL_TOKEN",
      "must be printable ASCII without spaces (it is sent in a header)",
    );
  return token;
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

function readLogLevel(source: RawConfig): string {
  const level = readString(source, "BOT_LOG_LEVEL") ?? "info";
  if (!(LOG_LEVELS as readonly string[]).includes(level))
    throw new ConfigError("BOT_LOG_LEVEL", `must be one of ${LOG_LEVELS.join(", ")}, got "${level}"`);
  return level;
}

/** Where a JSON syntax error is, without the parser's message (it quotes the text). */
function jsonSyntaxWhere(error: SyntaxError): string {
  const position = /at position (\d+)/.exec(error.message)?.[1];
  return position === undefined ? "not valid JSON" : `not valid JSON (at character ${position})`;
}

function readGraphSettings(source: RawConfig): BotConfig["graph"] {
  const settings = {
    requestTimeoutMs: readInteger(source, "BOT_GRAPH_TIMEOUT_MS", DEFAULTS.requestTimeoutMs, {
      min: 100,
      max: 60_000,
    }),
    maxAttempts: readInteger(source, "BOT_GRAPH_MAX_ATTEMPTS", DEFAULTS.maxAttempts, { min: 1, max: 10 }),
    overallDeadlineMs: readInteger(source, "BOT_GRAPH_DEADLINE_MS", DEFAULTS.overallDeadlineMs, {
      min: 100,
      max: 120_000,
    }),
  };
  // Every attempt is cut at the overall deadline: a longer attempt timeout would leave no retry.
  if (settings.requestTimeoutMs > settings.overallDeadlineMs)
    throw new ConfigError(
      "BOT_GRAPH_TIMEOUT_MS",
      `must not exceed BOT_GRAPH_DEADLINE_MS (${settings.overallDeadlineMs}), got ${settings.requestTimeoutMs}`,
    );
  return settings;
}
