/**
 * Call control the bot asks for during a call, by call id: mute/unmute itself, transfer the
 * call, invite participants. Used by the bot's API (and a later HTTP endpoint) and by media
 * handlers through the media worker. A call id that is not one of our live calls is refused
 * before anything reaches Graph; every request ends in a counted outcome
 * (signaling_call_control_requests_total{action, outcome}) and a CallControlError when it fails.
 */
import type { GraphCallsApi } from "../graph/graph-calls-api.js";
import { InvalidRequestError } from "../graph/request-bodies.js";
import type { CommsOperation, InvitationParticipantInfo, TransferRequest } from "../graph/types.js";
import type { Logger } from "../log/logger.js";
import type {
  CallControlFailureInfo,
  CallControlRequest,
  CallControlResult,
} from "../media/call-control-request.js";
import type { SignalingMetrics } from "../metrics/signaling-metrics.js";
import type { Call } from "./call.js";

export type CallControlAction = "mute" | "unmute" | "transfer" | "invite";

/**
 * Why a call-control request failed:
 * - not_our_call: no live call of ours has this id (unknown, ended, or never ours);
 * - invalid_request: the request's body is wrong (caught before sending; `field` names it);
 * - refused: Graph refused it (`status`, `graphCode`), or answered with a failed operation;
 * - failed: Graph could not be reached or its answer was unusable.
 */
export type CallControlFailure = "not_our_call" | "invalid_request" | "refused" | "failed";

export class CallControlError extends Error {
  constructor(
    readonly action: CallControlAction,
    readonly callId: string,
    readonly reason: CallControlFailure,
    message: string,
    /** Graph's HTTP status and error code, when Graph answered. */
    readonly status?: number,
    readonly graphCode?: string,
  ) {
    super(message);
    this.name = "CallControlError";
  }
}

export function failureInfo(error: unknown): CallControlFailureInfo {
  if (error instanceof CallControlError)
    return {
      reason: error.reason,
      message: error.message,
      ...(error.status === undefined ? {} : { status: error.status }),
      ...(error.graphCode === undefined ? {} : { graphCode: error.graphCode }),
    };
  return { reason: "failed", message: error instanceof Error ? error.message : String(error) };
}

/** States in which Graph takes these actions: the call was answered and is not ending. */
const CONTROLLABLE = new Set(["establishing", "established", "hold", "transferring"]);

export interface CallControlOptions {
  graph: GraphCallsApi;
  metrics: SignalingMetrics;
  logger: Logger;
  /** The live call with this id, if it is ours. */
  liveCall(callId: string): Call | undefined;
}

export class CallControl {
  constructor(private readonly options: CallControlOptions) {}

  mute(callId: string, clientContext?: string): Promise<CommsOperation> {
    return this.run("mute", callId, () => this.options.graph.mute(callId, clientContext, { callId }));
  }

  unmute(callId: string, clientContext?: string): Promise<CommsOperation> {
    return this.run("unmute", callId, () => this.options.graph.unmute(callId, clientContext, { callId }));
  }

  /** Resolves once Graph accepted it; the call then ends (200/7015) when the target took it. */
  async transfer(callId: string, request: TransferRequest): Promise<void> {
    await this.run("transfer", callId, async () => {
      await this.options.graph.transfer(callId, request, { callId });
      return {};
    });
  }

  invite(
    callId: string,
    participants: InvitationParticipantInfo[],
    clientContext?: string,
  ): Promise<CommsOperation> {
    return this.run("invite", callId, () =>
      this.options.graph.inviteParticipants(callId, participants, clientContext, { callId }),
    );
  }

  /** A media handler's request: carried out, and its outcome as the worker takes it (never rejects). */
  async forMedia(callId: string, request: CallControlRequest): Promise<CallControlResult> {
    try {
      switch (request.action) {
        case "mute":
          await this.mute(callId);
          break;
        case "unmute":
          await this.unmute(callId);
          break;
        case "transfer":
          await this.transfer(callId, {
            transferTarget: request.transferTarget,
            ...(request.transferee === undefined ? {} : { transferee: request.transferee }),
          });
          break;
        case "invite":
          await this.invite(callId, request.participants);
          break;
        default:
          throw new CallControlError(
            String((request as { action?: unknown }).action) as CallControlAction,
            callId,
            "invalid_request",
            "unknown call-control action",
          );
      }
      return { ok: true };
    } catch (error) {
      return { ok: false, failure: failureInfo(error) };
    }
  }

  private async run(
    action: CallControlAction,
    callId: string,
    request: () => Promise<CommsOperation>,
  ): Promise<CommsOperation> {
    const { metrics, logger } = this.options;
    const call = typeof callId === "string" ? this.options.liveCall(callId) : undefined;
    const fail = (error: CallControlError): never => {
      metrics.callControl.inc({ action, outcome: error.reason });
      logger.warn(
        {
          callId: String(callId).slice(0, 256),
          action,
          reason: error.reason,
          status: error.status,
          err: error.message,
        },
        "call control request failed",
      );
      throw error;
    };
    if (!call)
      return fail(
        new CallControlError(
          action,
          callId,
          "not_our_call",
          `${action}: ${String(callId).slice(0, 80)} is not a live call of this bot`,
        ),
      );
    if (!CONTROLLABLE.has(call.state))
      return fail(
        new CallControlError(
          action,
          callId,
          "refused",
          `${action}: the call is ${call.state}, not answered and live`,
        ),
      );
    let operation: CommsOperation;
    try {
      operation = await request();
    } catch (error) {
      // The Graph client refuses a wrong body before sending (GraphError code invalidRequest).
      if (error instanceof InvalidRequestError || (error as { code?: unknown }).code === "invalidRequest")
        return fail(
          new CallControlError(action, callId, "invalid_request", `${action}: ${(error as Error).message}`),
        );
      const status = (error as { status?: unknown }).status;
      const code = (error as { code?: unknown }).code;
      const known = typeof status === "number" && status > 0;
      return fail(
        new CallControlError(
          action,
          callId,
          known && status < 500 ? "refused" : "failed",
          `${action}: Graph ${known ? `refused it (${status}${typeof code === "string" ? ` ${code}` : ""})` : "could not be reached"}: ${(error as Error).message}`,
          known ? status : undefined,
          typeof code === "string" ? code : undefined,
        ),
      );
    }
    // A 200 can carry a failed operation: nothing changed.
    if (typeof operation.status === "string" && operation.status.toLowerCase() === "failed") {
      const result = operation.resultInfo;
      return fail(
        new CallControlError(
          action,
          callId,
          "refused",
          `${action}: Graph answered with a failed operation${result ? ` (${result.code}/${result.subcode})` : ""}`,
        ),
      );
    }
    metrics.callControl.inc({ action, outcome: "ok" });
    logger.info({ callId, action, operationId: operation.id }, "call control request done");
    return operation;
  }
}
