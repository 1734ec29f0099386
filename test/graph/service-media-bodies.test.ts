import { describe, expect, it } from "vitest";
import {
  answerBody,
  clientContextBody,
  MAX_MEDIA_ITEMS,
  playPromptBody,
  recordResponseBody,
} from "../../src/graph/request-bodies.js";
import type { AnswerRequest, MediaPrompt } from "../../src/graph/types.js";
import { refused } from "./helpers.js";

const BEEP = { uri: "https://cdn.contoso.com/beep.wav", resourceId: "f8971b04-b53e-418c-9222-c82ce681a582" };
const COOL = { uri: "https://cdn.contoso.com/cool.wav", resourceId: "86dc814b-c172-4428-9112-60f8ecae1edb" };

function serviceHosted(preFetchMedia: unknown): AnswerRequest {
  return {
    callbackUri: "https://bot.contoso.com/api/calls",
    acceptedModalities: ["audio"],
    mediaConfig: { "@odata.type": "#microsoft.graph.serviceHostedMediaConfig", preFetchMedia } as never,
  };
}

function prompt(mediaInfo: unknown): MediaPrompt {
  return { "@odata.type": "#microsoft.graph.mediaPrompt", mediaInfo } as MediaPrompt;
}

describe("answer with serviceHostedMediaConfig", () => {
  it("emits the seed's body exactly", () => {
    expect(answerBody(serviceHosted([BEEP, COOL]))).toEqual({
      callbackUri: "https://bot.contoso.com/api/calls",
      acceptedModalities: ["audio"],
      mediaConfig: {
        "@odata.type": "#microsoft.graph.serviceHostedMediaConfig",
        preFetchMedia: [BEEP, COOL],
      },
    });
    // preFetchMedia is optional in the CSDL.
    expect(answerBody(serviceHosted(undefined)).mediaConfig).toEqual({
      "@odata.type": "#microsoft.graph.serviceHostedMediaConfig",
    });
  });

  it("refuses non-https URIs, non-GUID or missing or repeated resource ids, too many files, unknown keys", () => {
    expect(
      refused(() => answerBody(serviceHosted([{ ...BEEP, uri: "http://cdn.contoso.com/beep.wav" }]))),
    ).toBe("mediaConfig.preFetchMedia[0].uri must use https, got http:");
    expect(refused(() => answerBody(serviceHosted([BEEP, { ...COOL, uri: "file:///tmp/cool.wav" }])))).toBe(
      "mediaConfig.preFetchMedia[1].uri must use https, got file:",
    );
    expect(refused(() => answerBody(serviceHosted([{ ...BEEP, resourceId: "beep" }])))).toBe(
      'mediaConfig.preFetchMedia[0].resourceId must be a GUID, got "beep"',
    );
    expect(refused(() => answerBody(serviceHosted([{ uri: BEEP.uri }])))).toBe(
      "mediaConfig.preFetchMedia[0].resourceId is required (a GUID)",
    );
    expect(
      refused(() =>
        answerBody(serviceHosted([BEEP, { ...COOL, resourceId: BEEP.resourceId.toUpperCase() }])),
      ),
    ).toBe(`mediaConfig.preFetchMedia[1].resourceId repeats ${BEEP.resourceId}`);
    const many = Array.from({ length: MAX_MEDIA_ITEMS + 1 }, (_, i) => ({
      uri: `https://cdn.contoso.com/${i}.wav`,
      resourceId: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    }));
    expect(refused(() => answerBody(serviceHosted(many)))).toBe(
      `mediaConfig.preFetchMedia must be an array of 0..${MAX_MEDIA_ITEMS} entries`,
    );
    expect(refused(() => answerBody(serviceHosted([{ ...BEEP, size: 3 }])))).toBe(
      "mediaConfig.preFetchMedia[0].size is not a mediaInfo property",
    );
    const extra = serviceHosted([BEEP]);
    (extra.mediaConfig as unknown as Record<string, unknown>).blob = "x";
    expect(refused(() => answerBody(extra))).toBe(
      "mediaConfig.blob is not a serviceHostedMediaConfig property",
    );
  });
});

describe("IVR action bodies", () => {
  it("playPrompt: 1..MAX mediaPrompts with https mediaInfo, resourceId optional but a GUID", () => {
    expect(playPromptBody([prompt(BEEP), prompt({ uri: COOL.uri })], "ctx")).toEqual({
      prompts: [prompt(BEEP), prompt({ uri: COOL.uri })],
      clientContext: "ctx",
    });
    expect(refused(() => playPromptBody([], undefined))).toBe(
      `prompts must be an array of 1..${MAX_MEDIA_ITEMS} entries`,
    );
    expect(refused(() => playPromptBody([prompt({ uri: "http://cdn.contoso.com/a.wav" })], undefined))).toBe(
      "prompts[0].mediaInfo.uri must use https, got http:",
    );
    expect(refused(() => playPromptBody([prompt({ uri: COOL.uri, resourceId: "x" })], undefined))).toBe(
      'prompts[0].mediaInfo.resourceId must be a GUID, got "x"',
    );
    expect(refused(() => playPromptBody([{ mediaInfo: BEEP } as MediaPrompt], undefined))).toBe(
      'prompts[0] must be {"@odata.type": "#microsoft.graph.mediaPrompt", mediaInfo}',
    );
    expect(refused(() => playPromptBody([prompt(BEEP)], "x".repeat(257)))).toBe(
      "clientContext must be at most 256 characters, got 257",
    );
  });

  it("recordResponse: the CSDL's parameters only, timeouts 1..120 s, DTMF stop tones", () => {
    expect(
      recordResponseBody({
        prompts: [prompt(BEEP)],
        bargeInAllowed: true,
        initialSilenceTimeoutInSeconds: 5,
        maxSilenceTimeoutInSeconds: 2,
        maxRecordDurationInSeconds: 10,
        playBeep: true,
        stopTones: ["#", "1", "*", "#"],
        clientContext: "r",
      }),
    ).toEqual({
      prompts: [prompt(BEEP)],
      bargeInAllowed: true,
      playBeep: true,
      initialSilenceTimeoutInSeconds: 5,
      maxSilenceTimeoutInSeconds: 2,
      maxRecordDurationInSeconds: 10,
      stopTones: ["#", "1", "*"],
      clientContext: "r",
    });
    expect(recordResponseBody({})).toEqual({});
    expect(refused(() => recordResponseBody({ maxRecordDurationInSeconds: 121 }))).toBe(
      "maxRecordDurationInSeconds must be an integer in 1..120, got 121",
    );
    expect(refused(() => recordResponseBody({ bargeInAllowed: "yes" as never }))).toBe(
      "bargeInAllowed must be a boolean",
    );
    expect(refused(() => recordResponseBody({ stopTones: ["tone1"] }))).toBe(
      'stopTones holds "tone1", not one of 0-9 * # A-D',
    );
  });

  it("subscribeToTone and cancelMediaProcessing: clientContext only", () => {
    expect(clientContextBody(undefined)).toEqual({});
    expect(clientContextBody("c")).toEqual({ clientContext: "c" });
  });
});
