import type { BotConfig } from "../config/config.js";
import type { Logger } from "../log/logger.js";
import { BridgeMediaSessionProvider } from "../media/bridge-media-session-provider.js";
import { handlerSpecsFromConfig } from "../media/handler-specs.js";
import { BotApp } from "./bot-app.js";

/**
 * The bot as deployed (`npm run bot`, and the soak's bot process): BotApp with its media on the
 * media worker thread, bridged to the configured media host and running the configured handlers.
 */
export function startProductionBot(config: BotConfig, logger: Logger): Promise<BotApp> {
  return BotApp.start({
    config,
    logger,
    media: ({ config: c, logger: l }) =>
      BridgeMediaSessionProvider.start({
        bridge: c.bridge,
        media: c.media,
        handlers: handlerSpecsFromConfig(c.media.handlers ?? [], c.media.handlerOptions),
        maxSessions: c.maxCalls,
        logger: l,
      }),
  });
}
