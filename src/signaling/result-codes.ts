/**
 * What Graph's call-end result codes (resultInfo code/subcode) mean, for logs and metrics.
 * Graph does not publish a complete list; these are the codes documented or commonly reported.
 */

/** Who ended the call, as far as the code tells. */
export type CallEndedBy = "remote" | "bot" | "platform" | "unknown";

export interface ResultCodeMeaning {
  meaning: string;
  endedBy: CallEndedBy;
  /** True when the code points at a problem on the bot's side worth an alert (late answer, no keepAlive, media). */
  botFault: boolean;
}

const KNOWN: ReadonlyMap<string, ResultCodeMeaning> = new Map([
  ["200/5001", { meaning: "ended by the other side (hung up)", endedBy: "remote", botFault: false }],
  ["200/4097", { meaning: "ended by the other side", endedBy: "remote", botFault: false }],
  ["200/7000", { meaning: "ended by the bot (hang up)", endedBy: "bot", botFault: false }],
  ["200/10550", { meaning: "ended by the bot", endedBy: "bot", botFault: false }],
  ["200/7015", { meaning: "transfer completed", endedBy: "platform", botFault: false }],
  ["408/8537", { meaning: "ended: no keepAlive within 45 minutes", endedBy: "platform", botFault: true }],
  ["408/1106", { meaning: "not answered in time (answer deadline)", endedBy: "platform", botFault: true }],
  [
    "408/8544",
    {
      // Reported both for late answers and, most often, for calls stuck in establishing because
      // the media host could not be reached (public media port, certificate or FQDN mismatch).
      meaning:
        "timed out establishing: media endpoint unreachable (media port, certificate, FQDN) or answered too late",
      endedBy: "platform",
      botFault: true,
    },
  ],
  ["410/301005", { meaning: "media connectivity failure", endedBy: "platform", botFault: true }],
  ["500/1005", { meaning: "bot media endpoint unreachable", endedBy: "platform", botFault: true }],
]);

/** Fallbacks by status-like code when the subcode is not known. */
const BY_CODE: ReadonlyMap<number, string> = new Map([
  [200, "ended"],
  [400, "bad request"],
  [403, "forbidden"],
  [404, "call not found"],
  [408, "timed out"],
  [410, "gone (media or connectivity lost)"],
  [480, "temporarily unavailable"],
  [486, "busy"],
  [487, "request terminated"],
  [500, "server error"],
  [503, "service unavailable"],
  [603, "declined"],
]);

export function describeResultCode(code: number, subcode: number): ResultCodeMeaning {
  const known = KNOWN.get(`${code}/${subcode}`);
  if (known) return known;
  const general = BY_CODE.get(code);
  return {
    meaning: general
      ? `${general} (unrecognized subcode ${subcode})`
      : `unrecognized result ${code}/${subcode}`,
    endedBy: "unknown",
    botFault: code === 408 || code === 410 || code >= 500,
  };
}

/** True for the code/subcode pairs named above (metric labels use only these, keeping cardinality bounded). */
export function isKnownResultCode(code: number, subcode: number): boolean {
  return KNOWN.has(`${code}/${subcode}`);
}
