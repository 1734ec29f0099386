import type { GraphEmulatorProcess } from "../lib/graph-emulator-process.js";

/** What became of one call, as the Graph emulator (the calling service) saw it. */
export type CallFate =
  | "placing"
  | "live"
  /** The soak hung it up (the caller leaving): the normal end. */
  | "ended"
  /** Established, then ended by someone else than the soak: the bot, Graph, a timeout. */
  | "lost"
  /** Never established. */
  | "failed";

export interface SoakCall {
  id: string;
  placedAtS: number;
  establishedAtS?: number;
  /** When the soak means to hang up. */
  endAtS?: number;
  endedAtS?: number;
  fate: CallFate;
  /** Graph's resultInfo as code/subcode with its message, or why the soak gave up on it. */
  reason?: string;
}

interface GraphCall {
  state: string;
  resultInfo?: { code: number; subcode: number; message?: string };
  answeredAt?: number;
}

export interface ChurnOptions {
  /** Calls kept up at once. */
  calls: number;
  /** Mean call length; each call lasts a uniform draw in [0.5, 1.5] × this. */
  callSeconds: number;
  /** Most calls placed per second (the ramp and the replacements). */
  placeRate: number;
  /** How long a placed call may take to be established. */
  establishTimeoutMs: number;
}

/** Graph's answer for a call that ended: "code/subcode message". */
export function resultOf(call: GraphCall | undefined): string {
  const r = call?.resultInfo;
  // Graph ends a rejected call with a `deleted` notification that has no resultInfo.
  if (!r && call?.state === "terminated") return "rejected by the bot (no resultInfo)";
  if (!r) return call ? `not ended (state ${call.state})` : "unknown call";
  return `${r.code}/${r.subcode}${r.message ? ` ${r.message}` : ""}`;
}

/**
 * Keeps `calls` calls up through the Graph emulator: rings the bot at most `placeRate` times a
 * second, hangs each call up (as the caller) after its drawn length, and rings again for every
 * call that ended, was lost or never came up, so calls come and go all through the run and a
 * leak per call shows. Every call's fate is kept for the report.
 */
export class CallChurn {
  readonly all = new Map<string, SoakCall>();
  private placing = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly started = performance.now();
  private readonly ending = new Set<Promise<unknown>>();
  /** Errors of the soak's own requests (not call outcomes), by message, for the report. */
  readonly driverErrors = new Map<string, number>();

  constructor(
    private readonly graph: GraphEmulatorProcess,
    private readonly options: ChurnOptions,
    private readonly random: () => number = Math.random,
  ) {}

  /** Seconds since the churn was created (the soak's clock). */
  nowS(): number {
    return (performance.now() - this.started) / 1000;
  }

  start(): void {
    const tickMs = 1000 / this.options.placeRate;
    this.timer = setInterval(() => this.tick(), Math.max(5, tickMs));
  }

  /** Established calls not yet ended, as far as the soak knows. */
  live(): SoakCall[] {
    return [...this.all.values()].filter((c) => c.fate === "live");
  }

  counts(): Record<CallFate, number> {
    const out: Record<CallFate, number> = { placing: 0, live: 0, ended: 0, lost: 0, failed: 0 };
    for (const call of this.all.values()) out[call.fate]++;
    return out;
  }

  /**
   * Asks Graph about each of these calls (a few at a time) and marks the ones it ended as
   * lost, with its reason. Returns the calls found lost now.
   */
  async findLost(calls: readonly SoakCall[]): Promise<SoakCall[]> {
    const lost: SoakCall[] = [];
    await inBatches(calls, 16, async (call) => {
      if (call.fate !== "live") return;
      const state = await this.get(call.id);
      if (call.fate !== "live" || state === undefined || state.state === "established") return;
      if (state.state === "terminated" || state.state === "terminating") {
        this.settle(call, "lost", resultOf(state));
        lost.push(call);
      }
    });
    return lost;
  }

  /** Stops placing calls, then hangs up every call still up; resolves when all are settled. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    const live = this.live();
    await this.findLost(live);
    await inBatches(this.live(), 16, (call) => this.hangUp(call));
    await Promise.allSettled([...this.ending]);
    // Calls that were still coming up when the first pass ran.
    await inBatches(this.live(), 16, (call) => this.hangUp(call));
  }

  private tick(): void {
    if (this.stopped) return;
    const now = this.nowS();
    for (const call of this.all.values()) {
      if (call.fate === "live" && call.endAtS !== undefined && call.endAtS <= now) {
        call.endAtS = undefined;
        this.track(this.hangUp(call));
      }
    }
    if (this.placing + this.live().length < this.options.calls) this.track(this.place());
  }

  private track(work: Promise<unknown>): void {
    this.ending.add(work);
    void work.finally(() => this.ending.delete(work));
  }

  private async place(): Promise<void> {
    this.placing++;
    let call: SoakCall | undefined;
    try {
      const { callId } = (await this.graph.control("POST", "/calls", {})) as { callId: string };
      call = { id: callId, placedAtS: this.nowS(), fate: "placing" };
      this.all.set(callId, call);
      await this.graph.control("POST", `/calls/${callId}/wait`, {
        state: "established",
        timeoutMs: this.options.establishTimeoutMs,
      });
      const lengthS = this.options.callSeconds * (0.5 + this.random());
      call.establishedAtS = this.nowS();
      call.endAtS = call.establishedAtS + lengthS;
      call.fate = "live";
    } catch (error) {
      if (!call) {
        this.countError(`placing a call: ${(error as Error).message}`);
        return;
      }
      const state = await this.get(call.id);
      const ended = state?.state === "terminated" || state?.state === "terminating";
      this.settle(
        call,
        "failed",
        state === undefined
          ? "unknown"
          : ended
            ? resultOf(state)
            : `still ${state.state} after ${this.options.establishTimeoutMs} ms (neither established nor ended)`,
      );
      // Not established in time and still going: the caller gives up.
      if (state && !ended) await this.graph.control("POST", `/calls/${call.id}/end`, {}).catch(() => {});
    } finally {
      this.placing--;
    }
  }

  private async hangUp(call: SoakCall): Promise<void> {
    try {
      await this.graph.control("POST", `/calls/${call.id}/end`, {});
      this.settle(call, "ended", "200/5001 hung up by the soak (the caller)");
    } catch {
      // Refused: Graph had ended it already; say why.
      const state = await this.get(call.id);
      this.settle(call, "lost", resultOf(state));
    }
  }

  private settle(call: SoakCall, fate: CallFate, reason: string): void {
    if (call.fate !== "live" && call.fate !== "placing") return;
    call.fate = fate;
    call.reason = reason;
    call.endedAtS = this.nowS();
  }

  private async get(callId: string): Promise<GraphCall | undefined> {
    try {
      return (await this.graph.control("GET", `/calls/${callId}`)) as GraphCall;
    } catch (error) {
      this.countError(`reading a call: ${(error as Error).message.slice(0, 120)}`);
      return undefined;
    }
  }

  private countError(message: string): void {
    this.driverErrors.set(message, (this.driverErrors.get(message) ?? 0) + 1);
  }
}

/** Runs `work` over `items`, at most `width` at a time. */
export async function inBatches<T>(
  items: readonly T[],
  width: number,
  work: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item).catch(() => {});
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
}
