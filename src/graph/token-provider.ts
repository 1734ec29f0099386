import { readFileSync } from "node:fs";
import {
  AuthError,
  type AuthenticationResult,
  ConfidentialClientApplication,
  type Configuration,
  LogLevel,
} from "@azure/msal-node";
import type { Registry } from "prom-client";
import type { AppCredential, BotConfig } from "../config/config.js";
import type { Logger } from "../log/logger.js";
import { type GraphMetrics, graphMetrics } from "../metrics/graph-metrics.js";
import { MsalNetworkClient } from "./msal-network-client.js";

export const GRAPH_SCOPE = "https://graph.microsoft.com/.default";

export interface TokenProviderOptions {
  appId: string;
  /** Authority with the tenant, e.g. https://login.microsoftonline.com/{tenantId}. */
  authorityUrl: string;
  credential: AppCredential;
  /** Extra trusted CA (PEM) for the identity endpoint, e.g. the Graph emulator's. */
  ca?: string | Buffer;
  logger: Logger;
  registry: Registry;
  scope?: string;
  /** Refresh when this fraction of the token's lifetime has passed (default 0.8). */
  refreshAtFraction?: number;
  /** ...or this long before expiry (default 5 min), whichever is earlier; the margin never moves it before half the lifetime. */
  refreshMarginMs?: number;
  /** First delay after a failed background refresh; doubles per failure (default 1 s). */
  retryBaseDelayMs?: number;
  /** Ceiling of the background refresh retry delay (default 60 s). */
  retryMaxDelayMs?: number;
  /** Timeout of one request to the identity endpoint (default 10 s). */
  requestTimeoutMs?: number;
}

/** Fetching an app token failed; carries msal's error code (e.g. invalid_client), never the secret. */
export class GraphTokenError extends Error {
  readonly code: string;
  readonly correlationId: string | undefined;

  constructor(code: string, message: string, correlationId: string | undefined, cause: unknown) {
    super(`cannot get a Graph app token (${code}): ${message}`, { cause });
    this.name = "GraphTokenError";
    this.code = code;
    this.correlationId = correlationId;
  }
}

interface CachedToken {
  value: Promise<string>;
  fetchedAtMs: number;
  expiresAtMs: number;
}

/**
 * App-only Graph token via the client credentials grant (msal-node). The token is fetched at
 * start and refreshed in the background before it expires, so `getToken()` on the answer path
 * returns an already-resolved promise. Concurrent fetches are coalesced into one request.
 */
export class GraphTokenProvider {
  private readonly msal: ConfidentialClientApplication;
  private readonly scope: string;
  private readonly logger: Logger;
  private readonly metrics: GraphMetrics;
  private readonly refreshAtFraction: number;
  private readonly refreshMarginMs: number;
  private readonly retryBaseDelayMs: number;
  private readonly retryMaxDelayMs: number;
  private cached: CachedToken | undefined;
  private inflight: Promise<CachedToken> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private consecutiveFailures = 0;
  /** The last fetch's failure, until one succeeds. */
  private lastError: GraphTokenError | undefined;
  private readonly authority: string;
  private readonly network: MsalNetworkClient;
  private closed = false;

  constructor(options: TokenProviderOptions) {
    this.scope = options.scope ?? GRAPH_SCOPE;
    this.logger = options.logger.child({ component: "graph-token" });
    this.metrics = graphMetrics(options.registry);
    this.refreshAtFraction = options.refreshAtFraction ?? 0.8;
    this.refreshMarginMs = options.refreshMarginMs ?? 5 * 60_000;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 1000;
    this.retryMaxDelayMs = options.retryMaxDelayMs ?? 60_000;
    const authority = options.authorityUrl.replace(/\/+$/, "");
    this.authority = authority;
    this.network = new MsalNetworkClient({
      ca: options.ca,
      timeoutMs: options.requestTimeoutMs ?? 10_000,
    });
    const configuration: Configuration = {
      auth: {
        clientId: options.appId,
        authority,
        ...credentialOptions(options.credential),
        // Listing the authority's own host makes msal trust it without calling Microsoft's
        // instance discovery endpoint, which an emulator or an offline host cannot reach.
        knownAuthorities: [new URL(authority).host],
      },
      system: {
        networkClient: this.network,
        loggerOptions: {
          piiLoggingEnabled: false,
          logLevel: LogLevel.Warning,
          loggerCallback: (level, message, containsPii) => {
            if (containsPii) return;
            if (level <= LogLevel.Error) this.logger.warn({ msal: message }, "msal error");
            else this.logger.debug({ msal: message }, "msal");
          },
        },
      },
    };
    this.msal = new ConfidentialClientApplication(configuration);
  }

  /** Builds a provider from the bot configuration (reads the key and CA files now). */
  static fromConfig(config: BotConfig, deps: { logger: Logger; registry: Registry }): GraphTokenProvider {
    return new GraphTokenProvider({
      appId: config.appId,
      authorityUrl: config.authorityUrl,
      credential: config.credential,
      ca: config.caCertPath ? readFileSync(config.caCertPath) : undefined,
      logger: deps.logger,
      registry: deps.registry,
    });
  }

  /** Fetches the first token; rejects with GraphTokenError (e.g. a bad secret) so start-up fails loudly. */
  async start(): Promise<void> {
    await this.fetch("start");
  }

  /** The cached token while fresh (an already-resolved promise); otherwise waits for a fetch. */
  getToken(): Promise<string> {
    const cached = this.cached;
    if (cached && Date.now() < this.usableUntil(cached)) return cached.value;
    if (this.closed) return Promise.reject(new Error("GraphTokenProvider is closed"));
    return this.fetch("demand").then((token) => token.value);
  }

  /**
   * Why no token can be handed out now (for /readyz), or null while a usable one is cached:
   * the last fetch's error once the cached token is too old to use (or there never was one).
   */
  unavailableReason(): string | null {
    const cached = this.cached;
    if (cached && Date.now() < this.usableUntil(cached)) return null;
    if (this.lastError) return `${this.lastError.message} (authority ${this.authority})`;
    return cached ? "the token expired and its refresh has not answered yet" : "no token fetched yet";
  }

  /** Stops the background refresh. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** A token is not handed out in the last 10% of its life (at most 60 s): it could expire in flight. */
  private usableUntil(token: CachedToken): number {
    const lifetime = token.expiresAtMs - token.fetchedAtMs;
    return token.expiresAtMs - Math.min(60_000, lifetime * 0.1);
  }

  private fetch(trigger: "start" | "demand" | "refresh"): Promise<CachedToken> {
    if (!this.inflight) {
      this.inflight = this.acquire(trigger).finally(() => {
        this.inflight = undefined;
      });
    }
    return this.inflight;
  }

  private async acquire(trigger: string): Promise<CachedToken> {
    const startedAt = Date.now();
    let result: AuthenticationResult | null;
    try {
      this.network.takeCertificateFailure(); // an old one must not explain this attempt
      // skipCache: this class is the cache; msal's own would hand back the token being replaced.
      result = await this.msal.acquireTokenByClientCredential({ scopes: [this.scope], skipCache: true });
    } catch (error) {
      const untrusted = this.network.takeCertificateFailure();
      throw this.failed(
        trigger,
        untrusted
          ? new GraphTokenError(
              "untrusted_certificate",
              `the authority URL's certificate is not accepted: ${untrusted.message}`,
              undefined,
              untrusted,
            )
          : toTokenError(error),
      );
    }
    if (!result?.accessToken || !result.expiresOn) {
      throw this.failed(
        trigger,
        new GraphTokenError(
          "invalid_response",
          "the token endpoint returned no token or expiry",
          undefined,
          result,
        ),
      );
    }
    const fetchedAtMs = Date.now();
    const expiresAtMs = result.expiresOn.getTime();
    if (expiresAtMs <= fetchedAtMs) {
      throw this.failed(
        trigger,
        new GraphTokenError(
          "invalid_response",
          "the token endpoint returned an expired token",
          undefined,
          undefined,
        ),
      );
    }
    const token: CachedToken = { value: Promise.resolve(result.accessToken), fetchedAtMs, expiresAtMs };
    this.cached = token;
    this.consecutiveFailures = 0;
    this.lastError = undefined;
    this.metrics.tokenRefreshes.inc({ outcome: "success" });
    this.metrics.tokenExpiry.atMs = expiresAtMs;
    const refreshAtMs = this.refreshTime(token);
    this.logger.info(
      {
        trigger,
        durationMs: fetchedAtMs - startedAt,
        expiresAt: new Date(expiresAtMs).toISOString(),
        refreshAt: new Date(refreshAtMs).toISOString(),
      },
      "graph token fetched",
    );
    this.schedule(refreshAtMs - Date.now());
    return token;
  }

  private failed(trigger: string, error: GraphTokenError): GraphTokenError {
    this.metrics.tokenRefreshes.inc({ outcome: "failure" });
    this.consecutiveFailures += 1;
    this.lastError = error;
    const cached = this.cached;
    const expiresInMs = cached ? cached.expiresAtMs - Date.now() : undefined;
    this.logger.warn(
      { trigger, code: error.code, err: error.message, failures: this.consecutiveFailures, expiresInMs },
      "graph token fetch failed",
    );
    // Start-up failures are the caller's to handle; a failing refresh keeps trying while the
    // cached token (if any) still serves requests.
    if (trigger !== "start") {
      const ceiling = Math.min(
        this.retryMaxDelayMs,
        this.retryBaseDelayMs * 2 ** (this.consecutiveFailures - 1),
      );
      this.schedule(ceiling / 2 + Math.random() * (ceiling / 2));
    }
    return error;
  }

  private refreshTime(token: CachedToken): number {
    const lifetime = token.expiresAtMs - token.fetchedAtMs;
    const byFraction = token.fetchedAtMs + lifetime * this.refreshAtFraction;
    const byMargin = token.expiresAtMs - this.refreshMarginMs;
    // The margin alone must not drag the refresh of a short-lived token below half its life.
    return Math.min(byFraction, Math.max(token.fetchedAtMs + lifetime / 2, byMargin));
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        // Failures are logged, counted and rescheduled in failed(); nothing to add here.
        this.fetch("refresh").catch(() => {});
      },
      Math.max(0, delayMs),
    );
    // A pending refresh must not keep a finished process alive.
    this.timer.unref();
  }
}

function credentialOptions(
  credential: AppCredential,
): Pick<Configuration["auth"], "clientSecret" | "clientCertificate"> {
  if (credential.kind === "secret") return { clientSecret: credential.secret };
  const privateKey = readFileSync(credential.privateKeyPath, "utf8");
  const x5c = credential.certificatePath ? readFileSync(credential.certificatePath, "utf8") : undefined;
  const thumbprint = credential.thumbprint.toLowerCase();
  // msal signs with PS256 and an x5t#S256 header for SHA-256 thumbprints, RS256 and x5t for SHA-1.
  return {
    clientCertificate:
      thumbprint.length === 64
        ? { thumbprintSha256: thumbprint, privateKey, x5c }
        : { thumbprint, privateKey, x5c },
  };
}

function toTokenError(error: unknown): GraphTokenError {
  if (error instanceof AuthError) {
    // msal's message holds the server's description (e.g. AADSTS7000215 invalid client secret).
    const description = (error.errorMessage || error.message).split("\n")[0] ?? "";
    return new GraphTokenError(error.errorCode || "auth_error", description, error.correlationId, error);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new GraphTokenError("network_error", message, undefined, error);
}
