/**
 * The IVR operations of one service-hosted call waiting for Graph's operation notification.
 * Graph may post the notification before the POST's response (with the operation's id) reaches
 * the bot: a notification for an id not known yet is held while a POST of the call is in flight,
 * and matched when the response names it.
 */
import type { CommsOperation, ResultInfo } from "../graph/types.js";
import type { OperationResult } from "./service-hosted-api.js";

/** An operation notification's content (the parser's operationCompleted event). */
export interface OperationNotice {
  operationId: string;
  /** completed, failed, running, notStarted... (lower camel case). */
  status: string;
  resultInfo?: ResultInfo;
  recordingLocation?: string;
  recordingAccessToken?: string;
  completionReason?: string;
}

/** Final result of an operation plus recordOperation's fields. */
export type OperationOutcome = OperationResult & {
  recordingLocation?: string;
  recordingAccessToken?: string;
  completionReason?: string;
};

/** Graph's resultInfo for an operation ended by cancelMediaProcessing. */
const CANCELLED = { code: 400, subcode: 8508 };

/** Notifications held for POSTs in flight, per call (a bound: Graph sends one per operation). */
const MAX_EARLY_NOTICES = 32;

/** What became of one notification. */
export type NoticeOutcome = "matched" | "held" | "not_final" | "unknown_operation";

export class PendingOperations {
  private readonly pending = new Map<string, (outcome: OperationOutcome) => void>();
  private readonly early = new Map<string, OperationNotice>();
  private inFlight = 0;
  private ended = false;

  /** `onUnknown`: a held notification no POST of the call claimed (counted and logged by the owner). */
  constructor(private readonly onUnknown: (notice: OperationNotice) => void) {}

  /**
   * POSTs an operation and resolves with its final result: from the POST's response when it is
   * final already, else from the operation's notification, else `callEnded` when the call ends.
   * A failed POST resolves failed with its error (never rejects).
   */
  async run(post: () => Promise<CommsOperation>): Promise<OperationOutcome> {
    if (this.ended) return { status: "failed", callEnded: true };
    this.inFlight += 1;
    let operation: CommsOperation;
    try {
      operation = await post();
    } catch (error) {
      this.postDone();
      return { status: "failed", error: (error as Error).message };
    }
    const outcome = this.claim(operation);
    this.postDone();
    return outcome;
  }

  /** The POST's response: its final result now, or a promise of its notification. */
  private claim(operation: CommsOperation): OperationOutcome | Promise<OperationOutcome> {
    const id = typeof operation.id === "string" ? operation.id : undefined;
    const held = id === undefined ? undefined : this.early.get(id);
    if (id !== undefined && held) {
      this.early.delete(id);
      return outcomeOf(held);
    }
    const status = lowerCamel(operation.status);
    if (status === "completed" || status === "failed")
      return outcomeOf({ operationId: id ?? "", status, resultInfo: operation.resultInfo });
    if (id === undefined) return { status: "failed", error: "Graph's operation has no id" };
    if (this.ended) return { status: "failed", callEnded: true };
    return new Promise<OperationOutcome>((resolve) => this.pending.set(id, resolve));
  }

  private postDone(): void {
    this.inFlight -= 1;
    this.dropUnclaimed();
  }

  /** An operation notification for this call. */
  notify(notice: OperationNotice): NoticeOutcome {
    if (notice.status !== "completed" && notice.status !== "failed") return "not_final";
    const resolve = this.pending.get(notice.operationId);
    if (resolve) {
      this.pending.delete(notice.operationId);
      resolve(outcomeOf(notice));
      return "matched";
    }
    if (this.inFlight > 0 && !this.ended && this.early.size < MAX_EARLY_NOTICES) {
      this.early.set(notice.operationId, notice);
      return "held";
    }
    return "unknown_operation";
  }

  /** The call ended: every pending operation settles `failed` with `callEnded`. */
  end(): void {
    this.ended = true;
    for (const resolve of this.pending.values()) resolve({ status: "failed", callEnded: true });
    this.pending.clear();
    this.early.clear();
  }

  /** Held notifications no POST claimed once none is in flight: not ours. */
  private dropUnclaimed(): void {
    if (this.inFlight > 0) return;
    for (const notice of this.early.values()) this.onUnknown(notice);
    this.early.clear();
  }
}

function outcomeOf(notice: OperationNotice): OperationOutcome {
  const cancelled =
    notice.resultInfo?.code === CANCELLED.code && notice.resultInfo.subcode === CANCELLED.subcode;
  return {
    status: cancelled ? "cancelled" : notice.status === "completed" ? "completed" : "failed",
    ...(notice.resultInfo ? { resultInfo: notice.resultInfo } : {}),
    ...(notice.recordingLocation ? { recordingLocation: notice.recordingLocation } : {}),
    ...(notice.recordingAccessToken ? { recordingAccessToken: notice.recordingAccessToken } : {}),
    ...(notice.completionReason ? { completionReason: notice.completionReason } : {}),
  };
}

function lowerCamel(value: unknown): string | undefined {
  if (typeof value !== "string" || value === "") return undefined;
  return value.charAt(0).toLowerCase() + value.slice(1);
}
