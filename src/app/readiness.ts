/**
 * Whether the bot can take a call now, and if not why: served at /readyz, exported as metrics
 * and logged when it changes. Liveness (/healthz) only says the process answers; a bot whose
 * media host is down or refuses the secret, or that cannot get a Graph token, is alive but
 * rejects every call, and said {"status":"ok"} all the same.
 */
import { Gauge, type Registry } from "prom-client";
import type { ConnectFailure } from "../bridge/connect-failure.js";
import type { Logger } from "../log/logger.js";
import type { MediaSessionProvider } from "../media/media-session-provider.js";

export const NOT_READY_REASONS = [
  "media_host_unreachable",
  "media_host_auth_refused",
  "media_host_tls_failed",
  "media_host_disconnected",
  "media_host_overloaded",
  "media_host_heavily_loaded",
  "graph_token_unavailable",
  "shutting_down",
] as const;
export type NotReadyReason = (typeof NOT_READY_REASONS)[number];

export interface NotReady {
  reason: NotReadyReason;
  /** One line for an operator: the URL, the error code, what to check. Never a secret. */
  detail: string;
}

export interface ReadinessSources {
  media: MediaSessionProvider;
  /** Why no Graph token can be had now (null: a usable one is cached). */
  graphTokenProblem: () => string | null;
  /** The media host's bridge URL, named in the details. */
  bridgeUrl?: string;
}

/** How often readiness is looked at for the log line of a change. */
const WATCH_INTERVAL_MS = 1000;

export class Readiness {
  private timer: NodeJS.Timeout | undefined;
  private lastLogged: string | undefined;
  private stopping = false;

  constructor(private readonly sources: ReadinessSources) {}

  /** Empty when ready. */
  check(): NotReady[] {
    const problems: NotReady[] = [];
    if (this.stopping) problems.push({ reason: "shutting_down", detail: "the bot is stopping" });
    const media = this.mediaProblem();
    if (media) problems.push(media);
    const token = this.sources.graphTokenProblem();
    if (token !== null) problems.push({ reason: "graph_token_unavailable", detail: token });
    return problems;
  }

  /** bot_ready (1/0) and bot_not_ready{reason} (1 while that reason holds), computed at each scrape. */
  registerMetrics(registry: Registry): void {
    const readiness = this;
    new Gauge({
      name: "bot_ready",
      help: "1 while the bot can take calls (what /readyz answers 200 for), else 0",
      registers: [registry],
      collect() {
        this.set(readiness.check().length === 0 ? 1 : 0);
      },
    });
    new Gauge({
      name: "bot_not_ready",
      help: `1 for each reason the bot cannot take calls now (${NOT_READY_REASONS.join(", ")})`,
      labelNames: ["reason"],
      registers: [registry],
      collect() {
        const now = new Set(readiness.check().map((problem) => problem.reason));
        for (const reason of NOT_READY_REASONS) this.set({ reason }, now.has(reason) ? 1 : 0);
      },
    });
  }

  /**
   * Logs each change: "bot not ready" at warn with the reasons, "bot ready" at info. The
   * details (and their attempt counts) are left out of the comparison, so a host that stays
   * down is one line here; the bridge client logs its failed dials itself.
   */
  watch(logger: Logger): void {
    this.lastLogged = this.key(this.check());
    this.timer = setInterval(() => {
      const problems = this.check();
      const key = this.key(problems);
      if (key === this.lastLogged) return;
      this.lastLogged = key;
      if (problems.length === 0) logger.info("bot ready: taking calls");
      else logger.warn({ notReady: problems }, "bot not ready: calls are rejected");
    }, WATCH_INTERVAL_MS);
    this.timer.unref();
  }

  /** The bot is stopping: not ready from now on, and no more change lines. */
  stop(): void {
    this.stopping = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private key(problems: NotReady[]): string {
    return problems.map((problem) => problem.reason).join(",");
  }

  private mediaProblem(): NotReady | undefined {
    const url = this.sources.bridgeUrl ? ` (${this.sources.bridgeUrl})` : "";
    switch (this.sources.media.unavailableReason()) {
      case "disconnected":
        return disconnected(this.sources.media.connectionFailure?.() ?? null, url);
      case "overloaded":
        return { reason: "media_host_overloaded", detail: `the media host reports it is overloaded${url}` };
      case "heavilyLoaded":
        return {
          reason: "media_host_heavily_loaded",
          detail: `the media host reports it is heavily loaded${url}`,
        };
      default:
        // "capacity": full, not broken; the calls in progress go on.
        return undefined;
    }
  }
}

function disconnected(failure: ConnectFailure | null, url: string): NotReady {
  if (failure === null)
    return { reason: "media_host_disconnected", detail: `not connected to the media host yet${url}` };
  const detail = `${failure.detail} [${failure.code}]${url}`;
  switch (failure.cause) {
    case "unreachable":
    case "http_refused":
      return { reason: "media_host_unreachable", detail };
    case "auth_refused":
      return { reason: "media_host_auth_refused", detail };
    case "tls":
      return { reason: "media_host_tls_failed", detail };
    default:
      return { reason: "media_host_disconnected", detail };
  }
}
