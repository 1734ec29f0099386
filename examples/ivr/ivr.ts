/**
 * A small IVR with service-hosted media: Graph plays the prompts and hears the keys; the bot
 * only says what to play. Welcome on establishment, a menu prompt per key (the key cuts the
 * prompt playing), `#` hangs up. See README.md next to it.
 */
import { defineServiceHostedHandler } from "teams-media-bot";

/** A prompt file Graph fetches at answer (`resourceId`: a GUID of your choice). */
export interface PromptFile {
  uri: string;
  resourceId: string;
}

export interface IvrOptions {
  welcome: PromptFile;
  /** Graph's tone name (`tone1`, `star`...) -> the prompt played for it. */
  menu: Record<string, PromptFile>;
}

function promptFile(raw: unknown, field: string): PromptFile {
  const value = raw as Partial<PromptFile> | null;
  if (typeof value?.uri !== "string" || typeof value.resourceId !== "string")
    throw new TypeError(`${field} must be {uri, resourceId}`);
  return { uri: value.uri, resourceId: value.resourceId };
}

/** Checks BOT_SERVICE_HOSTED_HANDLER_OPTIONS once, at the bot's start. */
export function parseIvrOptions(raw: unknown): IvrOptions {
  const value = raw as { welcome?: unknown; menu?: unknown } | null;
  if (typeof value?.menu !== "object" || value.menu === null) throw new TypeError("menu must be an object");
  const menu: Record<string, PromptFile> = {};
  for (const [tone, file] of Object.entries(value.menu)) menu[tone] = promptFile(file, `menu.${tone}`);
  return { welcome: promptFile(value.welcome, "welcome"), menu };
}

export default defineServiceHostedHandler<IvrOptions>({
  options: parseIvrOptions,
  // Every call, with all the prompts prefetched (the bot checks the list: https, GUIDs, unique).
  choose: (_call, options) => ({ preFetchMedia: [options.welcome, ...Object.values(options.menu)] }),
  create(call, options) {
    return {
      async onEstablished() {
        await call.subscribeToTone();
        const welcome = await call.playPrompt([{ resourceId: options.welcome.resourceId }]);
        call.log.info({ status: welcome.status }, "welcome prompt ended");
      },
      async onTone(tone) {
        if (tone === "pound") {
          await call.hangUp("caller pressed #");
          return;
        }
        const file = options.menu[tone];
        if (!file) return;
        // The key answers the menu: what is still playing is cut (it settles "cancelled").
        await call.cancelMediaProcessing();
        const played = await call.playPrompt([{ resourceId: file.resourceId }]);
        call.log.info({ tone, status: played.status }, "menu prompt ended");
      },
    };
  },
});
