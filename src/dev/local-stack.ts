/**
 * The local stack the demo and `teams-media-bot dev` run: the Graph calling emulator, the media
 * platform emulator and the bot, all on loopback, wired as in production (https callback with a
 * throwaway certificate, the bridge secret, BOT_* settings read by loadConfig).
 */
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import path from "node:path";
import { BotApp } from "../app/bot-app.js";
import type { BotConfig } from "../config/config.js";
import { loadConfig } from "../config/config.js";
import { emulatedBotEnv, newEmulatedApp } from "../demo/emulator-bot-env.js";
import { freePort } from "../demo/free-port.js";
import { createLocalBotTls } from "../demo/local-bot-tls.js";
import { GraphEmulator } from "../emulator/graph/graph-emulator.js";
import { speakersInProcess } from "../emulator/graph/participant-audio.js";
import type { AudioSourceSpec } from "../emulator/media/audio-source.js";
import type { SpeakerSpec } from "../emulator/media/emulated-session.js";
import { MediaPlatformEmulator } from "../emulator/media/media-platform-emulator.js";
import type { Logger } from "../log/logger.js";
import type { HandlerSpec } from "../media/bot-api.js";
import { BridgeMediaSessionProvider } from "../media/bridge-media-session-provider.js";
import { parseExposition, type Scrape } from "../metrics/prometheus-text.js";
import type { AnswerTiming } from "../signaling/call-manager.js";

/** The media FQDN the local stack's sessions carry (nothing resolves it: all is on loopback). */
export const LOCAL_MEDIA_FQDN = "media.local.test";

export interface LocalStackOptions {
  handlers: HandlerSpec[];
  /** The caller's audio (the far end of every call). */
  callerSource: AudioSourceSpec;
  /** Meeting speakers, each with its own audio (unmixed buffers when the bot asks for them). */
  speakers?: SpeakerSpec[];
  /** Ask the platform for unmixed per-speaker audio (BOT_MEDIA_UNMIXED_AUDIO). */
  unmixedAudio?: boolean;
  recordingsDir: string;
  logger: Logger;
  logLevel: string;
}

export interface PlacedCall {
  callId: string;
  /** Notification received -> Graph accepted the answer (202), ms. */
  answerMs: number;
  /** Call placed -> established, ms. */
  establishedMs: number;
}

export class LocalStack {
  private readonly answers = new Map<string, AnswerTiming>();

  private constructor(
    readonly graph: GraphEmulator,
    readonly media: MediaPlatformEmulator,
    readonly bot: BotApp,
    readonly provider: BridgeMediaSessionProvider,
    readonly config: BotConfig,
    private readonly tlsDir: string,
    answers: (sink: (timing: AnswerTiming) => void) => void,
  ) {
    answers((timing) => this.answers.set(timing.callId, timing));
  }

  /**
   * Starts the emulators, then the bot with the given handlers. A handler that cannot be
   * loaded rejects here (the media worker's start failure), after what was started is stopped.
   */
  static async start(options: LocalStackOptions): Promise<LocalStack> {
    const { logger } = options;
    const secret = randomBytes(24).toString("base64url");
    const app = newEmulatedApp();
    const port = await freePort();
    const tls = await createLocalBotTls();
    const tlsDir = path.dirname(tls.certPath);
    const stopped: (() => Promise<void>)[] = [() => rm(tlsDir, { recursive: true, force: true })];
    const unwind = async () => {
      for (const stop of stopped.reverse()) await stop().catch(() => undefined);
    };
    try {
      const media = await MediaPlatformEmulator.start({
        secret,
        logger: logger.child({ component: "media-emulator" }),
        fqdn: LOCAL_MEDIA_FQDN,
        publicPort: 8445,
        defaultSource: options.callerSource,
        ...(options.speakers?.length ? { defaultSpeakers: options.speakers } : {}),
      });
      stopped.push(() => media.stop());
      const graph = await GraphEmulator.start({
        logger: logger.child({ component: "graph-emulator" }),
        callbackCaPem: tls.certPem,
        apps: [{ ...app, callbackUrl: `https://127.0.0.1:${port}/api/calls` }],
        // Like the real service: a call is established only once its media session connects.
        establishWhen: (call) =>
          call.mediaSession ? media.connectMedia(call.mediaSession, 10_000) : Promise.resolve(false),
        // Emulated meeting participants and callees speak on the call's media session.
        speakers: speakersInProcess(media),
      });
      stopped.push(() => graph.close());
      const config = loadConfig({
        ...emulatedBotEnv(graph, {
          app,
          port,
          tls,
          mediaFqdn: LOCAL_MEDIA_FQDN,
          bridgeUrl: media.url,
          bridgeSecret: secret,
          recordingsDir: options.recordingsDir,
          logLevel: options.logLevel,
        }),
        BOT_MEDIA_UNMIXED_AUDIO: options.unmixedAudio ? "true" : "false",
      });
      let provider: BridgeMediaSessionProvider | undefined;
      let onAnswered: (timing: AnswerTiming) => void = () => undefined;
      const bot = await BotApp.start({
        config,
        logger,
        media: async ({ config: c, logger: l }) => {
          provider = await BridgeMediaSessionProvider.start({
            bridge: c.bridge,
            media: c.media,
            logger: l,
            handlers: options.handlers,
          });
          await provider.waitUntilConnected(10_000);
          return provider;
        },
        signaling: { onAnswered: (timing) => onAnswered(timing) },
      });
      return new LocalStack(
        graph,
        media,
        bot,
        provider as BridgeMediaSessionProvider,
        config,
        tlsDir,
        (sink) => (onAnswered = sink),
      );
    } catch (error) {
      await unwind();
      throw error;
    }
  }

  /** Rings the bot and waits until the call is established (rejects if it is not within 15 s). */
  async placeCall(callerName = "Alex (emulated caller)"): Promise<PlacedCall> {
    const placedAt = performance.now();
    const { callId } = this.graph.placeIncomingCall({ caller: { displayName: callerName } });
    await this.graph.waitForCallState(callId, "established", 15_000);
    const establishedMs = performance.now() - placedAt;
    const answer = this.answers.get(callId);
    if (!answer) throw new Error(`call ${callId} was established but no answer was measured`);
    return { callId, answerMs: answer.answerAcceptedAt - answer.receivedAt, establishedMs };
  }

  /** The media worker's metrics, parsed. */
  async workerMetrics(): Promise<Scrape> {
    return parseExposition(await this.provider.metrics());
  }

  /** Stops the bot (hanging up live calls), the emulators, and removes the bot's certificate. */
  async stop(): Promise<void> {
    await this.bot.stop(10_000);
    await this.media.stop();
    await this.graph.close();
    await rm(this.tlsDir, { recursive: true, force: true });
  }
}
