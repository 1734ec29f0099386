/**
 * The operational HTTP surface: health and Prometheus metrics, and the calls API under /calls
 * (control-app.ts: bearer token, disabled without one). Health and metrics have no
 * authentication, so it is served on its own listener (loopback by default,
 * BOT_OPS_HOST/BOT_OPS_PORT), never on the public one that takes Graph's notifications.
 */
import express, { type NextFunction, type Request, type Response } from "express";
import type { Registry } from "prom-client";
import type { NotReady } from "../app/readiness.js";
import { CONTROL_PATH, type ControlAppOptions, createControlRouter } from "../control/control-app.js";
import type { Logger } from "../log/logger.js";
import type { CallRegistry } from "./call-registry.js";

export interface OpsAppOptions {
  calls: CallRegistry;
  metricsRegistry: Registry;
  /** More exposition text appended to /metrics (the media worker's registry lives in its thread). */
  extraMetrics?: () => Promise<string>;
  logger: Logger;
  isShuttingDown: () => boolean;
  /** Why calls cannot be taken now (empty: ready); /readyz serves it. Absent: only shutting down counts. */
  notReady?: () => NotReady[];
  /** The calls API under /calls: its token (none: disabled), the bot's calls, its metrics. */
  control: Omit<ControlAppOptions, "logger">;
}

function sendError(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ error: { code, message } });
}

export function createOpsApp(options: OpsAppOptions): express.Express {
  const { logger } = options;
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);

  app.get("/healthz", (_req: Request, res: Response) => {
    const shuttingDown = options.isShuttingDown();
    res.status(shuttingDown ? 503 : 200).json({
      status: shuttingDown ? "shutting_down" : "ok",
      calls: { live: options.calls.liveCount, byState: options.calls.countsByState() },
    });
  });

  // Readiness, apart from liveness: alive but unable to take calls (media host down or refusing
  // the secret, overloaded, no Graph token) is 503 with the reasons.
  app.get("/readyz", (_req: Request, res: Response) => {
    const reasons = [...(options.notReady?.() ?? [])];
    if (options.isShuttingDown() && !reasons.some((r) => r.reason === "shutting_down"))
      reasons.unshift({ reason: "shutting_down", detail: "the bot is stopping" });
    if (reasons.length === 0) res.status(200).json({ status: "ready" });
    else res.status(503).json({ status: "not_ready", reasons });
  });

  app.get("/metrics", async (_req: Request, res: Response) => {
    res.set("Content-Type", options.metricsRegistry.contentType);
    const own = await options.metricsRegistry.metrics();
    let extra = "";
    try {
      extra = options.extraMetrics ? await options.extraMetrics() : "";
    } catch (error) {
      logger.warn({ err: (error as Error).message }, "media metrics unavailable");
    }
    res.send(extra ? `${own.trimEnd()}\n${extra}` : own);
  });

  app.use(CONTROL_PATH, createControlRouter({ ...options.control, logger }));

  app.use((_req: Request, res: Response) => sendError(res, 404, "not_found", "no such endpoint"));

  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    logger.error({ err: error }, "operational HTTP handler failed");
    if (!res.headersSent) sendError(res, 500, "internal_error", "internal error");
  });

  return app;
}
