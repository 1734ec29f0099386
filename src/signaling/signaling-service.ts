/**
 * The signaling layer as one service: the public HTTP(S) listener (Graph's notifications), the
 * operational HTTP listener (health, metrics, the calls API; loopback by default), token checker, call registry
 * and call manager wired together, started listening and shut down without leaving anything behind.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { NotReady } from "../app/readiness.js";
import type { BotConfig } from "../config/config.js";
import type { CallsApiBackend } from "../control/calls-api-backend.js";
import type { GraphCallsApi, GraphServiceMediaApi } from "../graph/graph-calls-api.js";
import type { CommsOperation, InvitationParticipantInfo, TransferRequest } from "../graph/types.js";
import type { Logger } from "../log/logger.js";
import type { MediaSessionProvider } from "../media/media-session-provider.js";
import { createControlMetrics } from "../metrics/control-metrics.js";
import { createSignalingMetrics, type SignalingMetrics } from "../metrics/signaling-metrics.js";
import type { CallSnapshot } from "./call.js";
import { type AnswerTiming, CallManager } from "./call-manager.js";
import { CallRegistry } from "./call-registry.js";
import { NotificationAuthenticator, type NotificationTokenVerifier } from "./notification-auth.js";
import { createOpsApp } from "./ops-app.js";
import type { PlaceCallOptions, PlaceCallTarget, PlacedCallTiming } from "./outgoing-calls.js";
import type { PlacedCall } from "./placed-call.js";
import { type LoadedServiceHostedHandler, ServiceHostedCalls } from "./service-hosted-calls.js";
import { createSignalingApp } from "./signaling-app.js";

export interface SignalingServiceOptions {
  config: BotConfig;
  graph: GraphCallsApi;
  media: MediaSessionProvider;
  logger: Logger;
  /** Prometheus registry the signaling metrics register into (served at /metrics on the ops listener). */
  registry: Registry;
  /** Token checker; by default one built from the config (OpenID keys fetched at start). */
  authenticator?: NotificationTokenVerifier;
  /** Graph's answer deadline; shorter values for tests. */
  answerDeadlineMs?: number;
  /** A hang up or reject Graph never confirms is ended locally after this. */
  endConfirmTimeoutMs?: number;
  /** How long ended calls are remembered for late notifications. */
  terminatedRetentionMs?: number;
  /** Why the bot cannot take calls now, served at /readyz with shutting_down (see app/readiness.ts). */
  notReady?: () => NotReady[];
  /** Observer of each successful answer's timings (see AnswerTiming). */
  onAnswered?: (timing: AnswerTiming) => void;
  /** Observer of each placed call's establishment timings (see PlacedCallTiming). */
  onPlacedEstablished?: (timing: PlacedCallTiming) => void;
  /**
   * The bot's calls as the calls API (/calls on the ops listener, with BOT_CONTROL_TOKEN) serves
   * them; absent: the API answers 503 control_unavailable.
   */
  callsApi?: CallsApiBackend;
  /** Takes calls the handler chooses with service-hosted media (docs/service-hosted-media.md). */
  serviceHosted?: {
    handler: LoadedServiceHostedHandler;
    graph: GraphServiceMediaApi;
    /** choose() is given this long (default 1 s). */
    chooseTimeoutMs?: number;
  };
}

export class SignalingService {
  private shuttingDown = false;
  private closed?: Promise<void>;

  private constructor(
    private readonly server: http.Server | https.Server,
    private readonly opsServer: http.Server,
    private readonly manager: CallManager,
    private readonly callRegistry: CallRegistry,
    private readonly verifier: NotificationTokenVerifier,
    private readonly logger: Logger,
    readonly metrics: SignalingMetrics,
    /** The public listener: Graph's notifications (`/api/calls`) only. */
    readonly port: number,
    readonly url: string,
    /** The operational listener: `/healthz` and `/metrics`. */
    readonly opsPort: number,
    readonly opsUrl: string,
  ) {}

  static async start(options: SignalingServiceOptions): Promise<SignalingService> {
    const { config, logger } = options;
    const metrics = createSignalingMetrics(options.registry);
    const verifier =
      options.authenticator ?? NotificationAuthenticator.fromConfig(config, { logger, metrics });
    const callRegistry = new CallRegistry({
      logger,
      metrics,
      terminatedRetentionMs: options.terminatedRetentionMs,
    });
    let manager: CallManager | undefined;
    const serviceHosted = options.serviceHosted
      ? new ServiceHostedCalls({
          ...options.serviceHosted,
          logger,
          registry: options.registry,
          hangUp: (callId, reason) => manager?.hangUp(callId, reason) ?? Promise.resolve(false),
        })
      : undefined;
    manager = new CallManager({
      config,
      graph: options.graph,
      media: options.media,
      registry: callRegistry,
      metrics,
      logger,
      answerDeadlineMs: options.answerDeadlineMs,
      endConfirmTimeoutMs: options.endConfirmTimeoutMs,
      onAnswered: options.onAnswered,
      onPlacedEstablished: options.onPlacedEstablished,
      serviceHosted,
    });
    // Keys before the first notification; a failure is logged and retried on demand.
    await verifier.start();

    let service: SignalingService | undefined;
    const app = createSignalingApp({
      verifier,
      onNotifications: (body, context) => manager.handleBatch(body, context),
      metrics,
      logger,
      bodyLimitBytes: config.notificationBodyLimitBytes,
    });
    const server = config.tls
      ? https.createServer(
          { cert: readFileSync(config.tls.certPath), key: readFileSync(config.tls.keyPath) },
          app,
        )
      : http.createServer(app);
    // Slow or stalled clients must not hold sockets forever.
    server.requestTimeout = 30_000;
    server.headersTimeout = 10_000;
    // Idle keep-alive connections are left for the caller to close: with Node's default (5 s)
    // a notification posted on a connection idle for ~5 s raced the server's close and was
    // lost (ECONNRESET; seen with a DTMF notification in the demo). The header advertises it.
    server.keepAliveTimeout = 65_000;

    // Health and metrics have no authentication: their own listener, loopback by default.
    const opsServer = http.createServer(
      createOpsApp({
        calls: callRegistry,
        metricsRegistry: options.registry,
        extraMetrics: options.media.metrics
          ? () => options.media.metrics?.() ?? Promise.resolve("")
          : undefined,
        logger,
        isShuttingDown: () => service?.shuttingDown ?? false,
        notReady: options.notReady,
        control: {
          token: config.controlToken,
          backend: options.callsApi,
          metrics: createControlMetrics(options.registry),
        },
      }),
    );
    opsServer.requestTimeout = 30_000;
    opsServer.headersTimeout = 10_000;
    for (const each of [server, opsServer]) {
      each.on("clientError", (error, socket) => {
        logger.debug({ err: error.message }, "HTTP client error");
        socket.destroy();
      });
    }

    // The ops listener first: a probe can see the bot before Graph can reach it.
    try {
      await listen(opsServer, config.ops.port, config.ops.host);
      try {
        await listen(server, config.port, config.host);
      } catch (error) {
        await closeServer(opsServer);
        throw error;
      }
    } catch (error) {
      verifier.close();
      throw error;
    }
    server.on("error", (error) => logger.error({ err: error }, "signaling server error"));
    opsServer.on("error", (error) => logger.error({ err: error }, "operational server error"));
    const port = (server.address() as AddressInfo).port;
    const url = urlOf(config.tls ? "https" : "http", config.host, port);
    const opsPort = (opsServer.address() as AddressInfo).port;
    const opsUrl = urlOf("http", config.ops.host, opsPort);
    service = new SignalingService(
      server,
      opsServer,
      manager,
      callRegistry,
      verifier,
      logger,
      metrics,
      port,
      url,
      opsPort,
      opsUrl,
    );
    logger.info({ url, callbackUrl: config.callbackUrl, opsUrl }, "signaling listening");
    return service;
  }

  /** Where the operational listener is bound (its address and port, as the socket reports them). */
  get opsAddress(): AddressInfo {
    return this.opsServer.address() as AddressInfo;
  }

  /** Hangs up a live call through Graph; false when the call is not live. */
  hangUp(callId: string): Promise<boolean> {
    return this.manager.hangUp(callId, "requested");
  }

  /**
   * Call control by call id (src/signaling/call-control.ts): each rejects with a
   * CallControlError for a call id that is not a live call of ours, a wrong request, or
   * Graph's refusal (with its status and code).
   */
  mute(callId: string, clientContext?: string): Promise<CommsOperation> {
    return this.manager.control.mute(callId, clientContext);
  }

  unmute(callId: string, clientContext?: string): Promise<CommsOperation> {
    return this.manager.control.unmute(callId, clientContext);
  }

  transfer(callId: string, request: TransferRequest): Promise<void> {
    return this.manager.control.transfer(callId, request);
  }

  invite(
    callId: string,
    participants: InvitationParticipantInfo[],
    clientContext?: string,
  ): Promise<CommsOperation> {
    return this.manager.control.invite(callId, participants, clientContext);
  }

  /** Places a call: a meeting join or a call to a user (see BotApp.joinMeeting, BotApp.callUser). */
  placeCall(target: PlaceCallTarget, options?: PlaceCallOptions): Promise<PlacedCall> {
    return this.manager.placeCall(target, options);
  }

  /** Every call currently known (ended ones are kept briefly). */
  calls(): CallSnapshot[] {
    return this.callRegistry.snapshot();
  }

  get liveCallCount(): number {
    return this.callRegistry.liveCount;
  }

  /**
   * Stops taking calls, hangs up live calls and waits for Graph to end them (up to timeoutMs),
   * closes their media sessions, then closes both listeners. Safe to call more than once.
   */
  shutdown(options: { timeoutMs: number } = { timeoutMs: 10_000 }): Promise<void> {
    this.closed ??= this.doShutdown(options.timeoutMs);
    return this.closed;
  }

  private async doShutdown(timeoutMs: number): Promise<void> {
    this.shuttingDown = true;
    // Notifications keep flowing while calls end: the server closes last.
    await this.manager.shutdown(timeoutMs);
    this.callRegistry.clear();
    this.verifier.close();
    // Health answers 503 until here; both listeners close last.
    await Promise.all([closeServer(this.server), closeServer(this.opsServer)]);
    this.logger.info("signaling stopped");
  }
}

function listen(server: http.Server | https.Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function closeServer(server: http.Server | https.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** A URL a local client can use: a wildcard address is reached through loopback. */
function urlOf(scheme: "http" | "https", host: string, port: number): string {
  const local = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  return `${scheme}://${local.includes(":") ? `[${local}]` : local}:${port}`;
}
