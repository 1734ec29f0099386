import { GOALS } from "../load/load-result.js";

/**
 * The goals of issue 17 ("latency a voice bot can live with") that the headline table and the
 * charts hold the figures against: bench:load's own (load-result.ts GOALS, which it judges per
 * run) and the call counts they apply at. bench:answer writes its goal into its result file,
 * which the answer row uses.
 */
export const HEADLINE_GOALS = {
  /** Echo round trip at 1000 calls: far end's frame sent -> the same audio back at the far end. */
  echoRoundTripP50Ms: GOALS.echoP50Ms,
  echoRoundTripP99Ms: GOALS.echoP99Ms,
  /** Worker CPU per frame over the protocol echo's, same run. */
  maxWorkerOverProtocolEcho: GOALS.maxWorkerOverProtocolEcho,
  /** No frame dropped or trimmed in any run at these call counts. */
  noDropsAtCalls: [200, 1000],
  /** The call count the round trip and CPU goals are judged at. */
  atCalls: 1000,
} as const;
