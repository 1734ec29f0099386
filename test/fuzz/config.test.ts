/**
 * Fuzzing configuration parsing (loadConfig, readRawConfig and the env readers): arbitrary
 * values for each setting, arbitrary env maps and arbitrary BOT_CONFIG_FILE contents give a
 * valid configuration or a ConfigError naming the variable; never another exception, and no
 * secret value ever appears in an error message.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { type BotConfig, DEFAULTS, loadConfig, readRawConfig } from "../../src/config/config.js";
import { ConfigError } from "../../src/config/config-error.js";
import { fuzz, timeoutFor } from "./fuzz-runner.js";

const APP_SECRET = "Xq7-app-secret-Vb93kLmZ0pQ";
const BRIDGE_SECRET = "Wz4-bridge-secret-Jh2nRt8sY";
const SECRETS = [APP_SECRET, BRIDGE_SECRET];

const VALID: Record<string, string> = {
  BOT_APP_ID: "2891555a-92ff-42e6-80fa-6e1300c6b5c6",
  BOT_APP_SECRET: APP_SECRET,
  BOT_TENANT_ID: "72f988bf-86f1-41af-91ab-2d7cd011db47",
  BOT_PUBLIC_URL: "https://bot.contoso.com",
  BOT_MEDIA_FQDN: "media.contoso.com",
  BOT_BRIDGE_SECRET: BRIDGE_SECRET,
};

/** Every variable loadConfig reads. */
const VARIABLES = [
  "BOT_APP_ID",
  "BOT_APP_SECRET",
  "BOT_APP_CERT_KEY",
  "BOT_APP_CERT_THUMBPRINT",
  "BOT_APP_CERT_PATH",
  "BOT_TENANT_ID",
  "BOT_PUBLIC_URL",
  "BOT_PORT",
  "BOT_HOST",
  "BOT_TLS_CERT",
  "BOT_TLS_KEY",
  "BOT_GRAPH_URL",
  "BOT_AUTHORITY_URL",
  "BOT_NOTIFICATION_OPENID_URL",
  "BOT_CA_CERT",
  "BOT_MAX_CALLS",
  "BOT_ALLOWED_TENANTS",
  "BOT_KEEPALIVE_INTERVAL_SECONDS",
  "BOT_TOKEN_CLOCK_SKEW_SECONDS",
  "BOT_NOTIFICATION_BODY_LIMIT_BYTES",
  "BOT_GRAPH_TIMEOUT_MS",
  "BOT_GRAPH_MAX_ATTEMPTS",
  "BOT_GRAPH_DEADLINE_MS",
  "BOT_MEDIA_FQDN",
  "BOT_MEDIA_PUBLIC_PORT",
  "BOT_MEDIA_UNMIXED_AUDIO",
  "BOT_MEDIA_THREAD_PRIORITY",
  "BOT_MEDIA_PLAYOUT_QUEUE_FRAMES",
  "BOT_MEDIA_LIVE_TARGET_FRAMES",
  "BOT_MEDIA_LIVE_TARGET_ADAPTIVE",
  "BOT_MEDIA_JITTER_DEPTH_FRAMES",
  "BOT_MEDIA_HANDLERS",
  "BOT_MEDIA_HANDLER_OPTIONS",
  "BOT_RECORDINGS_DIR",
  "BOT_BRIDGE_URL",
  "BOT_BRIDGE_SECRET",
  "BOT_BRIDGE_RECONNECT_GRACE_MS",
  "BOT_MEDIA_HOST_WAIT_MS",
  "BOT_REDIRECT_WHEN_BUSY",
  "BOT_LOG_LEVEL",
] as const;

/** A bad value of one variable may be reported under the variable it must agree with. */
const RELATED: Record<string, string[]> = {
  BOT_APP_CERT_KEY: ["BOT_APP_SECRET", "BOT_APP_CERT_THUMBPRINT"],
  BOT_APP_CERT_THUMBPRINT: ["BOT_APP_SECRET", "BOT_APP_CERT_KEY"],
  BOT_TLS_CERT: ["BOT_TLS_KEY"],
  BOT_TLS_KEY: ["BOT_TLS_CERT"],
  BOT_GRAPH_DEADLINE_MS: ["BOT_GRAPH_TIMEOUT_MS"],
  BOT_MEDIA_PLAYOUT_QUEUE_FRAMES: ["BOT_MEDIA_LIVE_TARGET_FRAMES"],
  BOT_APP_SECRET: ["BOT_APP_SECRET"],
};

/** Values people (and typos) put in settings: numbers, URLs, words, unicode, whitespace. */
const settingValue = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "grapheme", maxLength: 12 }),
  fc.integer({ min: -1e6, max: 1e6 }).map(String),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
  fc.double().map(String),
  fc.constantFrom(
    " ",
    "0",
    "-0",
    "007",
    "1e3",
    "0x10",
    "true",
    "Off",
    "yes ",
    "$&",
    "$`",
    "$'",
    "{tenant}",
    "https:",
    "https://",
    "https:///x",
    "https://a/",
    "https://a//",
    "https://a?x",
    "https://a#",
    "https://user:pw@host/",
    "http://a",
    "ws://127.0.0.1:1/bridge",
    "wss://[::1]/",
    "contoso.onmicrosoft.com",
    "a/b?c#d",
    "../..",
    "echo,recorder",
    "player:",
    "module:x#1y",
    '{"echo":{}}',
    "[null]",
    "72f988bf-86f1-41af-91ab-2d7cd011db47",
    "72f988bf-86f1-41af-91ab-2d7cd011db47,nope",
    "a".repeat(300),
  ),
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.domain(),
);

/** Outcome of loading `env`: a config, or the ConfigError; anything else fails the property. */
function load(env: Record<string, string | undefined>): BotConfig | ConfigError {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw new Error(`loadConfig threw ${String(error)} for ${JSON.stringify(env)}`);
  }
}

function expectPreciseError(error: ConfigError, fromFile = false): void {
  if (fromFile) expect(error.variable).toMatch(/^BOT_/);
  else expect(VARIABLES as readonly string[]).toContain(error.variable);
  expect(error.message.startsWith(`${error.variable}: `)).toBe(true);
  expect(error.problem.trim().length).toBeGreaterThan(5);
  expect(error.message).not.toMatch(/\n/);
  for (const secret of SECRETS) expect(error.message).not.toContain(secret);
}

/** What a configuration that loads must hold, whatever the input was. */
function expectSaneConfig(config: BotConfig, env: Record<string, string | undefined>): void {
  for (const url of [config.publicUrl, config.callbackUrl, config.graphUrl, config.authorityUrl]) {
    expect(new URL(url).protocol).toBe("https:");
  }
  expect(new URL(config.notificationOpenIdUrl).protocol).toBe("https:");
  expect(["ws:", "wss:"]).toContain(new URL(config.bridge.url).protocol);
  const template = env.BOT_AUTHORITY_URL?.trim().replace(/\/+$/, "") || DEFAULTS.authorityUrl;
  // The tenant is put into the template as it is: no replacement patterns ($&, $`) applied,
  // and it stays one path segment (a template may also name its tenant itself).
  expect(config.authorityUrl).toBe(template.replace("{tenant}", () => config.tenantId));
  if (template.includes("{tenant}"))
    expect(new URL(config.authorityUrl).pathname.split("/")).toContain(config.tenantId);
  for (const value of [
    config.port,
    config.maxCalls,
    config.keepAliveIntervalMs,
    config.tokenClockSkewSeconds,
    config.notificationBodyLimitBytes,
    config.graph.requestTimeoutMs,
    config.graph.maxAttempts,
    config.graph.overallDeadlineMs,
    config.media.publicPort,
    config.bridge.reconnectGraceMs,
    config.mediaHostWaitMs,
  ]) {
    expect(Number.isSafeInteger(value) && !Object.is(value, -0), String(value)).toBe(true);
  }
  expect(config.graph.requestTimeoutMs).toBeLessThanOrEqual(config.graph.overallDeadlineMs);
  const timing = config.media.timing;
  if (timing) expect(timing.livePlayoutTargetFrames).toBeLessThan(timing.playoutQueueFrames);
  expect(config.bridge.secret.length).toBeGreaterThanOrEqual(16);
}

describe("fuzz: configuration", () => {
  it(
    "one setting at a time: a valid config or a ConfigError naming that setting (or the one it must agree with)",
    () => {
      fuzz(
        "config one variable",
        1500,
        fc.record({
          name: fc.constantFrom(...VARIABLES),
          value: fc.option(settingValue, { nil: undefined }),
        }),
        ({ name, value }) => {
          const env = { ...VALID, [name]: value };
          const outcome = load(env);
          if (outcome instanceof ConfigError) {
            expectPreciseError(outcome);
            expect([name, ...(RELATED[name] ?? [])]).toContain(outcome.variable);
            // A secret given as the bad value is not echoed either.
            if (
              (name === "BOT_APP_SECRET" || name === "BOT_BRIDGE_SECRET") &&
              value !== undefined &&
              value.trim().length >= 4
            )
              expect(outcome.message).not.toContain(value.trim());
          } else expectSaneConfig(outcome, env);
        },
      );
    },
    timeoutFor(1500, 20_000),
  );

  it(
    "arbitrary env maps: a valid config or a precise ConfigError, nothing else",
    () => {
      const env = fc.dictionary(fc.constantFrom(...VARIABLES), settingValue, { maxKeys: 12 });
      fuzz("config arbitrary env", 1500, env, (overrides) => {
        const merged = { ...VALID, ...overrides };
        const outcome = load(merged);
        if (outcome instanceof ConfigError) expectPreciseError(outcome);
        else expectSaneConfig(outcome, merged);
        const bare = load(overrides);
        if (bare instanceof ConfigError) expectPreciseError(bare);
        else expectSaneConfig(bare, overrides);
      });
    },
    timeoutFor(1500, 20_000),
  );

  it(
    "BOT_CONFIG_FILE with arbitrary content: a merged map or a ConfigError, never the file's secrets",
    () => {
      const dir = mkdtempSync(path.join(tmpdir(), "config-fuzz-"));
      afterAll(() => rmSync(dir, { recursive: true, force: true }));
      const file = path.join(dir, "bot.json");
      const jsonWithSecrets = fc
        .tuple(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })), fc.boolean())
        .map(([extra, prefixed]) => {
          const entries = Object.entries(extra).map(([k, v]) => [prefixed ? `BOT_${k}` : k, v]);
          return JSON.stringify({ ...VALID, ...Object.fromEntries(entries) });
        });
      const content = fc.oneof(
        jsonWithSecrets,
        // Cut or corrupted JSON around the secrets: the syntax error must not quote them.
        fc
          .tuple(jsonWithSecrets, fc.nat(), fc.string({ maxLength: 3 }))
          .map(([text, at, junk]) => text.slice(0, at % (text.length + 1)) + junk),
        fc.json(),
        fc.string({ maxLength: 40 }),
      );
      fuzz("config file contents", 300, content, (text) => {
        writeFileSync(file, text);
        let raw: ReturnType<typeof readRawConfig>;
        try {
          raw = readRawConfig({ BOT_CONFIG_FILE: file });
        } catch (error) {
          if (!(error instanceof ConfigError))
            throw new Error(`readRawConfig threw ${String(error)} for ${text}`);
          expectPreciseError(error, true);
          return;
        }
        const outcome = load(raw);
        if (outcome instanceof ConfigError) expectPreciseError(outcome, true);
      });
    },
    timeoutFor(300, 20_000),
  );
});
