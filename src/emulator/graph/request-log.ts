import type { NextFunction, Request, Response } from "express";

/** One request a client (the bot) made to the emulator, and how it was answered. */
export interface LoggedRequest {
  seq: number;
  method: string;
  path: string;
  /** Classified operation: token, openid, create, delete, answer, keepAlive, participants, ... */
  action: string;
  /** Request headers without authorization. */
  headers: Record<string, string | string[] | undefined>;
  /** Parsed body; secrets (client_secret, client_assertion) replaced by "[redacted]". */
  body: unknown;
  status: number;
  /** Call id from the path, when there is one. */
  callId?: string;
  /** Appid of the bearer token, when verified. */
  appId?: string;
  time: string;
  /** performance.now() in the emulator's process when the request reached it (its headers read). */
  receivedAtMs: number;
  durationMs: number;
  /** Set when an injected fault answered this request. */
  fault?: boolean;
}

const SECRET_FIELDS = ["client_secret", "client_assertion"];

/** Names a request for fault matching and logs. */
export function classifyRequest(method: string, path: string): { action: string; callId?: string } {
  if (/\/oauth2\/v2\.0\/token$/.test(path)) return { action: "token" };
  if (path.includes("/.well-known/") || path.includes("/discovery/")) return { action: "openid" };
  const match = /^\/v1\.0\/communications\/calls(?:\/([^/]+))?(?:\/([^/]+))?/.exec(path);
  if (!match) return { action: "other" };
  const [, callId, segment] = match;
  if (!callId) return { action: method === "POST" ? "create" : "list" };
  if (!segment) return { action: method === "DELETE" ? "delete" : "get", callId };
  return { action: segment, callId };
}

export class RequestLog {
  readonly entries: LoggedRequest[] = [];
  private seq = 0;

  constructor(private readonly onEntry: (entry: LoggedRequest) => void) {}

  /** Express middleware: records the request when its response has been sent. */
  middleware = (req: Request, res: Response, next: NextFunction): void => {
    const started = performance.now();
    // Classified now: inside a mounted router req.path loses its mount prefix.
    const { action, callId } = classifyRequest(req.method, req.path);
    res.on("finish", () => {
      const { authorization: _omit, ...headers } = req.headers;
      const entry: LoggedRequest = {
        seq: ++this.seq,
        method: req.method,
        path: req.originalUrl.split("?")[0] ?? req.originalUrl,
        action,
        headers,
        body: redact(req.body),
        status: res.statusCode,
        ...(callId ? { callId } : {}),
        ...(typeof res.locals.appId === "string" ? { appId: res.locals.appId } : {}),
        time: new Date().toISOString(),
        receivedAtMs: started,
        durationMs: performance.now() - started,
        ...(res.locals.fault ? { fault: true } : {}),
      };
      this.entries.push(entry);
      this.onEntry(entry);
    });
    next();
  };
}

function redact(body: unknown): unknown {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return body;
  const copy: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  for (const field of SECRET_FIELDS) if (field in copy) copy[field] = "[redacted]";
  return copy;
}
