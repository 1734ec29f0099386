/**
 * BOT_MEDIA_HANDLER_OPTIONS: options for the BOT_MEDIA_HANDLERS entries, by entry or by
 * position, from the environment or the BOT_CONFIG_FILE, turned into the worker's specs.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig, readRawConfig } from "../../src/config/config.js";
import { ConfigError } from "../../src/config/config-error.js";
import { handlerSpecsFromConfig } from "../../src/media/handler-specs.js";
import { VALID_BOT_ENV } from "./valid-env.js";

const VALID = VALID_BOT_ENV;

const specsOf = (env: Record<string, string>) => {
  const { media } = loadConfig({ ...VALID, ...env });
  return handlerSpecsFromConfig(media.handlers ?? [], media.handlerOptions);
};

const errorOf = (env: Record<string, string>): ConfigError => {
  try {
    loadConfig({ ...VALID, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("loadConfig accepted it");
};

describe("handler options from the configuration", () => {
  it("gives each entry its options, keyed by the entry as written in BOT_MEDIA_HANDLERS", () => {
    expect(
      specsOf({
        BOT_MEDIA_HANDLERS: "recorder,module:./my-bot.ts#bot,player:/srv/hold.wav",
        BOT_MEDIA_HANDLER_OPTIONS: JSON.stringify({
          "module:./my-bot.ts#bot": { greeting: "/srv/hello.wav" },
          "player:/srv/hold.wav": { loop: true },
        }),
      }),
    ).toEqual([
      { builtin: "recorder" },
      { module: "./my-bot.ts", export: "bot", options: { greeting: "/srv/hello.wav" } },
      { builtin: "player", options: { loop: true, wavPath: "/srv/hold.wav" } },
    ]);
  });

  it("takes an array by position, which tells apart an entry listed twice", () => {
    expect(
      specsOf({
        BOT_MEDIA_HANDLERS: "module:./my-bot.ts,module:./my-bot.ts,recorder:unmixed",
        BOT_MEDIA_HANDLER_OPTIONS: '[{"language": "en"}, {"language": "fr"}, null]',
      }),
    ).toEqual([
      { module: "./my-bot.ts", options: { language: "en" } },
      { module: "./my-bot.ts", options: { language: "fr" } },
      { builtin: "recorder", options: { unmixed: true } },
    ]);
  });

  it("refuses bad JSON and ambiguous or unmatched keys with one line naming the variable", () => {
    const twice = { BOT_MEDIA_HANDLERS: "module:./a.ts,module:./a.ts" };
    expect(errorOf({ ...twice, BOT_MEDIA_HANDLER_OPTIONS: '{"module:./a.ts": {' }).message).toBe(
      "BOT_MEDIA_HANDLER_OPTIONS: is not valid JSON (at character 19)",
    );
    expect(errorOf({ ...twice, BOT_MEDIA_HANDLER_OPTIONS: '{"module:./a.ts": {}}' }).message).toMatch(
      /^BOT_MEDIA_HANDLER_OPTIONS: "module:.\/a.ts" is listed more than once in BOT_MEDIA_HANDLERS: give the options as an array/,
    );
    expect(errorOf({ ...twice, BOT_MEDIA_HANDLER_OPTIONS: '{"module:./b.ts": {}}' }).message).toBe(
      'BOT_MEDIA_HANDLER_OPTIONS: key "module:./b.ts" is not an entry of BOT_MEDIA_HANDLERS (module:./a.ts, module:./a.ts)',
    );
    expect(errorOf({ ...twice, BOT_MEDIA_HANDLER_OPTIONS: "[{}]" }).message).toMatch(
      /^BOT_MEDIA_HANDLER_OPTIONS: has 1 elements but BOT_MEDIA_HANDLERS has 2 entries/,
    );
    expect(errorOf({ ...twice, BOT_MEDIA_HANDLER_OPTIONS: '"x"' }).variable).toBe(
      "BOT_MEDIA_HANDLER_OPTIONS",
    );
  });

  it("reads the options as JSON written in the BOT_CONFIG_FILE itself", () => {
    const file = join(mkdtempSync(join(tmpdir(), "bot-config-")), "bot.json");
    writeFileSync(
      file,
      JSON.stringify({
        BOT_MEDIA_HANDLERS: "module:/srv/bot.js",
        BOT_MEDIA_HANDLER_OPTIONS: { "module:/srv/bot.js": { greeting: "hi.wav", retries: 2 } },
      }),
    );
    const { media } = loadConfig({ ...readRawConfig({ BOT_CONFIG_FILE: file }), ...VALID });
    expect(handlerSpecsFromConfig(media.handlers ?? [], media.handlerOptions)).toEqual([
      { module: "/srv/bot.js", options: { greeting: "hi.wav", retries: 2 } },
    ]);
  });
});
