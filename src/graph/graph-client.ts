import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { Registry } from "prom-client";
import type { GraphClientSettings } from "../config/config.js";
import type { Logger } from "../log/logger.js";
import { type GraphMetrics, graphMetrics } from "../metrics/graph-metrics.js";
import type { GraphCallsApi, GraphRequestOptions, GraphServiceMediaApi } from "./graph-calls-api.js";
import { GraphError, type GraphErrorInit, parseGraphErrorBody } from "./graph-error.js";
import { httpsRequest } from "./https-request.js";
import {
  answerBody,
  callIdSegment,
  clientContextBody,
  createCallBody,
  InvalidRequestError,
  inviteBody,
  playPromptBody,
  recordingStatusBody,
  recordResponseBody,
  redirectBody,
  rejectBody,
  transferBody,
} from "./request-bodies.js";
import { attemptTimeoutMs, requestBudget } from "./request-budget.js";
import {
  type BackoffSettings,
  DEFAULT_BACKOFF,
  decideRetry,
  isOutcomeUnknown,
  type NotRetriedWhy,
  parseRetryAfter,
  type RetryReason,
  reasonForStatus,
  reasonForTransportError,
} from "./retry-policy.js";
import type {
  AnswerRequest,
  CallResource,
  CommsOperation,
  CreateCallRequest,
  InvitationParticipantInfo,
  MediaPrompt,
  Participant,
  RecordingStatus,
  RecordResponseRequest,
  RejectReason,
  TransferRequest,
} from "./types.js";

export interface GraphClientOptions {
  /** Graph base URL with version, e.g. https://graph.microsoft.com/v1.0 (config.graphUrl). */
  baseUrl: string;
  tokenProvider: { getToken(): Promise<string> };
  settings: GraphClientSettings;
  /** Extra trusted CA (PEM), e.g. the Graph emulator's. */
  ca?: string | Buffer;
  logger: Logger;
  registry: Registry;
  backoff?: BackoffSettings;
  /** Jitter source; tests may pin it. */
  random?: () => number;
}

type Method = "GET" | "POST" | "DELETE";

interface LogicalRequest {
  action: string;
  method: Method;
  url: string;
  body?: Record<string, unknown>;
  /**
   * Safe to repeat when Graph may already have acted on it. redirect and createCall are not: a
   * repeated createCall places a second call. Those are retried only when Graph certainly did
   * not act (429, 503, connection refused); otherwise they fail with outcomeUnknown and the
   * caller learns the truth from the call's notifications. answer is: Graph answers a call
   * only while it is incoming and refuses a second answer (409), so a repeat cannot answer
   * twice; a refusal after an attempt of unknown outcome fails with outcomeUnknown.
   */
  idempotent: boolean;
  /** A 404 after an attempt whose outcome is unknown means that attempt worked (the call is gone). */
  goneMeansDone?: boolean;
  options: GraphRequestOptions | undefined;
}

interface Success {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  attempts: number;
  clientRequestId: string;
}

/** Upper bound on participant pages followed, against a server that links to itself forever. */
const MAX_PARTICIPANT_PAGES = 50;

/**
 * Graph calls REST client: exact v1.0 URLs and metadata-checked bodies, an app token per
 * request from the token provider, retries with full-jitter backoff on 429/500/502/503/504
 * (honouring Retry-After) and on connection failures (retry-policy.ts says which requests), bounded by attempts and an overall deadline, or by
 * the caller's own deadline (request-budget.ts).
 * One client-request-id per logical request, kept across its retries and logged.
 */
export class GraphClient implements GraphCallsApi, GraphServiceMediaApi {
  private readonly baseUrl: string;
  private readonly origin: string;
  private readonly tokenProvider: { getToken(): Promise<string> };
  private readonly settings: GraphClientSettings;
  private readonly ca: string | Buffer | undefined;
  private readonly logger: Logger;
  private readonly metrics: GraphMetrics;
  private readonly backoff: BackoffSettings;
  private readonly random: () => number;

  constructor(options: GraphClientOptions) {
    const base = new URL(options.baseUrl);
    if (base.protocol !== "https:" && base.protocol !== "http:") {
      throw new Error(`GraphClient baseUrl must be http(s), got ${options.baseUrl}`);
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.origin = base.origin;
    this.tokenProvider = options.tokenProvider;
    this.settings = options.settings;
    this.ca = options.ca;
    this.logger = options.logger.child({ component: "graph-client" });
    this.metrics = graphMetrics(options.registry);
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.random = options.random ?? Math.random;
  }

  async answer(callId: string, body: AnswerRequest, options?: GraphRequestOptions): Promise<void> {
    await this.send("answer", options, callId, () => ({
      method: "POST",
      url: this.callUrl(callId, "/answer"),
      body: answerBody(body),
      // A repeat cannot answer twice (see LogicalRequest.idempotent): retried after 500, 502,
      // 504 and timeouts too, within the caller's deadline, as well as after 429 and 503.
      idempotent: true,
    }));
  }

  async reject(
    callId: string,
    reason: RejectReason,
    callbackUri?: string,
    options?: GraphRequestOptions,
  ): Promise<void> {
    await this.send("reject", options, callId, () => ({
      method: "POST",
      url: this.callUrl(callId, "/reject"),
      body: rejectBody(reason, callbackUri),
      idempotent: true,
      goneMeansDone: true,
    }));
  }

  async redirect(
    callId: string,
    targets: InvitationParticipantInfo[],
    timeoutSeconds?: number,
    callbackUri?: string,
    options?: GraphRequestOptions,
  ): Promise<void> {
    await this.send("redirect", options, callId, () => ({
      method: "POST",
      url: this.callUrl(callId, "/redirect"),
      body: redirectBody(targets, timeoutSeconds, callbackUri),
      idempotent: false,
    }));
  }

  async hangUp(callId: string, options?: GraphRequestOptions): Promise<void> {
    await this.send("hangUp", options, callId, () => ({
      method: "DELETE",
      url: this.callUrl(callId, ""),
      idempotent: true,
      goneMeansDone: true,
    }));
  }

  async keepAlive(callId: string, options?: GraphRequestOptions): Promise<void> {
    await this.send("keepAlive", options, callId, () => ({
      method: "POST",
      url: this.callUrl(callId, "/keepAlive"),
      idempotent: true,
    }));
  }

  async createCall(body: CreateCallRequest, options?: GraphRequestOptions): Promise<CallResource> {
    const response = await this.send("createCall", options, undefined, () => ({
      method: "POST",
      url: `${this.baseUrl}/communications/calls`,
      body: createCallBody(body),
      idempotent: false,
    }));
    const call = this.parseJson(response, "createCall", options);
    if (!isObject(call) || typeof call.id !== "string" || call.id === "") {
      // The call probably exists now; the caller cannot address it, so say so plainly.
      throw this.invalidResponse("createCall", response, "the created call has no id", options, true);
    }
    return call as CallResource;
  }

  async updateRecordingStatus(
    callId: string,
    status: RecordingStatus,
    clientContext?: string,
    options?: GraphRequestOptions,
  ): Promise<CommsOperation> {
    // Setting the same status twice leaves the call in the same state.
    return this.postOperation(
      "updateRecordingStatus",
      callId,
      () => recordingStatusBody(status, clientContext),
      true,
      options,
    );
  }

  /** Plays prompts in a call with service-hosted media; Graph's operation (Running at first). */
  async playPrompt(
    callId: string,
    prompts: MediaPrompt[],
    clientContext?: string,
    options?: GraphRequestOptions,
  ): Promise<CommsOperation> {
    // A repeat would play the prompts twice.
    return this.postOperation(
      "playPrompt",
      callId,
      () => playPromptBody(prompts, clientContext),
      false,
      options,
    );
  }

  /** Records the caller's answer (after optional prompts) in a call with service-hosted media. */
  async recordResponse(
    callId: string,
    request: RecordResponseRequest,
    options?: GraphRequestOptions,
  ): Promise<CommsOperation> {
    return this.postOperation("recordResponse", callId, () => recordResponseBody(request), false, options);
  }

  /** Asks Graph for the caller's DTMF tones (toneInfo notifications). */
  async subscribeToTone(
    callId: string,
    clientContext?: string,
    options?: GraphRequestOptions,
  ): Promise<CommsOperation> {
    return this.postOperation(
      "subscribeToTone",
      callId,
      () => clientContextBody(clientContext),
      true,
      options,
    );
  }

  /** Cancels the call's running and queued playPrompt/recordResponse operations. */
  async cancelMediaProcessing(
    callId: string,
    clientContext?: string,
    options?: GraphRequestOptions,
  ): Promise<CommsOperation> {
    return this.postOperation(
      "cancelMediaProcessing",
      callId,
      () => clientContextBody(clientContext),
      true,
      options,
    );
  }

  /** Mutes the bot itself in the call (muteParticipantOperation, completed at once). */
  async mute(callId: string, clientContext?: string, options?: GraphRequestOptions): Promise<CommsOperation> {
    // Muting twice leaves the bot muted.
    return this.postOperation("mute", callId, () => clientContextBody(clientContext), true, options);
  }

  /** Unmutes the bot itself in the call. */
  async unmute(
    callId: string,
    clientContext?: string,
    options?: GraphRequestOptions,
  ): Promise<CommsOperation> {
    return this.postOperation("unmute", callId, () => clientContextBody(clientContext), true, options);
  }

  /**
   * Transfers an established peer-to-peer call (202); the call then goes `transferring` and
   * ends with 200/7015 once the target took it, or back to `established` if it failed.
   */
  async transfer(callId: string, request: TransferRequest, options?: GraphRequestOptions): Promise<void> {
    // A repeat could transfer twice: retried only when Graph certainly did not act.
    await this.send("transfer", options, callId, () => ({
      method: "POST",
      url: this.callUrl(callId, "/transfer"),
      body: transferBody(request),
      idempotent: false,
    }));
  }

  /** Invites participants into the call: POST .../participants/invite -> inviteParticipantsOperation. */
  async inviteParticipants(
    callId: string,
    participants: InvitationParticipantInfo[],
    clientContext?: string,
    options?: GraphRequestOptions,
  ): Promise<CommsOperation> {
    // A repeat would ring the invitees twice.
    const response = await this.send("invite", options, callId, () => ({
      method: "POST",
      url: this.callUrl(callId, "/participants/invite"),
      body: inviteBody(participants, clientContext),
      idempotent: false,
    }));
    return this.operationOf(response, "invite", options);
  }

  /** POSTs a call action whose answer is a commsOperation; the body is built inside send. */
  private async postOperation(
    action: string,
    callId: string,
    body: () => Record<string, unknown>,
    idempotent: boolean,
    options: GraphRequestOptions | undefined,
  ): Promise<CommsOperation> {
    const response = await this.send(action, options, callId, () => ({
      method: "POST",
      url: this.callUrl(callId, `/${action}`),
      body: body(),
      idempotent,
    }));
    return this.operationOf(response, action, options);
  }

  /** The commsOperation in an action's response (an empty body is an empty operation). */
  private operationOf(
    response: Success,
    name: string,
    options: GraphRequestOptions | undefined,
  ): CommsOperation {
    if (response.body.length === 0) return {};
    const operation = this.parseJson(response, name, options);
    if (!isObject(operation)) {
      throw this.invalidResponse(name, response, "the operation is not an object", options);
    }
    return operation as CommsOperation;
  }

  async listParticipants(callId: string, options?: GraphRequestOptions): Promise<Participant[]> {
    const participants: Participant[] = [];
    let nextUrl: string | undefined;
    for (let page = 0; page === 0 || nextUrl !== undefined; page++) {
      const pageUrl = nextUrl;
      const response = await this.send("listParticipants", options, callId, () => ({
        method: "GET",
        url: pageUrl ?? this.callUrl(callId, "/participants"),
        idempotent: true,
      }));
      const body = this.parseJson(response, "listParticipants", options);
      if (!isObject(body) || !Array.isArray(body.value)) {
        throw this.invalidResponse("listParticipants", response, "the body has no value array", options);
      }
      let dropped = 0;
      for (const item of body.value) {
        if (isObject(item) && typeof item.id === "string" && item.id.trim() !== "") {
          participants.push(item as Participant);
        } else dropped += 1;
      }
      if (dropped > 0) {
        this.metrics.invalidResponses.inc({ action: "listParticipants" }, dropped);
        this.logger.warn(
          { callId: options?.callId ?? callId, dropped, clientRequestId: response.clientRequestId },
          "participants without an id dropped",
        );
      }
      nextUrl = this.nextLink(body["@odata.nextLink"], response, options);
      if (nextUrl !== undefined && page + 1 === MAX_PARTICIPANT_PAGES) {
        throw this.invalidResponse(
          "listParticipants",
          response,
          `more than ${MAX_PARTICIPANT_PAGES} pages`,
          options,
        );
      }
    }
    return participants;
  }

  /** Only same-origin next links are followed: the bearer token must not go anywhere else. */
  private nextLink(
    link: unknown,
    response: Success,
    options: GraphRequestOptions | undefined,
  ): string | undefined {
    if (link === undefined || link === null) return undefined;
    if (typeof link === "string") {
      try {
        if (new URL(link).origin === this.origin) return link;
      } catch {
        // fall through to the error below
      }
    }
    throw this.invalidResponse("listParticipants", response, "@odata.nextLink is not a Graph URL", options);
  }

  private callUrl(callId: string, suffix: string): string {
    return `${this.baseUrl}/communications/calls/${callIdSegment(callId)}${suffix}`;
  }

  /**
   * Runs one logical request. `build` validates the input; a validation failure is counted and
   * rejected before anything is sent.
   */
  private async send(
    action: string,
    options: GraphRequestOptions | undefined,
    callId: string | undefined,
    build: () => Omit<LogicalRequest, "action" | "options">,
  ): Promise<Success> {
    let request: LogicalRequest;
    try {
      request = { ...build(), action, options };
    } catch (error) {
      if (error instanceof InvalidRequestError) {
        throw this.validationError(
          action,
          { ...options, callId: options?.callId ?? callId },
          error.message,
          0,
          error,
        );
      }
      throw error;
    }
    return this.execute(request, options?.callId ?? callId?.trim());
  }

  private async execute(request: LogicalRequest, callId: string | undefined): Promise<Success> {
    const action = request.action;
    const settings = this.settings;
    const signal = request.options?.signal;
    const clientRequestId = randomUUID();
    const log = this.logger.child({ callId, action, clientRequestId });
    const started = performance.now();
    const budget = requestBudget(settings, started, request.options?.deadlineAt);
    // A body-less POST (keepAlive) still sends Content-Length: 0 rather than a chunked body.
    let payload: string | undefined;
    if (request.body !== undefined) payload = JSON.stringify(request.body);
    else if (request.method === "POST") payload = "";
    let attempts = 0;
    let previousOutcomeUnknown = false;
    const stopRetries = request.options?.stopRetries;
    // Fails the request with the last failed attempt's error.
    let lastFailure: ((gaveUp?: NotRetriedWhy) => GraphError) | undefined;

    const finish = (statusLabel: string): void => {
      this.metrics.requests.inc({ action, status: statusLabel });
      this.metrics.requestDuration.observe({ action }, (performance.now() - started) / 1000);
    };
    const fail = (
      statusLabel: string,
      init: Omit<GraphErrorInit, "action" | "clientRequestId" | "attempts" | "callId">,
    ): GraphError => {
      finish(statusLabel);
      const error = new GraphError({ ...init, action, clientRequestId, attempts, callId });
      // Debug: the caller logs the failure once, at the level its meaning deserves.
      log.debug(
        { ...error.toLog(), durationMs: Math.round(performance.now() - started) },
        "graph request failed",
      );
      return error;
    };

    for (;;) {
      if (lastFailure && stopRetries?.aborted) throw lastFailure("stopped");
      if (signal?.aborted) {
        throw fail("aborted", {
          status: 0,
          code: "aborted",
          message: "aborted by the caller",
          outcomeUnknown: previousOutcomeUnknown,
        });
      }
      let token: string;
      try {
        token = await this.tokenProvider.getToken();
      } catch (error) {
        throw fail("token", {
          status: 0,
          code: "tokenUnavailable",
          message: error instanceof Error ? error.message : String(error),
          outcomeUnknown: previousOutcomeUnknown,
          cause: error,
        });
      }
      // Every attempt, the first too, is held to the deadline.
      const timeoutMs = attemptTimeoutMs(budget, settings, performance.now());
      if (timeoutMs === 0) {
        throw fail("deadline", {
          status: 0,
          code: "deadlineExceeded",
          message: "no time left before the deadline to send the request",
          outcomeUnknown: previousOutcomeUnknown,
        });
      }
      attempts += 1;
      const headers: Record<string, string> = {
        authorization: `Bearer ${token}`,
        accept: "application/json",
        "client-request-id": clientRequestId,
        "return-client-request-id": "true",
        "user-agent": "teams-media-bot",
      };
      if (payload !== undefined) headers["content-type"] = "application/json";

      let reason: RetryReason | undefined;
      let retryAfterMs: number | undefined;
      let failure: (gaveUp?: NotRetriedWhy) => GraphError;
      try {
        const response = await httpsRequest({
          url: request.url,
          method: request.method,
          headers,
          body: payload,
          timeoutMs,
          ca: this.ca,
          signal,
          onWritten: request.options?.onWritten,
        });
        if (response.status >= 200 && response.status < 300) {
          finish(String(response.status));
          const fields = {
            status: response.status,
            attempts,
            durationMs: Math.round(performance.now() - started),
          };
          if (attempts > 1) log.info(fields, "graph request succeeded after retries");
          else log.debug(fields, "graph request succeeded");
          return { ...response, attempts, clientRequestId };
        }
        const parsed = parseGraphErrorBody(response.body, response.headers);
        if (response.status === 404 && request.goneMeansDone && previousOutcomeUnknown) {
          finish("404");
          log.info(
            { attempts, requestId: parsed.requestId },
            "call already gone after an unanswered attempt; done",
          );
          return { ...response, attempts, clientRequestId };
        }
        reason = reasonForStatus(response.status);
        retryAfterMs = parseRetryAfter(response.headers["retry-after"], Date.now());
        failure = (gaveUp) =>
          fail(String(response.status), {
            gaveUp,
            status: response.status,
            code: parsed.code ?? "httpError",
            message: parsed.message ?? `HTTP ${response.status}`,
            requestId: parsed.requestId,
            date: parsed.date,
            retryAfterMs,
            // A refusal after an attempt of unknown outcome (409: the call is no longer
            // incoming) may mean that attempt worked: the outcome stays unknown.
            outcomeUnknown: (reason !== undefined && isOutcomeUnknown(reason)) || previousOutcomeUnknown,
          });
        if (reason) {
          log.debug(
            { attempt: attempts, status: response.status, requestId: parsed.requestId, retryAfterMs },
            "graph attempt failed",
          );
        }
      } catch (error) {
        if (signal?.aborted) {
          throw fail("aborted", {
            status: 0,
            code: "aborted",
            message: "aborted by the caller",
            outcomeUnknown: true,
            cause: error,
          });
        }
        reason = reasonForTransportError(error);
        const timedOut = reason === "timeout";
        const unknown =
          reason === undefined ? previousOutcomeUnknown : isOutcomeUnknown(reason) || previousOutcomeUnknown;
        failure = (gaveUp) =>
          fail(timedOut ? "timeout" : "connection", {
            gaveUp,
            status: 0,
            code: timedOut ? "requestTimeout" : "connectionFailed",
            message: error instanceof Error ? error.message : String(error),
            outcomeUnknown: unknown,
            cause: error,
          });
        log.debug(
          { attempt: attempts, err: error instanceof Error ? error.message : String(error), reason },
          "graph attempt failed",
        );
      }

      if (!reason) throw failure();
      if (stopRetries?.aborted) throw failure("stopped");
      lastFailure = failure;
      const decision = decideRetry({
        reason,
        attemptsMade: attempts,
        maxAttempts: budget.maxAttempts,
        remainingMs: budget.deadlineAt - performance.now(),
        minAttemptMs: budget.minAttemptMs,
        retryAfterMs,
        idempotent: request.idempotent,
        backoff: this.backoff,
        random: this.random,
      });
      if (!decision.retry) throw failure(decision.why);
      previousOutcomeUnknown ||= isOutcomeUnknown(reason);
      log.warn({ attempt: attempts, reason, delayMs: decision.delayMs }, "graph request will be retried");
      const waitSignal =
        signal && stopRetries ? AbortSignal.any([signal, stopRetries]) : (signal ?? stopRetries);
      try {
        await sleep(decision.delayMs, undefined, waitSignal ? { signal: waitSignal } : undefined);
      } catch {
        if (!signal?.aborted) throw failure("stopped");
        throw fail("aborted", {
          status: 0,
          code: "aborted",
          message: "aborted by the caller",
          outcomeUnknown: previousOutcomeUnknown,
        });
      }
      this.metrics.retries.inc({ action, reason });
    }
  }

  private parseJson(response: Success, action: string, options: GraphRequestOptions | undefined): unknown {
    try {
      return JSON.parse(response.body.toString("utf8"));
    } catch {
      throw this.invalidResponse(action, response, "the body is not JSON", options);
    }
  }

  private invalidResponse(
    action: string,
    response: Success,
    problem: string,
    options: GraphRequestOptions | undefined,
    outcomeUnknown = false,
  ): GraphError {
    this.metrics.invalidResponses.inc({ action });
    const error = new GraphError({
      action,
      status: response.status,
      code: "invalidResponse",
      message: problem,
      clientRequestId: response.clientRequestId,
      requestId: headerValue(response.headers["request-id"]),
      attempts: response.attempts,
      outcomeUnknown,
      callId: options?.callId,
    });
    this.logger.warn({ callId: options?.callId, ...error.toLog() }, "graph response unusable");
    return error;
  }

  private validationError(
    action: string,
    options: GraphRequestOptions | undefined,
    problem: string,
    attempts: number,
    cause?: unknown,
  ): GraphError {
    this.metrics.requests.inc({ action, status: "invalid" });
    const error = new GraphError({
      action,
      status: 0,
      code: "invalidRequest",
      message: problem,
      clientRequestId: "",
      attempts,
      callId: options?.callId,
      cause,
    });
    this.logger.warn({ callId: options?.callId, ...error.toLog() }, "graph request refused before sending");
    return error;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
