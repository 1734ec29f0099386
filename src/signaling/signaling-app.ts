/**
 * The public HTTP surface of the signaling layer: Graph's notification callback and nothing
 * else (health and metrics are on the operational listener, ops-app.ts). The callback checks
 * the token before reading the body, validates the envelope, answers 202 at once and handles
 * the notifications after the response, so Graph's request takes milliseconds whatever the
 * handling costs.
 */
import { performance } from "node:perf_hooks";
import express, { type NextFunction, type Request, type Response } from "express";
import { LogRateLimiter } from "../log/log-rate-limiter.js";
import type { Logger } from "../log/logger.js";
import type { SignalingMetrics } from "../metrics/signaling-metrics.js";
import { bodyReadRefusal } from "./body-read-refusal.js";
import type { BatchContext } from "./call-manager.js";
import type { NotificationTokenVerifier } from "./notification-auth.js";
import { NotificationEnvelopeError, notificationItems } from "./notification-parser.js";

export const NOTIFICATION_PATH = "/api/calls";

export interface SignalingAppOptions {
  verifier: NotificationTokenVerifier;
  /** Handles a verified, acknowledged notification body (after the response is sent). */
  onNotifications: (body: unknown, context: BatchContext) => void;
  metrics: SignalingMetrics;
  logger: Logger;
  bodyLimitBytes: number;
  /** Refused requests are logged at most once per reason per this interval (default 10 s). */
  refusalLogIntervalMs?: number;
}

interface NotificationLocals {
  receivedAt: number;
  tokenCheckedAt?: number;
  tokenTenantId?: string;
}

function sendError(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ error: { code, message } });
}

export function createSignalingApp(options: SignalingAppOptions): express.Express {
  const { verifier, metrics, logger } = options;
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);

  // Every refusal is counted; its log line is rate-limited per reason (a flood costs a few lines).
  const refusalLog = new LogRateLimiter(options.refusalLogIntervalMs ?? 10_000);
  const refuseRequest = (res: Response, status: number, reason: string, message: string): void => {
    metrics.requestsRefused.inc({ reason });
    const notLoggedBefore = refusalLog.take(reason);
    if (notLoggedBefore !== undefined)
      logger.warn({ status, reason, notLoggedBefore }, `notification request refused: ${message}`);
    sendError(res, status, reason, message);
  };

  const stamp = (_req: Request, res: Response, next: NextFunction): void => {
    (res.locals as NotificationLocals).receivedAt = performance.now();
    next();
  };

  // Token first: an unauthenticated request costs no body parsing and touches no call.
  const authenticate = async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const result = await verifier.verify(req.headers.authorization);
    if (!result.ok) {
      if (result.status === 401) res.set("WWW-Authenticate", `Bearer error="invalid_token"`);
      sendError(
        res,
        result.status,
        result.reason,
        result.status === 403 ? "tenant not allowed" : "invalid token",
      );
      return;
    }
    const locals = res.locals as NotificationLocals;
    locals.tokenTenantId = result.tenantId;
    locals.tokenCheckedAt = performance.now();
    next();
  };

  const requireJson = (req: Request, res: Response, next: NextFunction): void => {
    const type = req.is("application/json");
    if (type === null) refuseRequest(res, 400, "empty_body", "request has no body");
    else if (type === false)
      refuseRequest(res, 415, "unsupported_media_type", "Content-Type must be application/json");
    else next();
  };

  const parseJson = express.json({ limit: options.bodyLimitBytes, strict: true, type: "application/json" });

  app.post(NOTIFICATION_PATH, stamp, authenticate, requireJson, parseJson, (req: Request, res: Response) => {
    const locals = res.locals as NotificationLocals;
    const parsedAt = performance.now();
    const body: unknown = req.body;
    try {
      notificationItems(body);
    } catch (error) {
      if (!(error instanceof NotificationEnvelopeError)) throw error;
      return refuseRequest(res, 400, "bad_envelope", error.message);
    }
    res.status(202).end();
    const context: BatchContext = {
      receivedAt: locals.receivedAt,
      tokenTenantId: locals.tokenTenantId,
      stages: { tokenCheckedAt: locals.tokenCheckedAt ?? parsedAt, parsedAt, respondedAt: performance.now() },
    };
    setImmediate(() => {
      if (context.stages) context.stages.handledAt = performance.now();
      try {
        options.onNotifications(body, context);
      } catch (error) {
        logger.error({ err: error }, "notification processing failed");
      }
    });
  });

  app.use((_req: Request, res: Response) => sendError(res, 404, "not_found", "no such endpoint"));

  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const refusal = bodyReadRefusal(error, req, options.bodyLimitBytes);
    if (refusal) {
      if (refusal.headers) res.set(refusal.headers);
      return refuseRequest(res, refusal.status, refusal.reason, refusal.message);
    }
    // Everything else is our bug and must not leak details.
    logger.error({ err: error }, "signaling HTTP handler failed");
    if (!res.headersSent) sendError(res, 500, "internal_error", "internal error");
  });

  return app;
}
