import { readFileSync } from "node:fs";
import type { Registry } from "prom-client";
import type { BotConfig } from "../config/config.js";
import { checkFileSettings } from "../config/file-settings.js";
import { GraphClient } from "../graph/graph-client.js";
import type { MeetingChatInfo, MeetingIdJoin, UserCallTarget } from "../graph/outgoing-call-requests.js";
import { GraphTokenProvider } from "../graph/token-provider.js";
import type { Logger } from "../log/logger.js";
import type { MediaSessionProvider } from "../media/media-session-provider.js";
import { createRegistry } from "../metrics/registry.js";
import type { PlaceCallOptions } from "../signaling/outgoing-calls.js";
import type { PlacedCall } from "../signaling/placed-call.js";
import { loadServiceHostedHandler } from "../signaling/service-hosted-loader.js";
import { SignalingService, type SignalingServiceOptions } from "../signaling/signaling-service.js";
import { BotCallsApiBackend } from "./calls-api-backend.js";
import { Readiness } from "./readiness.js";

export interface BotAppOptions {
  config: BotConfig;
  logger: Logger;
  /** Builds the media side once the Graph client exists (the bridge provider in production). */
  media: (context: {
    config: BotConfig;
    logger: Logger;
    registry: Registry;
  }) => Promise<MediaSessionProvider>;
  registry?: Registry;
  /** Extra signaling options (test and benchmark hooks such as onAnswered, onPlacedEstablished). */
  signaling?: Pick<
    SignalingServiceOptions,
    "onAnswered" | "onPlacedEstablished" | "answerDeadlineMs" | "endConfirmTimeoutMs"
  >;
  /** choose() of the service-hosted handler is given this long (default 1 s). */
  serviceHostedChooseTimeoutMs?: number;
}

/**
 * The whole bot: Graph token (fetched before the first call can arrive), Graph client, media
 * session provider and signaling service, started in that order and stopped in reverse.
 */
export class BotApp {
  private stopping?: Promise<void>;

  private constructor(
    readonly config: BotConfig,
    readonly signaling: SignalingService,
    readonly media: MediaSessionProvider,
    readonly registry: Registry,
    private readonly tokens: GraphTokenProvider,
    private readonly logger: Logger,
    /** What /readyz and bot_ready say (see readiness.ts). */
    readonly readiness: Readiness,
    private readonly callsApi?: BotCallsApiBackend,
  ) {}

  static async start(options: BotAppOptions): Promise<BotApp> {
    const { config, logger } = options;
    // A certificate, CA or WAV that cannot be used stops the start with one line naming it.
    await checkFileSettings(config);
    const registry = options.registry ?? createRegistry({ defaultMetrics: true });
    const ca = config.caCertPath ? readFileSync(config.caCertPath) : undefined;
    const tokens = new GraphTokenProvider({
      appId: config.appId,
      authorityUrl: config.authorityUrl,
      credential: config.credential,
      ca,
      logger,
      registry,
    });
    // A handler module that cannot load fails the start before anything is listening.
    const serviceHostedHandler = config.serviceHosted
      ? await loadServiceHostedHandler(config.serviceHosted.handler, config.serviceHosted.options)
      : undefined;
    // The answer path must never wait for a token: the first one is fetched before listening.
    await tokens.start();
    const graph = new GraphClient({
      baseUrl: config.graphUrl,
      tokenProvider: tokens,
      settings: config.graph,
      ca,
      logger,
      registry,
    });
    const media = await options.media({ config, logger, registry });
    const readiness = new Readiness({
      media,
      graphTokenProblem: () => tokens.unavailableReason(),
      bridgeUrl: config.bridge.url,
    });
    readiness.registerMetrics(registry);
    // The calls API (with BOT_CONTROL_TOKEN) answers from the signaling service once it started.
    let started: SignalingService | undefined;
    const callsApi = config.controlToken !== undefined ? new BotCallsApiBackend(() => started) : undefined;
    let signaling: SignalingService;
    try {
      signaling = await SignalingService.start({
        config,
        graph,
        media,
        logger,
        registry,
        notReady: () => readiness.check(),
        ...(callsApi ? { callsApi } : {}),
        ...(serviceHostedHandler
          ? {
              serviceHosted: {
                handler: serviceHostedHandler,
                graph,
                chooseTimeoutMs: options.serviceHostedChooseTimeoutMs,
              },
            }
          : {}),
        ...options.signaling,
      });
    } catch (error) {
      await media.close();
      tokens.close();
      throw error;
    }
    started = signaling;
    // "bot started" says whether calls can be taken: not ready (media host not connected yet,
    // refusing the secret...) is said, with the reasons, instead of passing for all well.
    const notReady = readiness.check();
    logger.info(
      {
        callbackUrl: config.callbackUrl,
        url: signaling.url,
        opsUrl: signaling.opsUrl,
        ready: notReady.length === 0,
        ...(notReady.length > 0 ? { notReady } : {}),
      },
      notReady.length === 0 ? "bot started" : "bot started, not ready yet (see /readyz)",
    );
    readiness.watch(logger);
    return new BotApp(config, signaling, media, registry, tokens, logger, readiness, callsApi);
  }

  /**
   * Joins a Teams meeting with app-hosted media: by its join URL, by its meeting id (and
   * passcode), or by its chat thread and organizer. The call gets a media session and the
   * configured handlers like an answered call (MediaCall.callId is Graph's call id).
   *
   * Resolves once Graph accepted the join (the call is then establishing, possibly waiting in
   * the lobby: see PlacedCall.onEvent and `established`). Rejects at once, with nothing created,
   * with MeetingJoinUrlError or InvalidRequestError for a malformed target and
   * PlaceCallRefusedError (shutting_down, capacity, media_unavailable, tenant_not_allowed);
   * with PlaceCallFailedError when creating the call failed (whatever was created is undone).
   */
  joinMeeting(
    target: string | MeetingIdJoin | MeetingChatInfo,
    options?: PlaceCallOptions,
  ): Promise<PlacedCall> {
    return this.signaling.placeCall({ meeting: target }, options);
  }

  /**
   * Calls a Teams user peer-to-peer with app-hosted media; resolves and rejects as joinMeeting
   * does. A callee who declines ends it with reason "declined", one who cannot be reached with
   * "unreachable".
   */
  callUser(target: UserCallTarget, options?: PlaceCallOptions): Promise<PlacedCall> {
    return this.signaling.placeCall({ user: target }, options);
  }

  /** Hangs up every live call, closes media sessions (finalizing recordings), stops listening. */
  stop(timeoutMs = 10_000): Promise<void> {
    this.stopping ??= (async () => {
      this.readiness.stop();
      await this.signaling.shutdown({ timeoutMs });
      this.callsApi?.close();
      await this.media.close();
      this.tokens.close();
      this.logger.info("bot stopped");
    })();
    return this.stopping;
  }
}
