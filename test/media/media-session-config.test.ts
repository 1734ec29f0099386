import { describe, expect, it } from "vitest";
import {
  buildMediaSessionConfiguration,
  MediaBlobError,
  mediaProcessorUri,
  parseMediaBlob,
  serializeMediaBlob,
} from "../../src/media/media-session-config.js";

// The blob of shared/seed/call-answer.md, unescaped.
const SEED_BLOB =
  '{"mpUri":"net.tcp://bot.contoso.com:18732/MediaProcessor","audioRenderContexts":["14778cc4-f54c-43c7-989f-9092e34ef784"],"videoRenderContexts":[],"audioSourceContexts":["a5dcfc9b-5a54-48ef-86f5-1fdd8508741a"],"videoSourceContexts":[],"dataRenderContexts":null,"dataSourceContexts":null,"supportedAudioFormat":"Pcm16K","videoSinkEncodingFormats":[],"mpMediaSessionId":"2379cf46-acf3-4fef-a914-be9627075320","regionAffinity":null,"skypeMediaBotsVersion":"1.11.1.0086","mediaStackVersion":"2018.53.1.1","mpVersion":"7.2.0.3881","callId":"1b69b141-7f1a-4033-9c34-202737190a20"}';

describe("media session configuration blob", () => {
  it("parses the seed blob and re-serializes it to the same JSON", () => {
    const config = parseMediaBlob(SEED_BLOB);
    expect(config.mpUri).toBe("net.tcp://bot.contoso.com:18732/MediaProcessor");
    expect(config.audioSourceContexts).toEqual(["a5dcfc9b-5a54-48ef-86f5-1fdd8508741a"]);
    expect(config.dataRenderContexts).toBeNull();
    expect(serializeMediaBlob(config)).toBe(SEED_BLOB);
  });

  it("builds a blob from session parts that parses back to the same configuration", () => {
    const config = buildMediaSessionConfiguration({
      callId: "1b69b141-7f1a-4033-9c34-202737190a20",
      mediaSessionId: "2379cf46-acf3-4fef-a914-be9627075320",
      mpUri: mediaProcessorUri("bot.contoso.com", 18732),
      audioRenderContextId: "14778cc4-f54c-43c7-989f-9092e34ef784",
      audioSourceContextId: "a5dcfc9b-5a54-48ef-86f5-1fdd8508741a",
      versions: {
        skypeMediaBotsVersion: "1.11.1.0086",
        mediaStackVersion: "2018.53.1.1",
        mpVersion: "7.2.0.3881",
      },
    });
    expect(serializeMediaBlob(config)).toBe(SEED_BLOB);
    expect(parseMediaBlob(serializeMediaBlob(config))).toEqual(config);
  });

  it("keeps unknown properties through a round trip", () => {
    const withExtra = `${SEED_BLOB.slice(0, -1)},"futureField":{"a":1}}`;
    expect(serializeMediaBlob(parseMediaBlob(withExtra))).toBe(withExtra);
  });

  it.each([
    ["not json", "{", /not JSON/],
    ["an array", "[]", /not a JSON object/],
    ["a bad mpUri", SEED_BLOB.replace("net.tcp://", "http://"), /mpUri/],
    [
      "a non-GUID context",
      SEED_BLOB.replace("14778cc4-f54c-43c7-989f-9092e34ef784", "nope"),
      /audioRenderContexts/,
    ],
    ["another audio format", SEED_BLOB.replace("Pcm16K", "Pcm44K"), /supportedAudioFormat/],
    [
      "a missing session id",
      SEED_BLOB.replace('"mpMediaSessionId":"2379cf46-acf3-4fef-a914-be9627075320",', ""),
      /mpMediaSessionId/,
    ],
  ])("refuses %s with a precise error", (_name, blob, message) => {
    expect(() => parseMediaBlob(blob)).toThrow(MediaBlobError);
    expect(() => parseMediaBlob(blob)).toThrow(message);
  });
});
