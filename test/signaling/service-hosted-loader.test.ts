/**
 * BOT_SERVICE_HOSTED_HANDLER[_OPTIONS] read from the configuration (environment or file), and
 * the handler module loaded once at start: what is refused, and with which message.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig, readRawConfig } from "../../src/config/config.js";
import { ConfigError } from "../../src/config/config-error.js";
import { HandlerLoadError } from "../../src/media/handler-loader.js";
import { loadServiceHostedHandler } from "../../src/signaling/service-hosted-loader.js";
import { VALID_BOT_ENV } from "../config/valid-env.js";

const dir = mkdtempSync(join(tmpdir(), "service-hosted-handler-"));
const BEEP = { uri: "https://cdn.contoso.com/beep.wav", resourceId: "f8971b04-b53e-418c-9222-c82ce681a582" };

function moduleFile(name: string, source: string): string {
  const file = join(dir, name);
  writeFileSync(file, source);
  return file;
}

describe("service-hosted handler configuration", () => {
  it("reads the module and its JSON options from the environment, and object options from the config file", () => {
    expect(
      loadConfig({
        ...VALID_BOT_ENV,
        BOT_SERVICE_HOSTED_HANDLER: "./ivr.js#ivr",
        BOT_SERVICE_HOSTED_HANDLER_OPTIONS: '{"greeting":"x"}',
      }).serviceHosted,
    ).toEqual({ handler: "./ivr.js#ivr", options: { greeting: "x" } });
    expect(loadConfig({ ...VALID_BOT_ENV }).serviceHosted).toBeUndefined();
    const file = join(dir, "bot.json");
    writeFileSync(
      file,
      JSON.stringify({
        BOT_SERVICE_HOSTED_HANDLER: "./ivr.ts",
        BOT_SERVICE_HOSTED_HANDLER_OPTIONS: { a: 1 },
      }),
    );
    expect(loadConfig(readRawConfig({ ...VALID_BOT_ENV, BOT_CONFIG_FILE: file })).serviceHosted).toEqual({
      handler: "./ivr.ts",
      options: { a: 1 },
    });
  });

  it.each([
    [
      { BOT_SERVICE_HOSTED_HANDLER_OPTIONS: "{}" },
      "BOT_SERVICE_HOSTED_HANDLER_OPTIONS: is set but BOT_SERVICE_HOSTED_HANDLER is not",
    ],
    [{ BOT_SERVICE_HOSTED_HANDLER: "./ivr.js#1bad" }, "is not <module path>[#export]"],
    [
      { BOT_SERVICE_HOSTED_HANDLER: "./ivr.js", BOT_SERVICE_HOSTED_HANDLER_OPTIONS: "{oops" },
      "is not valid JSON",
    ],
  ])("refuses %j", (env, message) => {
    expect(() => loadConfig({ ...VALID_BOT_ENV, ...env })).toThrow(ConfigError);
    expect(() => loadConfig({ ...VALID_BOT_ENV, ...env })).toThrow(message);
  });
});

describe("loadServiceHostedHandler", () => {
  it("loads a JavaScript module's named export and checks its options once", async () => {
    const file = moduleFile(
      "ivr.mjs",
      `export const ivr = {
        options: (raw) => { if (typeof raw?.greeting !== "string") throw new Error("greeting must be a string"); return raw; },
        preFetchMedia: [${JSON.stringify(BEEP)}],
        create: () => ({}),
      };`,
    );
    const loaded = await loadServiceHostedHandler(`${file}#ivr`, { greeting: "hi" });
    expect(loaded.name).toBe(`${file}#ivr`);
    expect(loaded.options).toEqual({ greeting: "hi" });
    await expect(loadServiceHostedHandler(`${file}#ivr`, {})).rejects.toThrow(
      `service-hosted handler ${file}#ivr: options refused: greeting must be a string`,
    );
  });

  it("loads a TypeScript module's default export", async () => {
    const file = moduleFile(
      "ivr.ts",
      `const handler: { create(call: unknown): object } = { create: () => ({}) };\nexport default handler;\n`,
    );
    expect((await loadServiceHostedHandler(file, undefined)).name).toBe(`${file}#default`);
  });

  it.each([
    ["a missing module", () => join(dir, "missing.mjs"), "cannot load service-hosted handler module"],
    [
      "an export without create()",
      () => moduleFile("bare.mjs", "export default { choose: () => true };"),
      "made with defineServiceHostedHandler",
    ],
    [
      "an http preFetchMedia uri",
      () =>
        moduleFile(
          "http.mjs",
          `export default { preFetchMedia: [{ uri: "http://x/a.wav", resourceId: "${BEEP.resourceId}" }], create: () => ({}) };`,
        ),
      "must use https",
    ],
    [
      "a repeated preFetchMedia resourceId",
      () =>
        moduleFile(
          "twice.mjs",
          `export default { preFetchMedia: [${JSON.stringify(BEEP)}, ${JSON.stringify(BEEP)}], create: () => ({}) };`,
        ),
      "repeats",
    ],
  ])("refuses %s", async (_name, spec, message) => {
    const failure = loadServiceHostedHandler(spec(), undefined);
    await expect(failure).rejects.toBeInstanceOf(HandlerLoadError);
    await expect(loadServiceHostedHandler(spec(), undefined)).rejects.toThrow(message);
  });
});
