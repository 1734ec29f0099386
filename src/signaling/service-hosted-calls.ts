/**
 * The calls taken with service-hosted media, in the main thread: asks the handler's choose()
 * (bounded in time), holds each call's prefetched files for its answer, runs the handler's
 * callbacks, and turns the IVR actions into promises settled by Graph's operation notifications.
 */
import { Counter, type Registry } from "prom-client";
import type { GraphServiceMediaApi } from "../graph/graph-calls-api.js";
import {
  clientContextBody,
  InvalidRequestError,
  playPromptBody,
  recordResponseBody,
} from "../graph/request-bodies.js";
import type { MediaInfo, MediaPrompt } from "../graph/types.js";
import type { Logger } from "../log/logger.js";
import type {
  OperationResult,
  PromptSpec,
  RecordOptions,
  RecordResult,
  ServiceHostedCall,
  ServiceHostedCallInfo,
  ServiceHostedHandler,
  ServiceHostedHandlerDefinition,
} from "./service-hosted-api.js";
import {
  type OperationNotice,
  type OperationOutcome,
  PendingOperations,
} from "./service-hosted-operations.js";
import { checkPreFetchMedia } from "./service-hosted-prefetch.js";

/** A handler module resolved at start (service-hosted-loader.ts). */
export interface LoadedServiceHostedHandler {
  name: string;
  definition: ServiceHostedHandlerDefinition<unknown>;
  options: unknown;
}

export interface ServiceHostedCallsOptions {
  handler: LoadedServiceHostedHandler;
  graph: GraphServiceMediaApi;
  logger: Logger;
  registry: Registry;
  /** Hangs a call up through the call manager. */
  hangUp(callId: string, reason: string): Promise<unknown>;
  /** choose() past this counts as "app-hosted" (Graph's 15 s answer window must not be spent here). */
  chooseTimeoutMs?: number;
}

/** Why a bot author's IVR request was refused before anything was sent. */
export class ServiceHostedInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ServiceHostedInputError";
  }
}

type Action = "playPrompt" | "recordResponse" | "subscribeToTone" | "cancelMediaProcessing";
type Callback = "create" | "onEstablished" | "onTone" | "onEnd";

interface Session {
  info: ServiceHostedCallInfo;
  preFetchMedia: MediaInfo[];
  operations: PendingOperations;
  log: Logger;
  /** The handler once create() resolved; undefined when it threw. */
  handler?: Promise<ServiceHostedHandler | undefined>;
}

const DEFAULT_CHOOSE_TIMEOUT_MS = 1000;

export class ServiceHostedCalls {
  private readonly sessions = new Map<string, Session>();
  private readonly handler: LoadedServiceHostedHandler;
  private readonly graph: GraphServiceMediaApi;
  private readonly logger: Logger;
  private readonly hangUpCall: (callId: string, reason: string) => Promise<unknown>;
  private readonly chooseTimeoutMs: number;
  private readonly operationsTotal: Counter<"action" | "status">;
  private readonly choices: Counter<"choice">;
  private readonly handlerErrors: Counter<"callback">;

  constructor(options: ServiceHostedCallsOptions) {
    this.handler = options.handler;
    this.graph = options.graph;
    this.logger = options.logger;
    this.hangUpCall = options.hangUp;
    this.chooseTimeoutMs = options.chooseTimeoutMs ?? DEFAULT_CHOOSE_TIMEOUT_MS;
    const registers = [options.registry];
    this.operationsTotal = new Counter({
      name: "signaling_service_hosted_operations_total",
      help: "IVR operations of service-hosted calls (and their notifications no operation claimed), by action and how they ended: completed, failed, cancelled, refused (bad input, nothing sent), unknown_operation",
      labelNames: ["action", "status"],
      registers,
    });
    this.choices = new Counter({
      name: "signaling_service_hosted_choices_total",
      help: "Incoming calls put to the service-hosted handler's choose(), by outcome: service_hosted, app_hosted, failed (threw or bad preFetchMedia: app-hosted), timed_out (app-hosted)",
      labelNames: ["choice"],
      registers,
    });
    this.handlerErrors = new Counter({
      name: "signaling_service_hosted_handler_errors_total",
      help: "Service-hosted handler callbacks that threw, by callback",
      labelNames: ["callback"],
      registers,
    });
  }

  /**
   * Whether the call is taken service-hosted: true once registered with its prefetched files.
   * A choose() that throws, returns a bad preFetchMedia, or takes longer than the bound means
   * app-hosted (counted, logged); it never fails the call.
   */
  async choose(info: ServiceHostedCallInfo): Promise<boolean> {
    const { definition, options, name } = this.handler;
    let choice: unknown = true;
    if (definition.choose) {
      let timer: NodeJS.Timeout | undefined;
      try {
        choice = await Promise.race([
          Promise.resolve().then(() => definition.choose?.(info, options)),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new ChooseTimeout(this.chooseTimeoutMs)), this.chooseTimeoutMs);
          }),
        ]);
      } catch (error) {
        const timedOut = error instanceof ChooseTimeout;
        this.choices.inc({ choice: timedOut ? "timed_out" : "failed" });
        this.logger.warn(
          { callId: info.callId, handler: name, err: (error as Error)?.message ?? String(error) },
          timedOut
            ? "service-hosted choose() too slow; answering app-hosted"
            : "service-hosted choose() threw; answering app-hosted",
        );
        return false;
      } finally {
        clearTimeout(timer);
      }
    }
    if (choice === false || choice === undefined || choice === null) {
      this.choices.inc({ choice: "app_hosted" });
      return false;
    }
    let preFetchMedia: MediaInfo[];
    try {
      const own =
        typeof choice === "object" ? (choice as { preFetchMedia?: unknown }).preFetchMedia : undefined;
      preFetchMedia = checkPreFetchMedia(own ?? definition.preFetchMedia ?? []);
    } catch (error) {
      this.choices.inc({ choice: "failed" });
      this.logger.warn(
        { callId: info.callId, handler: name, err: (error as Error).message },
        "service-hosted choose() gave a bad preFetchMedia; answering app-hosted",
      );
      return false;
    }
    this.choices.inc({ choice: "service_hosted" });
    const log = this.logger.child({ callId: info.callId });
    const operations = new PendingOperations((notice) => this.unclaimed(info.callId, notice));
    const session: Session = { info, preFetchMedia, operations, log };
    this.sessions.set(info.callId, session);
    session.handler = this.create(session);
    return true;
  }

  /** Whether the call is taken service-hosted (from choose() to its end). */
  has(callId: string): boolean {
    return this.sessions.has(callId);
  }

  /** The files to prefetch when answering the call; undefined = the call is not service-hosted. */
  preFetchMediaOf(callId: string): MediaInfo[] | undefined {
    return this.sessions.get(callId)?.preFetchMedia;
  }

  established(callId: string): void {
    this.invoke(callId, "onEstablished", (handler) => handler.onEstablished?.());
  }

  /** A DTMF tone (Graph's toneInfo) for the handler's onTone. */
  tone(callId: string, tone: string): void {
    this.invoke(callId, "onTone", (handler) => handler.onTone?.(tone));
  }

  /** An operation notification; undefined when the call is not service-hosted (not ours to settle). */
  operation(callId: string, notice: OperationNotice): string | undefined {
    const session = this.sessions.get(callId);
    if (!session) return undefined;
    const outcome = session.operations.notify(notice);
    if (outcome === "unknown_operation") this.unclaimed(callId, notice);
    return outcome;
  }

  /** The call ended (or was never answered): pending operations settle, then onEnd. */
  ended(callId: string, reason: string): void {
    const session = this.sessions.get(callId);
    if (!session) return;
    session.operations.end();
    this.invoke(callId, "onEnd", (handler) => handler.onEnd?.(reason));
    this.sessions.delete(callId);
  }

  private async create(session: Session): Promise<ServiceHostedHandler | undefined> {
    try {
      const handler = await this.handler.definition.create(this.callFor(session), this.handler.options);
      if (handler !== null && typeof handler === "object") return handler;
      session.log.error({ handler: this.handler.name }, "service-hosted create() returned no handler object");
    } catch (error) {
      this.handlerErrors.inc({ callback: "create" });
      session.log.error(
        { handler: this.handler.name, err: error },
        "service-hosted create() threw; the call goes on without it",
      );
    }
    return undefined;
  }

  /** Runs a handler callback once create() is done; in arrival order, never awaited by signaling. */
  private invoke(callId: string, callback: Callback, run: (handler: ServiceHostedHandler) => unknown): void {
    const session = this.sessions.get(callId);
    if (!session?.handler) return;
    void session.handler.then(async (handler) => {
      if (!handler) return;
      try {
        await run(handler);
      } catch (error) {
        this.handlerErrors.inc({ callback });
        session.log.error(
          { handler: this.handler.name, callback, err: error },
          "service-hosted handler callback threw",
        );
      }
    });
  }

  private callFor(session: Session): ServiceHostedCall {
    const { callId } = session.info;
    const graphOptions = { callId };
    return {
      ...session.info,
      log: session.log,
      preFetchMedia: session.preFetchMedia,
      playPrompt: async (specs, options) => {
        const prompts = this.refuseBadInput("playPrompt", () => {
          const list = this.prompts(session, specs);
          playPromptBody(list, options?.clientContext);
          return list;
        });
        return this.run(session, "playPrompt", () =>
          this.graph.playPrompt(callId, prompts, options?.clientContext, graphOptions),
        );
      },
      recordResponse: async (options: RecordOptions = {}) => {
        const request = this.refuseBadInput("recordResponse", () => {
          if (options === null || typeof options !== "object" || Array.isArray(options))
            throw new ServiceHostedInputError("options must be an object");
          const { prompts, ...rest } = options;
          const built = {
            ...rest,
            ...(prompts === undefined ? {} : { prompts: this.prompts(session, prompts, 0) }),
          };
          recordResponseBody(built);
          return built;
        });
        return this.run(session, "recordResponse", () =>
          this.graph.recordResponse(callId, request, graphOptions),
        );
      },
      subscribeToTone: async (options) => {
        this.refuseBadInput("subscribeToTone", () => clientContextBody(options?.clientContext));
        return this.run(session, "subscribeToTone", () =>
          this.graph.subscribeToTone(callId, options?.clientContext, graphOptions),
        );
      },
      cancelMediaProcessing: async (options) => {
        this.refuseBadInput("cancelMediaProcessing", () => clientContextBody(options?.clientContext));
        return this.run(session, "cancelMediaProcessing", () =>
          this.graph.cancelMediaProcessing(callId, options?.clientContext, graphOptions),
        );
      },
      hangUp: async (reason = "requested") => {
        await this.hangUpCall(callId, `service-hosted handler: ${reason}`);
      },
    };
  }

  /** Prompt specs to Graph's mediaPrompts: `{resourceId}` must name a file prefetched at answer. */
  private prompts(session: Session, specs: PromptSpec[], min = 1): MediaPrompt[] {
    if (!Array.isArray(specs) || specs.length < min)
      throw new ServiceHostedInputError(`prompts must be an array of at least ${min} prompt(s)`);
    return specs.map((spec, index) => {
      if (spec === null || typeof spec !== "object")
        throw new ServiceHostedInputError(
          `prompts[${index}] must be {uri} or {resourceId} of a prefetched file`,
        );
      const resourceId = (spec as { resourceId?: unknown }).resourceId;
      const uri = (spec as { uri?: unknown }).uri;
      if (uri === undefined && typeof resourceId === "string") {
        const lower = resourceId.toLowerCase();
        const prefetched = session.preFetchMedia.find((item) => item.resourceId?.toLowerCase() === lower);
        if (!prefetched)
          throw new ServiceHostedInputError(
            `prompts[${index}].resourceId ${JSON.stringify(resourceId.slice(0, 64))} was not prefetched at answer (preFetchMedia)`,
          );
        return { "@odata.type": "#microsoft.graph.mediaPrompt", mediaInfo: { ...prefetched } };
      }
      if (typeof uri !== "string")
        throw new ServiceHostedInputError(
          `prompts[${index}] must be {uri} or {resourceId} of a prefetched file`,
        );
      return {
        "@odata.type": "#microsoft.graph.mediaPrompt",
        mediaInfo: typeof resourceId === "string" ? { uri, resourceId } : { uri },
      };
    });
  }

  /** Checks a request before anything is sent; a refusal is counted and thrown to the handler. */
  private refuseBadInput<T>(action: Action, check: () => T): T {
    try {
      return check();
    } catch (error) {
      this.operationsTotal.inc({ action, status: "refused" });
      if (error instanceof InvalidRequestError)
        throw new ServiceHostedInputError(`${action}: ${error.message}`);
      if (error instanceof ServiceHostedInputError)
        throw new ServiceHostedInputError(`${action}: ${error.message}`);
      throw error;
    }
  }

  private async run<R extends OperationResult = OperationOutcome>(
    session: Session,
    action: Action,
    post: Parameters<PendingOperations["run"]>[0],
  ): Promise<R & RecordResult> {
    const outcome = await session.operations.run(post);
    this.operationsTotal.inc({ action, status: outcome.status });
    // The recording's access token is a secret: only its presence is logged.
    session.log[outcome.status === "failed" ? "warn" : "info"](
      {
        action,
        status: outcome.status,
        resultInfo: outcome.resultInfo,
        callEnded: outcome.callEnded,
        error: outcome.error,
        hasRecording: outcome.recordingLocation !== undefined,
      },
      "service-hosted operation ended",
    );
    return outcome as R & RecordResult;
  }

  private unclaimed(callId: string, notice: OperationNotice): void {
    this.operationsTotal.inc({ action: "unknown", status: "unknown_operation" });
    this.logger.warn(
      { callId, operationId: notice.operationId.slice(0, 64), status: notice.status },
      "operation notification for no operation of this call; ignored",
    );
  }
}

class ChooseTimeout extends Error {
  constructor(ms: number) {
    super(`choose() did not answer within ${ms} ms`);
    this.name = "ChooseTimeout";
  }
}
