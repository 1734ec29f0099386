import type { CallHandler } from "../media/bot-api.js";

type Report = (callback: string, error: unknown) => void;

/**
 * The handler with each callback wrapped to report what it throws or what its promise
 * rejects with; the error still goes on to the call session (thrown again, the same promise
 * returned), which counts and logs it as in production. Only callbacks the handler has are
 * wrapped: the session skips missing ones.
 */
export function observeHandlerErrors(handler: CallHandler, report: Report): CallHandler {
  const observed: CallHandler = {};
  const names = [
    "onAudio",
    "onTone",
    "onDominantSpeaker",
    "onRoster",
    "onSendStatus",
    "onMarkPlayed",
    "onEnd",
  ] as const;
  for (const name of names) {
    const callback = handler[name] as ((...args: unknown[]) => unknown) | undefined;
    if (typeof callback !== "function") continue;
    (observed as Record<string, unknown>)[name] = (a: unknown, b: unknown) => {
      let result: unknown;
      try {
        result = callback.call(handler, a, b);
      } catch (error) {
        report(name, error);
        throw error;
      }
      if (isThenable(result)) result.then(undefined, (error: unknown) => report(name, error));
      return result;
    };
  }
  return observed;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function"
  );
}
