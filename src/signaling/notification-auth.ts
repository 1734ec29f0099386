/**
 * Inbound token check for Graph notifications: the bearer JWT must be signed by a key from
 * the calling service's OpenID configuration, issued by Bot Framework or Graph, for this app,
 * within its validity window, and carry a tenant (in the allow-list when one is set).
 * Keys are fetched at start, refreshed every 2 h, and refetched (rate-limited) when a token
 * names a key id the cache does not hold.
 */
import { readFileSync } from "node:fs";
import {
  createLocalJWKSet,
  decodeProtectedHeader,
  errors,
  type JSONWebKeySet,
  type JWK,
  jwtVerify,
} from "jose";
import type { BotConfig } from "../config/config.js";
import { httpsRequest } from "../graph/https-request.js";
import type { Logger } from "../log/logger.js";
import type { SignalingMetrics } from "../metrics/signaling-metrics.js";

export type TokenRefusalReason =
  | "missing_token"
  | "malformed"
  | "bad_signature"
  | "unknown_kid"
  | "wrong_issuer"
  | "wrong_audience"
  | "expired"
  | "not_yet_valid"
  | "missing_tenant"
  | "tenant_not_allowed"
  | "alg_not_allowed"
  | "keys_unavailable";

export type AuthResult =
  | { ok: true; tenantId: string; issuer: string }
  | { ok: false; status: 401 | 403; reason: TokenRefusalReason; detail: string };

/** What the HTTP app needs from a token checker (tests may pass their own). */
export interface NotificationTokenVerifier {
  start(): Promise<void>;
  verify(authorization: string | undefined): Promise<AuthResult>;
  close(): void;
}

export const NOTIFICATION_ISSUERS = ["https://api.botframework.com", "https://graph.microsoft.com"] as const;

/** Asymmetric signature algorithms only: `none` and shared-secret HS* can be forged by anyone knowing the app id. */
const ALLOWED_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
];

const MAX_TOKEN_LENGTH = 16 * 1024;
/**
 * Tokens whose signature, issuer and audience were verified, by token string. The calling
 * service reuses a token across notifications; re-running the RSA check (WebCrypto, the largest
 * CPU item of the bot at 200 calls/s) for the same bytes proves nothing new. Time claims are
 * checked again on every use; the cache is emptied whenever the key set changes.
 */
const VERIFIED_TOKEN_CACHE_SIZE = 256;

export interface NotificationAuthenticatorOptions {
  openIdUrl: string;
  appId: string;
  allowedTenants: readonly string[];
  clockSkewSeconds: number;
  /** Extra trusted CA (PEM) for the OpenID/JWKS fetches. */
  ca?: string | Buffer;
  logger: Logger;
  metrics: SignalingMetrics;
  /** Scheduled key refresh period (the public samples use 2 h). */
  refreshIntervalMs?: number;
  /** Minimum time between key fetches triggered by tokens (unknown kid, no keys yet). */
  minRefetchIntervalMs?: number;
  fetchTimeoutMs?: number;
  issuers?: readonly string[];
}

export class NotificationAuthenticator implements NotificationTokenVerifier {
  private keySet?: ReturnType<typeof createLocalJWKSet>;
  private keyIds = new Set<string>();
  private readonly verified = new Map<
    string,
    { exp: number; nbf: number | undefined; tid: string; iss: string }
  >();
  private lastFetchAttempt = Number.NEGATIVE_INFINITY;
  private inflight?: Promise<boolean>;
  private refreshTimer?: NodeJS.Timeout;
  private readonly options: Required<Omit<NotificationAuthenticatorOptions, "ca">> & { ca?: string | Buffer };
  private readonly allowedTenants: Set<string>;

  constructor(options: NotificationAuthenticatorOptions) {
    this.options = {
      refreshIntervalMs: 2 * 60 * 60 * 1000,
      minRefetchIntervalMs: 30_000,
      fetchTimeoutMs: 5000,
      issuers: NOTIFICATION_ISSUERS,
      ...options,
    };
    this.allowedTenants = new Set(options.allowedTenants.map((tenant) => tenant.toLowerCase()));
  }

  static fromConfig(
    config: BotConfig,
    deps: { logger: Logger; metrics: SignalingMetrics },
  ): NotificationAuthenticator {
    return new NotificationAuthenticator({
      openIdUrl: config.notificationOpenIdUrl,
      appId: config.appId,
      allowedTenants: config.allowedTenants,
      clockSkewSeconds: config.tokenClockSkewSeconds,
      ca: config.caCertPath ? readFileSync(config.caCertPath) : undefined,
      ...deps,
    });
  }

  /** Fetches the keys now (so the first notification does not wait) and schedules refreshes. Never throws. */
  async start(): Promise<void> {
    if (!this.refreshTimer) {
      this.refreshTimer = setInterval(() => void this.refresh(true), this.options.refreshIntervalMs);
      this.refreshTimer.unref();
    }
    await this.refresh(true);
  }

  close(): void {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = undefined;
  }

  /** Number of keys currently cached (for health output and tests). */
  get keyCount(): number {
    return this.keyIds.size;
  }

  async verify(authorization: string | undefined): Promise<AuthResult> {
    const result = await this.check(authorization);
    if (!result.ok) {
      this.options.metrics.tokensRefused.inc({ reason: result.reason });
      this.options.logger.warn(
        { reason: result.reason, detail: result.detail },
        "notification token refused",
      );
    }
    return result;
  }

  private async check(authorization: string | undefined): Promise<AuthResult> {
    const match = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
    if (!authorization?.trim()) return refuse("missing_token", "no Authorization header");
    if (!match?.[1]) return refuse("malformed", "Authorization is not a Bearer token");
    const token = match[1];
    if (token.length > MAX_TOKEN_LENGTH) return refuse("malformed", "token too long");

    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      return refuse("malformed", "token header is not decodable JWS");
    }
    if (token.split(".").length !== 3) return refuse("malformed", "not a compact JWS");
    if (typeof header.alg !== "string" || !ALLOWED_ALGORITHMS.includes(header.alg)) {
      return refuse("alg_not_allowed", `algorithm ${String(header.alg)} is not accepted`);
    }

    const cached = this.verified.get(token);
    if (cached) {
      const nowSeconds = Date.now() / 1000;
      const skew = this.options.clockSkewSeconds;
      if (cached.exp + skew <= nowSeconds) {
        this.verified.delete(token);
        return refuse("expired", "token has expired");
      }
      if (cached.nbf !== undefined && cached.nbf - skew > nowSeconds)
        return refuse("not_yet_valid", "token is not valid yet");
      return this.tenantCheck(cached.tid, cached.iss);
    }

    if (!this.keySet) await this.refresh(false);
    if (typeof header.kid === "string" && !this.keyIds.has(header.kid)) await this.refresh(false);
    const keySet = this.keySet;
    if (!keySet) return refuse("keys_unavailable", "signing keys could not be fetched");
    if (typeof header.kid === "string" && !this.keyIds.has(header.kid)) {
      return refuse("unknown_kid", "token signed with a key id not in the key set");
    }

    let payload: Awaited<ReturnType<typeof jwtVerify>>["payload"];
    try {
      ({ payload } = await jwtVerify(token, keySet, {
        algorithms: ALLOWED_ALGORITHMS,
        issuer: [...this.options.issuers],
        audience: this.options.appId,
        clockTolerance: this.options.clockSkewSeconds,
        requiredClaims: ["exp"],
      }));
    } catch (error) {
      return mapJoseError(error);
    }

    const tid = typeof payload.tid === "string" ? payload.tid.trim() : "";
    if (!tid) return refuse("missing_tenant", "token carries no tid claim");
    if (this.verified.size >= VERIFIED_TOKEN_CACHE_SIZE) {
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
    this.verified.set(token, { exp: payload.exp as number, nbf: payload.nbf, tid, iss: String(payload.iss) });
    return this.tenantCheck(tid, String(payload.iss));
  }

  private tenantCheck(tid: string, issuer: string): AuthResult {
    if (this.allowedTenants.size > 0 && !this.allowedTenants.has(tid.toLowerCase())) {
      return { ok: false, status: 403, reason: "tenant_not_allowed", detail: `tenant ${tid} is not allowed` };
    }
    return { ok: true, tenantId: tid, issuer };
  }

  /**
   * Fetches the key set. Scheduled refreshes always run; token-triggered ones run at most once
   * per minRefetchIntervalMs so a flood of bad tokens cannot turn into a flood of fetches.
   */
  private refresh(scheduled: boolean): Promise<boolean> {
    if (this.inflight) return this.inflight;
    const now = Date.now();
    if (!scheduled && now - this.lastFetchAttempt < this.options.minRefetchIntervalMs)
      return Promise.resolve(false);
    this.lastFetchAttempt = now;
    this.inflight = this.fetchKeys()
      .then((keys) => {
        this.keySet = createLocalJWKSet(keys);
        // A removed key must not keep vouching for tokens it signed.
        this.verified.clear();
        this.keyIds = new Set(
          keys.keys.map((key) => key.kid).filter((kid): kid is string => typeof kid === "string"),
        );
        this.options.metrics.keyFetches.inc({ outcome: "ok" });
        this.options.logger.info({ keys: this.keyIds.size }, "notification signing keys fetched");
        return true;
      })
      .catch((error: unknown) => {
        this.options.metrics.keyFetches.inc({ outcome: "error" });
        // Keep the previous keys: a failed refresh must not lock out valid notifications.
        this.options.logger.error(
          { err: (error as Error).message },
          "fetching notification signing keys failed",
        );
        return false;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }

  private async fetchKeys(): Promise<JSONWebKeySet> {
    const openId = await this.getJson(this.options.openIdUrl);
    const jwksUri = typeof openId.jwks_uri === "string" ? openId.jwks_uri : undefined;
    if (!jwksUri) throw new Error("OpenID configuration has no jwks_uri");
    const jwksUrl = new URL(jwksUri, this.options.openIdUrl);
    if (new URL(this.options.openIdUrl).protocol === "https:" && jwksUrl.protocol !== "https:") {
      throw new Error(`jwks_uri must be https, got ${jwksUrl.protocol}`);
    }
    const jwks = await this.getJson(jwksUrl.toString());
    if (!Array.isArray(jwks.keys)) throw new Error("JWKS has no keys array");
    const keys = (jwks.keys as unknown[]).filter(
      (key): key is JWK =>
        key !== null &&
        typeof key === "object" &&
        ["RSA", "EC", "OKP"].includes(String((key as JWK).kty)) &&
        ((key as JWK).use === undefined || (key as JWK).use === "sig"),
    );
    if (keys.length === 0) throw new Error("JWKS holds no usable signing key");
    return { keys };
  }

  private async getJson(url: string): Promise<Record<string, unknown>> {
    const response = await httpsRequest({
      url,
      method: "GET",
      headers: { accept: "application/json" },
      timeoutMs: this.options.fetchTimeoutMs,
      ca: this.options.ca,
    });
    if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`);
    const parsed: unknown = JSON.parse(response.body.toString("utf8"));
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new Error(`GET ${url} did not return a JSON object`);
    }
    return parsed as Record<string, unknown>;
  }
}

function refuse(reason: TokenRefusalReason, detail: string): AuthResult {
  return { ok: false, status: 401, reason, detail };
}

function mapJoseError(error: unknown): AuthResult {
  if (error instanceof errors.JWTExpired) return refuse("expired", "token expired");
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "iss") return refuse("wrong_issuer", "issuer not accepted");
    if (error.claim === "aud") return refuse("wrong_audience", "audience is not this app");
    if (error.claim === "nbf" || (error.claim === "iat" && error.reason === "check_failed")) {
      return refuse("not_yet_valid", `${error.claim} is in the future`);
    }
    return refuse("malformed", `claim ${error.claim} invalid (${error.reason})`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return refuse("bad_signature", "signature does not verify");
  if (error instanceof errors.JOSEAlgNotAllowed) return refuse("alg_not_allowed", "algorithm not accepted");
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return refuse("unknown_kid", "no single key in the key set matches the token");
  }
  return refuse("malformed", error instanceof Error ? error.message : "token could not be verified");
}
