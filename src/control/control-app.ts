/**
 * The calls API: place, list and control the bot's calls over HTTP, mounted under /calls on the
 * operational listener (loopback by default) and only with BOT_CONTROL_TOKEN configured; every
 * request needs `Authorization: Bearer <token>`. Routes, bodies and statuses: docs/calls-api.md.
 * Each request is counted in bot_control_requests_total{route, outcome}; refusals are logged at
 * warn at most once per outcome per interval; no response carries a stack trace.
 */
import express, { type NextFunction, type Request, type Response, type Router } from "express";
import { GraphError } from "../graph/graph-error.js";
import { MeetingJoinUrlError } from "../graph/meeting-join-url.js";
import { InvalidRequestError } from "../graph/request-bodies.js";
import { LogRateLimiter } from "../log/log-rate-limiter.js";
import type { Logger } from "../log/logger.js";
import type { ControlMetrics } from "../metrics/control-metrics.js";
import { bodyReadRefusal } from "../signaling/body-read-refusal.js";
import type { CallsApiBackend, PlacedCallInfo } from "./calls-api-backend.js";
import { CallsApiRefusal } from "./calls-api-refusal.js";
import {
  ControlRequestError,
  readCallId,
  readEmptyRequest,
  readInviteRequest,
  readJoinRequest,
  readUserTarget,
} from "./control-request-bodies.js";
import { ControlToken } from "./control-token.js";

export const CONTROL_PATH = "/calls";
/** Calls API bodies are a few hundred bytes; an invitation of 10 users is under 2 KiB. */
export const CONTROL_BODY_LIMIT_BYTES = 16 * 1024;

export interface ControlAppOptions {
  /** BOT_CONTROL_TOKEN; absent: every request is answered 404 control_disabled. */
  token?: string;
  /** The bot's calls; absent (not wired): authenticated requests are answered 503. */
  backend?: CallsApiBackend;
  metrics: ControlMetrics;
  logger: Logger;
  /** Refusals are logged at most once per outcome per this interval (default 10 s). */
  refusalLogIntervalMs?: number;
}

interface ControlLocals {
  route: string;
}

/** The route label of a request: one of a fixed set, so the metric's cardinality is bounded. */
function routeOf(method: string, path: string): string {
  const segments = path.split("/").filter((s) => s !== "");
  const [first, second] = segments;
  if (segments.length === 0 && method === "GET") return "GET /calls";
  if (segments.length === 1 && method === "POST" && (first === "join" || first === "user"))
    return `POST /calls/${first}`;
  if (segments.length === 1 && (method === "GET" || method === "DELETE")) return `${method} /calls/:id`;
  if (
    segments.length === 2 &&
    method === "POST" &&
    ["mute", "unmute", "transfer", "invite"].includes(second as string)
  )
    return `POST /calls/:id/${second}`;
  return "other";
}

function placed(call: PlacedCallInfo): PlacedCallInfo {
  return { callId: call.callId, mediaSessionId: call.mediaSessionId, kind: call.kind };
}

export function createControlRouter(options: ControlAppOptions): Router {
  const { metrics, logger } = options;
  const token = options.token === undefined ? undefined : new ControlToken(options.token);
  const router = express.Router();
  const refusalLog = new LogRateLimiter(options.refusalLogIntervalMs ?? 10_000);

  const route = (res: Response): string => (res.locals as ControlLocals).route;
  const ok = (res: Response, status: number, body: unknown): void => {
    metrics.requests.inc({ route: route(res), outcome: "ok" });
    res.status(status).json(body);
  };
  const refuse = (
    res: Response,
    status: number,
    code: string,
    message: string,
    extra: Record<string, unknown> = {},
  ): void => {
    metrics.requests.inc({ route: route(res), outcome: code });
    // Requests to a disabled API only at debug: the operator chose it. A wrong token is at warn.
    const notLoggedBefore = refusalLog.take(code);
    if (notLoggedBefore !== undefined) {
      const level = code === "control_disabled" ? "debug" : "warn";
      logger[level]({ route: route(res), status, code, notLoggedBefore }, `calls API refused: ${message}`);
    }
    res.status(status).json({ error: { code, message, ...extra } });
  };

  router.use((req: Request, res: Response, next: NextFunction) => {
    (res.locals as ControlLocals).route = routeOf(req.method, req.path);
    if (token === undefined)
      return refuse(res, 404, "control_disabled", "set BOT_CONTROL_TOKEN to enable the calls API");
    const check = token.check(req.headers.authorization);
    if (check !== "ok") {
      res.set(
        "WWW-Authenticate",
        `Bearer realm="calls"${check === "invalid_token" ? ', error="invalid_token"' : ""}`,
      );
      return refuse(
        res,
        401,
        check,
        check === "missing_token"
          ? "Authorization: Bearer <BOT_CONTROL_TOKEN> is required"
          : "the bearer token is not BOT_CONTROL_TOKEN",
      );
    }
    if (options.backend === undefined)
      return refuse(res, 503, "control_unavailable", "the calls API is not wired to the bot");
    next();
  });
  const control = (): CallsApiBackend => options.backend as CallsApiBackend;

  // A JSON body is required where the route takes parameters; none or {} where it takes none.
  // A request without Content-Type counts as bodiless when its body is empty: clients send
  // POST with no body as `Transfer-Encoding: chunked` or `Content-Length: 0`.
  const parseJson = express.json({ limit: CONTROL_BODY_LIMIT_BYTES, strict: true, type: "application/json" });
  const parseUntyped = express.raw({ limit: CONTROL_BODY_LIMIT_BYTES, type: () => true });
  const body =
    (required: boolean) =>
    (req: Request, res: Response, next: NextFunction): void => {
      if (req.headers["content-type"] !== undefined) {
        if (req.is("application/json")) parseJson(req, res, next);
        else refuse(res, 415, "unsupported_media_type", "Content-Type must be application/json");
        return;
      }
      parseUntyped(req, res, (error?: unknown) => {
        if (error !== undefined) return next(error);
        const bytes = Buffer.isBuffer(req.body) ? req.body.length : 0;
        req.body = undefined;
        if (bytes > 0) refuse(res, 415, "unsupported_media_type", "Content-Type must be application/json");
        else if (required) refuse(res, 400, "empty_body", "the request needs a JSON body");
        else next();
      });
    };
  const jsonBody = body(true);
  const optionalJsonBody = body(false);
  const callId = (req: Request): string => readCallId(req.params.id as string);

  router.post("/join", jsonBody, async (req: Request, res: Response) => {
    const { target, options: joinOptions } = readJoinRequest(req.body);
    const call = await control().joinMeeting(target, joinOptions);
    logger.info({ callId: call.callId, by: target.kind }, "calls API: meeting join placed");
    res.location(`${req.baseUrl}/${encodeURIComponent(call.callId)}`);
    ok(res, 201, placed(call));
  });

  router.post("/user", jsonBody, async (req: Request, res: Response) => {
    const target = readUserTarget(req.body, "a call to a user");
    // `displayName` is the callee's name (as in transfer and invite), not the bot's.
    const call = await control().callUser(target, {});
    logger.info({ callId: call.callId }, "calls API: call to a user placed");
    res.location(`${req.baseUrl}/${encodeURIComponent(call.callId)}`);
    ok(res, 201, placed(call));
  });

  router.get("/", (_req: Request, res: Response) => ok(res, 200, { calls: control().listCalls() }));

  router.get("/:id", (req: Request, res: Response) => {
    const id = callId(req);
    const call = control().getCall(id);
    if (call === undefined) throw new CallsApiRefusal("unknown_call", `no call ${id} of this bot`);
    ok(res, 200, call);
  });

  router.delete("/:id", async (req: Request, res: Response) => {
    const id = callId(req);
    await control().hangUp(id);
    logger.info({ callId: id }, "calls API: hang up requested");
    ok(res, 202, { callId: id });
  });

  for (const action of ["mute", "unmute"] as const) {
    router.post(`/:id/${action}`, optionalJsonBody, async (req: Request, res: Response) => {
      const id = callId(req);
      readEmptyRequest(req.body);
      await control()[action](id);
      logger.info({ callId: id }, `calls API: ${action}`);
      ok(res, 200, { callId: id, muted: action === "mute" });
    });
  }

  router.post("/:id/transfer", jsonBody, async (req: Request, res: Response) => {
    const id = callId(req);
    const target = readUserTarget(req.body, "a transfer target");
    await control().transfer(id, target);
    logger.info({ callId: id }, "calls API: transfer requested");
    ok(res, 202, { callId: id });
  });

  router.post("/:id/invite", jsonBody, async (req: Request, res: Response) => {
    const id = callId(req);
    const participants = readInviteRequest(req.body);
    await control().invite(id, participants);
    logger.info({ callId: id, participants: participants.length }, "calls API: invitation sent");
    ok(res, 202, { callId: id });
  });

  router.use((_req: Request, res: Response) => refuse(res, 404, "not_found", "no such calls API route"));

  router.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return;
    if (error instanceof ControlRequestError)
      return refuse(res, 400, "invalid_request", error.message, error.field ? { field: error.field } : {});
    if (error instanceof MeetingJoinUrlError)
      return refuse(res, 400, "invalid_join_url", error.message, { field: "joinUrl" });
    if (error instanceof InvalidRequestError)
      return refuse(res, 400, "invalid_request", error.message, { field: error.field });
    if (error instanceof CallsApiRefusal)
      return refuse(res, error.status, error.reason, error.message, error.detail);
    if (error instanceof GraphError)
      return refuse(res, 502, "graph_error", error.message, {
        graph: {
          status: error.status,
          code: error.code,
          ...(error.requestId !== undefined ? { requestId: error.requestId } : {}),
        },
      });
    const body = bodyReadRefusal(error, req, CONTROL_BODY_LIMIT_BYTES);
    if (body) {
      if (body.headers) res.set(body.headers);
      return refuse(res, body.status, body.reason, body.message);
    }
    // Our bug: logged in full, answered without detail.
    logger.error({ err: error, route: route(res) }, "calls API handler failed");
    refuse(res, 500, "internal_error", "internal error");
  });

  return router;
}
