/**
 * The handler API's types as a bot author uses them, checked by `tsc --noEmit -p .` (this file
 * is part of the project): a factory with its own options type is a CallHandlerFactory without
 * a cast (it was not: the options parameter was `unknown`), defineHandler infers the options
 * from its check, and onTone's tone is the DtmfTone union.
 */
import { describe, expect, it } from "vitest";
import {
  type CallHandler,
  type CallHandlerFactory,
  createPlayerHandler,
  type DtmfTone,
  defineHandler,
  type MediaCall,
} from "../../src/index.js";

interface Greeting {
  greeting: string;
}

function create(call: MediaCall, options: Greeting): CallHandler {
  return { onEnd: () => call.log.info({ greeting: options.greeting }, "ended") };
}

const bare: CallHandlerFactory = create;
const typed: CallHandlerFactory<Greeting> = (call, options) => create(call, options);
const defined = defineHandler({
  options: (raw): Greeting => ({ greeting: String((raw as Greeting).greeting) }),
  create(call, options) {
    const tones: DtmfTone[] = [];
    return {
      onAudio: () => call.log.debug({ greeting: options.greeting.toUpperCase() }, "frame"),
      onTone(tone) {
        // @ts-expect-error "hash" is not a DtmfTone: onTone's tone is the union, not string.
        if (tone === "hash") tones.push(tone);
      },
    };
  },
});
const asFactory: CallHandlerFactory<Greeting> = defined;

describe("handler factory types", () => {
  it("keeps the checks of defineHandler reachable as parseOptions, built-ins included", () => {
    expect([bare, typed, asFactory].every((factory) => typeof factory === "function")).toBe(true);
    expect(defined.parseOptions({ greeting: "hi" })).toEqual({ greeting: "hi" });
    expect(() => createPlayerHandler.parseOptions({ wavPath: 3 })).toThrow(
      "options.wavPath must be a non-empty string, got 3",
    );
  });
});
