import { randomUUID } from "node:crypto";
import type { NextFunction, Request, Response } from "express";

/** Graph's error body: `{"error": {"code", "message", "innerError": {...}}}`. */
export interface GraphErrorBody {
  error: {
    code: string;
    message: string;
    innerError: { "request-id": string; date: string; "client-request-id": string };
  };
}

/**
 * Sets `request-id` (fresh) and echoes `client-request-id` (or makes one), as Graph does, and
 * keeps both on res.locals for error bodies.
 */
export function requestIds(req: Request, res: Response, next: NextFunction): void {
  const requestId = randomUUID();
  const clientRequestId = req.get("client-request-id")?.trim() || randomUUID();
  res.locals.requestId = requestId;
  res.locals.clientRequestId = clientRequestId;
  res.setHeader("request-id", requestId);
  res.setHeader("client-request-id", clientRequestId);
  next();
}

export function graphErrorBody(res: Response, code: string, message: string): GraphErrorBody {
  return {
    error: {
      code,
      message,
      innerError: {
        "request-id": String(res.locals.requestId ?? randomUUID()),
        date: new Date().toISOString().replace(/\.\d{3}Z$/, ""),
        "client-request-id": String(res.locals.clientRequestId ?? ""),
      },
    },
  };
}

export function sendGraphError(res: Response, status: number, code: string, message: string): void {
  res.status(status).json(graphErrorBody(res, code, message));
}

/** A request error answered with Graph's error body. */
export class GraphRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
