import type { NextFunction, Request, Response } from "express";
import { sendGraphError } from "./graph-error.js";
import { classifyRequest } from "./request-log.js";

export interface FaultMatch {
  method?: string;
  pathContains?: string;
  /** As classified by classifyRequest: answer, reject, keepAlive, create, delete, token, ... */
  action?: string;
}

/** A fault answering the next `times` matching requests. */
export interface FaultSpec {
  match: FaultMatch;
  /** Error status to answer with; without it the request is only delayed, then served. */
  status?: 429 | 500 | 502 | 503 | 504;
  /**
   * Serve the request first (the calling service acts on it), then answer `status` instead of
   * its response: a gateway that failed or timed out after Graph acted (504, 502). With it a
   * timed-out answer really answered the call, and a repeat meets what Graph says to a second
   * answer (409).
   */
  afterServing?: boolean;
  retryAfterSeconds?: number;
  /**
   * Wait this long before answering (or serving). With afterServing and no status: the request
   * is served at once and its own response held back this long.
   */
  delayMs?: number;
  /** How many matching requests this fault takes (default 1). */
  times?: number;
}

export interface ActiveFault extends FaultSpec {
  id: number;
  remaining: number;
}

const GRAPH_CODES: Record<number, [string, string]> = {
  429: ["TooManyRequests", "Too many requests. Retry after the time in the Retry-After header."],
  500: ["InternalServerError", "An internal server error occurred."],
  502: ["BadGateway", "The gateway received an invalid response."],
  503: ["ServiceUnavailable", "The service is temporarily unavailable."],
  504: ["GatewayTimeout", "The gateway timed out."],
};

export class FaultInjector {
  readonly faults: ActiveFault[] = [];
  private nextId = 0;

  inject(spec: FaultSpec): ActiveFault {
    const times = spec.times ?? 1;
    if (!Number.isInteger(times) || times < 1)
      throw new Error("injectFault: times must be a positive integer");
    if (spec.status !== undefined && !(spec.status in GRAPH_CODES)) {
      throw new Error(`injectFault: status must be one of ${Object.keys(GRAPH_CODES).join(", ")}`);
    }
    if (spec.status === undefined && spec.delayMs === undefined) {
      throw new Error("injectFault: give a status, a delayMs, or both");
    }
    if (spec.afterServing !== undefined && typeof spec.afterServing !== "boolean")
      throw new Error("injectFault: afterServing must be a boolean");
    if (spec.afterServing && spec.status === undefined && spec.delayMs === undefined)
      throw new Error("injectFault: afterServing needs a status to answer with, or a delayMs");
    const fault: ActiveFault = { ...spec, id: ++this.nextId, remaining: times };
    this.faults.push(fault);
    return fault;
  }

  clear(): void {
    this.faults.length = 0;
  }

  middleware = (req: Request, res: Response, next: NextFunction): void => {
    const fault = this.take(req.method, req.path);
    if (!fault) {
      next();
      return;
    }
    const sendFault = (status: number) => {
      res.locals.fault = true;
      if (fault.retryAfterSeconds !== undefined)
        res.setHeader("Retry-After", String(fault.retryAfterSeconds));
      const [code, message] = GRAPH_CODES[status] ?? ["UnknownError", "Injected fault."];
      if (classifyRequest(req.method, req.path).action === "token") {
        res.status(status).json({ error: "temporarily_unavailable", error_description: message });
      } else {
        sendGraphError(res, status, code, message);
      }
    };
    if (fault.afterServing && fault.status === undefined) {
      // Served at once (the calling service acts, its notifications go out), the response held
      // back delayMs: Graph's notifications for a new call can reach the bot before its 201.
      const end = res.end;
      res.end = ((...args: unknown[]) => {
        res.end = end;
        setTimeout(() => (end as (...a: unknown[]) => Response).apply(res, args), fault.delayMs);
        return res;
      }) as Response["end"];
      next();
      return;
    }
    const respond = () => {
      if (fault.status === undefined) {
        next();
        return;
      }
      if (fault.afterServing) {
        // The route acts on the request; its response is swapped for the fault's.
        const status = fault.status;
        const end = res.end;
        res.end = ((..._ignored: unknown[]) => {
          res.end = end;
          sendFault(status);
          return res;
        }) as Response["end"];
        next();
        return;
      }
      sendFault(fault.status);
    };
    if (fault.delayMs) setTimeout(respond, fault.delayMs);
    else respond();
  };

  private take(method: string, path: string): ActiveFault | undefined {
    const { action } = classifyRequest(method, path);
    const index = this.faults.findIndex(
      (f) =>
        (f.match.method === undefined || f.match.method.toUpperCase() === method) &&
        (f.match.pathContains === undefined || path.includes(f.match.pathContains)) &&
        (f.match.action === undefined || f.match.action === action),
    );
    const fault = index >= 0 ? this.faults[index] : undefined;
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return fault;
  }
}
