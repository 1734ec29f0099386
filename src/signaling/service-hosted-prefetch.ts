/**
 * A handler's preFetchMedia checked by the very rules of the answer body (request-bodies.ts:
 * https uris, GUID resourceIds, unique, at most MAX_MEDIA_ITEMS), so that a bad list is found
 * when the handler loads or choose() answers, not by a failed answer.
 */
import { answerBody } from "../graph/request-bodies.js";
import type { MediaInfo } from "../graph/types.js";

/** The list as the answer will carry it; throws an Error naming the bad entry. */
export function checkPreFetchMedia(value: unknown): MediaInfo[] {
  const body = answerBody({
    callbackUri: "https://bot.invalid/api/calls",
    acceptedModalities: ["audio"],
    mediaConfig: {
      "@odata.type": "#microsoft.graph.serviceHostedMediaConfig",
      preFetchMedia: value as MediaInfo[],
    },
  }) as { mediaConfig: { preFetchMedia?: MediaInfo[] } };
  return body.mediaConfig.preFetchMedia ?? [];
}
