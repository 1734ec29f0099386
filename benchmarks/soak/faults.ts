import type { GraphEmulatorProcess } from "../lib/graph-emulator-process.js";
import type { FarEndProcess } from "../load/far-end-process.js";

/**
 * The faults a soak injects, one at a time on a schedule, each through an emulator's documented
 * control (docs/media-emulator.md "Faults", docs/graph-emulator.md "Control API"). Each is
 * named for the report; what it should cost is in its note, what it cost is measured.
 */
export interface SoakFault {
  name: string;
  /** What is injected, as sent to the emulator. */
  spec: unknown;
  /** What a caller should notice, per the docs; the soak measures what happened. */
  expect: string;
  inject(): Promise<void>;
}

export const FAULT_NAMES = [
  "media-disconnect",
  "graph-answer-503",
  "media-restart",
  "graph-notification-duplicate",
  "media-restart-kept",
  "media-stall",
  "graph-answer-slow",
  "graph-notification-drop",
] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

export function faultNamed(
  name: FaultName,
  context: { media: FarEndProcess; graph: GraphEmulatorProcess; graceMs: number },
): SoakFault {
  const { media, graph, graceMs } = context;
  // Inside the grace, with room for the bot's reconnect and resume.
  const outageMs = Math.round(graceMs * 0.6);
  switch (name) {
    case "media-disconnect": {
      const fault = { kind: "disconnect" as const, refuseReconnectMs: outageMs };
      return {
        name,
        spec: fault,
        expect: `the bridge drops and reconnects are refused for ${outageMs} ms (grace ${graceMs} ms): every call kept`,
        inject: () => media.request({ op: "injectFault", fault }).then(() => {}),
      };
    }
    case "media-restart": {
      // A real stop and start of the emulator (far end's restartEmulator), not the emulator's
      // restart fault with keepSessions false: that one keeps listening (upgrades answered 503,
      // not refused by the OS) and keeps what a new process would not have (creations in
      // flight, counters, session numbering). media-restart-kept uses the fault: a platform that
      // outlives its bridge process keeps the sessions, which a new emulator cannot play.
      const downMs = Math.round(graceMs * 0.2);
      return {
        name,
        spec: { restart: { downMs } },
        expect: `the media host dies (sockets cut) and is back in ${downMs} ms with no sessions: its calls cannot be resumed (the protocol: not bound to a new session), so they end through Graph`,
        inject: () => media.request({ op: "restartEmulator", downMs }, 30_000).then(() => {}),
      };
    }
    case "media-restart-kept": {
      const fault = { kind: "restart" as const, keepSessions: true, downMs: outageMs };
      return {
        name,
        spec: fault,
        expect: `the media host's connection is cut with no close frame and it is back in ${outageMs} ms (grace ${graceMs} ms) with its sessions kept: every call resumed with media`,
        inject: () => media.request({ op: "injectFault", fault }).then(() => {}),
      };
    }
    case "media-stall": {
      const fault = { kind: "stall" as const, ms: 1000 };
      return {
        name,
        spec: fault,
        expect: "the host sends and reads nothing for 1 s: frames lost or late, calls kept",
        inject: () => media.request({ op: "injectFault", fault }).then(() => {}),
      };
    }
    case "graph-answer-503": {
      const fault = { match: { action: "answer" }, status: 503, retryAfterSeconds: 1, times: 3 };
      return {
        name,
        spec: fault,
        expect: "the next 3 answers get 503 Retry-After 1: those calls answered on retry",
        inject: () => graph.control("POST", "/faults", fault).then(() => {}),
      };
    }
    case "graph-answer-slow": {
      const fault = { match: { action: "answer" }, delayMs: 3000, times: 5 };
      return {
        name,
        spec: fault,
        expect: "the next 5 answers take 3 s: those calls answered late, none lost",
        inject: () => graph.control("POST", "/faults", fault).then(() => {}),
      };
    }
    case "graph-notification-duplicate": {
      const fault = { duplicate: 5, reorderPair: true };
      return {
        name,
        spec: fault,
        expect: "5 notifications posted twice and one pair out of order: ignored or applied once",
        inject: () => graph.control("POST", "/notification-faults", fault).then(() => {}),
      };
    }
    case "graph-notification-drop": {
      const fault = { drop: 2 };
      return {
        name,
        spec: fault,
        expect:
          "the next 2 notifications never arrive: a lost `established` or `deleted` is found by keepAlive or the bot's own timers, nothing leaks",
        inject: () => graph.control("POST", "/notification-faults", fault).then(() => {}),
      };
    }
  }
}

export function parseFaultNames(value: string): FaultName[] {
  const names = value
    .split(",")
    .map((n) => n.trim())
    .filter(Boolean);
  for (const name of names)
    if (!FAULT_NAMES.includes(name as FaultName))
      throw new Error(`--faults: unknown fault "${name}" (known: ${FAULT_NAMES.join(", ")})`);
  return names as FaultName[];
}
