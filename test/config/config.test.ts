import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig, readRawConfig } from "../../src/config/config.js";
import { ConfigError } from "../../src/config/config-error.js";
import { VALID_BOT_ENV } from "./valid-env.js";

const VALID = {
  ...VALID_BOT_ENV,
  BOT_MEDIA_PUBLIC_PORT: "18732",
};

describe("configuration", () => {
  it("loads a valid environment with defaults", () => {
    const config = loadConfig(VALID);
    expect(config.callbackUrl).toBe("https://bot.contoso.com/api/calls");
    expect(config.authorityUrl).toBe(
      "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47",
    );
    expect(config.graphUrl).toBe("https://graph.microsoft.com/v1.0");
    expect(config.keepAliveIntervalMs).toBe(15 * 60 * 1000);
    expect(config.credential).toEqual({ kind: "secret", secret: "s3cret" });
    expect(config.media.publicPort).toBe(18732);
    expect(config.media.threadPriority).toBe("realtime");
    expect(loadConfig({ ...VALID, BOT_MEDIA_THREAD_PRIORITY: "High" }).media.threadPriority).toBe("high");
    expect(config.media.timing).toEqual({
      playoutQueueFrames: 10,
      livePlayoutTargetFrames: 0,
      adaptiveLiveTarget: true,
      jitterDepthFrames: 3,
    });
  });

  it("holds an incoming call for a disconnected media host as long as the grace by default, at most 10 s", () => {
    expect(loadConfig(VALID).mediaHostWaitMs).toBe(5000);
    expect(loadConfig({ ...VALID, BOT_BRIDGE_RECONNECT_GRACE_MS: "2500" }).mediaHostWaitMs).toBe(2500);
    expect(loadConfig({ ...VALID, BOT_BRIDGE_RECONNECT_GRACE_MS: "60000" }).mediaHostWaitMs).toBe(10_000);
    expect(loadConfig({ ...VALID, BOT_MEDIA_HOST_WAIT_MS: "0" }).mediaHostWaitMs).toBe(0);
  });

  it("reads the placed calls' join and lobby time limits (60 s and 5 min by default)", () => {
    expect(loadConfig(VALID)).toMatchObject({ joinTimeoutMs: 60_000, lobbyTimeoutMs: 300_000 });
    expect(
      loadConfig({ ...VALID, BOT_JOIN_TIMEOUT_MS: "20000", BOT_LOBBY_TIMEOUT_MS: "5000" }),
    ).toMatchObject({ joinTimeoutMs: 20_000, lobbyTimeoutMs: 5000 });
  });

  it("reads the media timing, the live target bounded by the queue", () => {
    const timing = loadConfig({
      ...VALID,
      BOT_MEDIA_PLAYOUT_QUEUE_FRAMES: "25",
      BOT_MEDIA_LIVE_TARGET_FRAMES: "0",
      BOT_MEDIA_JITTER_DEPTH_FRAMES: "5",
      BOT_MEDIA_LIVE_TARGET_ADAPTIVE: "false",
    }).media.timing;
    expect(timing).toEqual({
      playoutQueueFrames: 25,
      livePlayoutTargetFrames: 0,
      adaptiveLiveTarget: false,
      jitterDepthFrames: 5,
    });
    // The smallest queue (2 frames) takes the default target (0: nothing stands).
    expect(
      loadConfig({ ...VALID, BOT_MEDIA_PLAYOUT_QUEUE_FRAMES: "2" }).media.timing?.livePlayoutTargetFrames,
    ).toBe(0);
  });

  it.each([
    [{ BOT_APP_ID: undefined }, "BOT_APP_ID: is required but not set"],
    [{ BOT_APP_ID: "bot" }, 'BOT_APP_ID: must be a GUID, got "bot"'],
    [{ BOT_PUBLIC_URL: "http://bot.contoso.com" }, 'BOT_PUBLIC_URL: must use https:, got "http:"'],
    [{ BOT_PORT: "99999" }, "BOT_PORT: must be between 0 and 65535, got 99999"],
    [{ BOT_OPS_PORT: "65536" }, "BOT_OPS_PORT: must be between 0 and 65535, got 65536"],
    [{ BOT_OPS_PORT: "metrics" }, 'BOT_OPS_PORT: must be an integer, got "metrics"'],
    [
      { BOT_OPS_HOST: "http://127.0.0.1" },
      'BOT_OPS_HOST: must be an IP address or a host name, got "http://127.0.0.1"',
    ],
    [{ BOT_OPS_HOST: "[::1]" }, 'BOT_OPS_HOST: must be an IP address or a host name, got "[::1]"'],
    [{ BOT_HOST: "0.0.0.0:9441" }, 'BOT_HOST: must be an IP address or a host name, got "0.0.0.0:9441"'],
    [
      { BOT_OPS_PORT: "9441" },
      "BOT_OPS_PORT: must differ from BOT_PORT (9441): the operational endpoints have their own listener",
    ],
    [
      { BOT_PORT: "8080", BOT_OPS_PORT: "8080", BOT_OPS_HOST: "10.0.0.4" },
      "BOT_OPS_PORT: must differ from BOT_PORT (8080)",
    ],
    [{ BOT_MAX_CALLS: "many" }, 'BOT_MAX_CALLS: must be an integer, got "many"'],
    [{ BOT_MEDIA_HOST_WAIT_MS: "12000" }, "BOT_MEDIA_HOST_WAIT_MS: must be between 0 and 10000, got 12000"],
    [{ BOT_MEDIA_HOST_WAIT_MS: "5s" }, 'BOT_MEDIA_HOST_WAIT_MS: must be an integer, got "5s"'],
    [{ BOT_JOIN_TIMEOUT_MS: "0" }, "BOT_JOIN_TIMEOUT_MS: must be between 1000 and 600000, got 0"],
    [{ BOT_LOBBY_TIMEOUT_MS: "1m" }, 'BOT_LOBBY_TIMEOUT_MS: must be an integer, got "1m"'],
    [{ BOT_TLS_CERT: "cert.pem" }, "BOT_TLS_KEY: BOT_TLS_CERT and BOT_TLS_KEY go together"],
    [{ BOT_BRIDGE_URL: "http://127.0.0.1:1" }, 'BOT_BRIDGE_URL: must use ws: or wss:, got "http:"'],
    [
      { BOT_MEDIA_THREAD_PRIORITY: "max" },
      'BOT_MEDIA_THREAD_PRIORITY: must be one of realtime, high, normal, got "max"',
    ],
    [
      { BOT_MEDIA_PLAYOUT_QUEUE_FRAMES: "1" },
      "BOT_MEDIA_PLAYOUT_QUEUE_FRAMES: must be between 2 and 250, got 1",
    ],
    [
      { BOT_MEDIA_PLAYOUT_QUEUE_FRAMES: "4", BOT_MEDIA_LIVE_TARGET_FRAMES: "4" },
      "BOT_MEDIA_LIVE_TARGET_FRAMES: must be between 0 and 3, got 4",
    ],
    [{ BOT_MEDIA_LIVE_TARGET_FRAMES: "-1" }, "BOT_MEDIA_LIVE_TARGET_FRAMES: must be between 0 and 9, got -1"],
    [
      { BOT_MEDIA_JITTER_DEPTH_FRAMES: "2.5" },
      'BOT_MEDIA_JITTER_DEPTH_FRAMES: must be an integer, got "2.5"',
    ],
    [
      { BOT_MEDIA_LIVE_TARGET_ADAPTIVE: "maybe" },
      'BOT_MEDIA_LIVE_TARGET_ADAPTIVE: must be true or false, got "maybe"',
    ],
    [
      { BOT_APP_SECRET: undefined },
      "BOT_APP_SECRET: is required (or BOT_APP_CERT_KEY with BOT_APP_CERT_THUMBPRINT)",
    ],
    [
      { BOT_PUBLIC_URL: "https://bot.contoso.com/?x=1" },
      'BOT_PUBLIC_URL: must be a base URL without query or fragment, got "https://bot.contoso.com/?x=1"',
    ],
    [
      { BOT_PUBLIC_URL: "https://bot.contoso.com/#top" },
      'BOT_PUBLIC_URL: must be a base URL without query or fragment, got "https://bot.contoso.com/#top"',
    ],
    [
      { BOT_KEEPALIVE_INTERVAL_SECONDS: "2700" },
      "BOT_KEEPALIVE_INTERVAL_SECONDS: must be between 1 and 1800, got 2700",
    ],
    [
      { BOT_GRAPH_TIMEOUT_MS: "60000", BOT_GRAPH_DEADLINE_MS: "100" },
      "BOT_GRAPH_TIMEOUT_MS: must not exceed BOT_GRAPH_DEADLINE_MS (100), got 60000",
    ],
    // Found by fuzzing: the tenant went into the authority URL unchecked.
    [
      { BOT_TENANT_ID: "https://login.evil.example" },
      'BOT_TENANT_ID: must be a tenant GUID or domain name, got "https://login.evil.example"',
    ],
    [{ BOT_TENANT_ID: "$`" }, 'BOT_TENANT_ID: must be a tenant GUID or domain name, got "$`"'],
    [
      { BOT_LOG_LEVEL: "verbose" },
      'BOT_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"',
    ],
  ])("refuses %o with one line naming the variable", (override, message) => {
    const env = { ...VALID, ...override };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it("takes a tenant's domain name as well as its GUID, and puts it into the authority as it is", () => {
    const config = loadConfig({ ...VALID, BOT_TENANT_ID: "contoso.onmicrosoft.com" });
    expect(config.authorityUrl).toBe("https://login.microsoftonline.com/contoso.onmicrosoft.com");
  });

  it('reads "-0" as 0 (found by fuzzing: it was a negative zero)', () => {
    expect(Object.is(loadConfig({ ...VALID, BOT_PORT: "-0" }).port, 0)).toBe(true);
  });

  it("serves health and metrics on their own listener, loopback by default", () => {
    const config = loadConfig(VALID);
    expect({ host: config.host, port: config.port }).toEqual({ host: "0.0.0.0", port: 9441 });
    expect(config.ops).toEqual({ host: "127.0.0.1", port: 9443 });
    expect(loadConfig({ ...VALID, BOT_OPS_HOST: "::1", BOT_OPS_PORT: "9100" }).ops).toEqual({
      host: "::1",
      port: 9100,
    });
    // The same port on two distinct specific addresses does not collide.
    expect(
      loadConfig({ ...VALID, BOT_HOST: "10.0.0.4", BOT_PORT: "9100", BOT_OPS_PORT: "9100" }).ops,
    ).toEqual({ host: "127.0.0.1", port: 9100 });
    expect(loadConfig({ ...VALID, BOT_PORT: "0", BOT_OPS_PORT: "0" }).ops.port).toBe(0);
    expect(loadConfig({ ...VALID, BOT_OPS_HOST: "ops.internal" }).ops.host).toBe("ops.internal");
  });

  it("enables the calls API with a BOT_CONTROL_TOKEN of 32+ characters, from env or file, never quoting it", () => {
    expect(loadConfig(VALID).controlToken).toBeUndefined();
    expect(loadConfig({ ...VALID, BOT_CONTROL_TOKEN: "  " }).controlToken).toBeUndefined();
    const token = "0123456789abcdef0123456789abcdef";
    expect(loadConfig({ ...VALID, BOT_CONTROL_TOKEN: token }).controlToken).toBe(token);
    const file = join(mkdtempSync(join(tmpdir(), "bot-config-")), "bot.json");
    writeFileSync(file, JSON.stringify({ BOT_CONTROL_TOKEN: token }));
    expect(loadConfig({ ...VALID, ...readRawConfig({ BOT_CONFIG_FILE: file }) }).controlToken).toBe(token);
    for (const [bad, problem] of [
      ["Sh0rtSecretValue", "must be at least 32 characters, got 16"],
      [`${token} x`, "must be printable ASCII without spaces (it is sent in a header)"],
      [`${token}é`, "must be printable ASCII without spaces (it is sent in a header)"],
    ] as const) {
      let text = "";
      try {
        loadConfig({ ...VALID, BOT_CONTROL_TOKEN: bad });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        text = (error as Error).message;
      }
      expect(text).toBe(`BOT_CONTROL_TOKEN: ${problem}`);
      expect(text).not.toContain(bad.slice(0, 10));
    }
  });

  it("takes an app id in any case, as the lower-case audience notification tokens carry", () => {
    expect(loadConfig({ ...VALID, BOT_APP_ID: "2891555A-92FF-42E6-80FA-6E1300C6B5C6" }).appId).toBe(
      "2891555a-92ff-42e6-80fa-6e1300c6b5c6",
    );
  });

  it("does not quote a configuration file that is not valid JSON (it may hold secrets)", () => {
    const file = join(mkdtempSync(join(tmpdir(), "bot-config-")), "bot.json");
    writeFileSync(file, '{ "BOT_APP_SECRET": Sup3rSecretValue }');
    let message = "";
    try {
      readRawConfig({ BOT_CONFIG_FILE: file });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(`cannot read JSON from "${file}": not valid JSON`);
    expect(message).not.toContain("Sup3r");
  });

  it("reads a configuration file saved with a UTF-8 byte order mark and CRLF lines (Windows PowerShell 5.1, Notepad)", () => {
    const file = join(mkdtempSync(join(tmpdir(), "bot-config-")), "bot.json");
    writeFileSync(
      file,
      `\uFEFF{\r\n  "BOT_MAX_CALLS": 7,\r\n  "BOT_STOP_ON_STDIN_END": true\r\n}\r\n`,
      "utf8",
    );
    const config = loadConfig({ ...VALID, ...readRawConfig({ BOT_CONFIG_FILE: file }) });
    expect(config.maxCalls).toBe(7);
    expect(config.stopOnStdinEnd).toBe(true);
  });

  it("reads BOT_* variables in any case on Windows (its variable names ignore case), also over the file", () => {
    const file = join(mkdtempSync(join(tmpdir(), "bot-config-")), "bot.json");
    writeFileSync(file, JSON.stringify({ BOT_MAX_CALLS: 7, BOT_PORT: 9500 }));
    const env = { ...VALID, bot_max_calls: "9", Bot_Config_File: file };
    const windows = loadConfig(readRawConfig(env, "win32"));
    expect(windows.maxCalls).toBe(9); // the environment wins over the file, in any case
    expect(windows.port).toBe(9500);
    // Elsewhere names are case-sensitive: neither lower-case variable is BOT_*.
    const linux = loadConfig(readRawConfig(env, "linux"));
    expect(linux.maxCalls).toBe(1000);
    expect(linux.port).toBe(9441);
  });
});
