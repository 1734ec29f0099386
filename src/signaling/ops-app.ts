/**
 * The operational HTTP surface: health and Prometheus metrics. It has no authentication, so it
 * is served on its own listener (loopback by default, BOT_OPS_HOST/BOT_OPS_PORT), never on the
 * public one that takes Graph's notifications.
 */
import express, { type NextFunction, type Request, type Response } from "express";
import type { Registry } from "prom-client";
import type { Logger } from "../log/logger.js";
import type { CallRegistry } from "./call-registry.js";

export interface OpsAppOptions {
  calls: CallRegistry;
  metricsRegistry: Registry;
  /** More exposition text appended to /metrics (the media worker's registry lives in its thread). */
  extraMetrics?: () => Promise<string>;
  logger: Logger;
  isShuttingDown: () => boolean;
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

  app.use((_req: Request, res: Response) => sendError(res, 404, "not_found", "no such endpoint"));

  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    logger.error({ err: error }, "operational HTTP handler failed");
    if (!res.headersSent) sendError(res, 500, "internal_error", "internal error");
  });

  return app;
}
