import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { ConfigError } from "../../config/config-error.js";
import { type RawConfig, readInteger, readString, readUrl } from "../../config/env-readers.js";
import type { AppRegistration } from "./app-registry.js";
import { DEFAULT_TIMINGS } from "./graph-emulator.js";
import type { MediaEmulatorLink } from "./media-emulator-link.js";

export interface GraphEmulatorSettings {
  port: number;
  app: Required<Pick<AppRegistration, "appId" | "secret" | "tenantId" | "callbackUrl">>;
  callbackCaPem?: string;
  /** The media emulator whose sessions decide when answered calls are established; none = at once. */
  media?: MediaEmulatorLink;
  /** How long an answered call waits for its media before it ends 410/301005. */
  mediaTimeoutMs: number;
}

/**
 * The standalone Graph emulator's settings (`npm run emulator:graph`), read from the
 * environment; a missing or bad value throws a ConfigError naming the variable.
 */
export function readGraphEmulatorSettings(env: RawConfig): GraphEmulatorSettings {
  const callbackCaPath = readString(env, "GRAPH_EMULATOR_CALLBACK_CA");
  let callbackCaPem: string | undefined;
  if (callbackCaPath !== undefined) {
    try {
      callbackCaPem = readFileSync(callbackCaPath, "utf8");
    } catch (error) {
      throw new ConfigError(
        "GRAPH_EMULATOR_CALLBACK_CA",
        `cannot read "${callbackCaPath}": ${(error as Error).message}`,
      );
    }
  }
  const mediaUrl = readUrl(env, "GRAPH_EMULATOR_MEDIA_URL", undefined, ["http:"]);
  const mediaSecret = readString(env, "GRAPH_EMULATOR_MEDIA_SECRET");
  if (mediaUrl !== undefined && mediaSecret === undefined)
    throw new ConfigError(
      "GRAPH_EMULATOR_MEDIA_SECRET",
      "is required with GRAPH_EMULATOR_MEDIA_URL (the media emulator's BOT_BRIDGE_SECRET)",
    );
  return {
    port: readInteger(env, "GRAPH_EMULATOR_PORT", 0, { min: 0, max: 65535 }),
    mediaTimeoutMs: readInteger(env, "GRAPH_EMULATOR_MEDIA_TIMEOUT_MS", DEFAULT_TIMINGS.mediaTimeoutMs, {
      min: 100,
      max: 600_000,
    }),
    app: {
      appId: readString(env, "GRAPH_EMULATOR_APP_ID") ?? randomUUID(),
      secret: readString(env, "GRAPH_EMULATOR_APP_SECRET") ?? randomBytes(24).toString("base64url"),
      tenantId: readString(env, "GRAPH_EMULATOR_TENANT_ID") ?? randomUUID(),
      callbackUrl: readUrl(env, "GRAPH_EMULATOR_CALLBACK_URL", "https://127.0.0.1:9441/api/calls", [
        "http:",
        "https:",
      ]) as string,
    },
    ...(callbackCaPem === undefined ? {} : { callbackCaPem }),
    ...(mediaUrl === undefined ? {} : { media: { url: mediaUrl, secret: mediaSecret as string } }),
  };
}
