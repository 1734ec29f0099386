import type http from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { createLocalJWKSet, type JWTPayload, jwtVerify } from "jose";
import { httpsRequest } from "../../../src/graph/https-request.js";

export interface ReceivedNotification {
  headers: http.IncomingHttpHeaders;
  body: {
    "@odata.type"?: string;
    value?: { changeType: string; resourceUrl: string; resourceData?: unknown }[];
  };
  receivedAt: number;
}

/** A tiny bot callback endpoint on loopback http that records every notification and answers 202. */
export class BotReceiver {
  readonly received: ReceivedNotification[] = [];
  status = 202;
  private waiters: (() => void)[] = [];

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(): Promise<BotReceiver> {
    const app = express();
    let receiver: BotReceiver | undefined;
    app.post("/api/calls", express.json({ limit: "1mb" }), (req, res) => {
      receiver?.received.push({ headers: req.headers, body: req.body, receivedAt: Date.now() });
      res.status(receiver?.status ?? 202).end();
      for (const wake of receiver?.waiters.splice(0) ?? []) wake();
    });
    const server = await new Promise<http.Server>((resolve) => {
      const s = app.listen(0, "127.0.0.1", () => resolve(s));
    });
    const port = (server.address() as AddressInfo).port;
    receiver = new BotReceiver(server, `http://127.0.0.1:${port}/api/calls`);
    return receiver;
  }

  /** Flattened commsNotifications received for a call, in arrival order. */
  notificationsFor(callId: string) {
    return this.received.flatMap((r) => (r.body.value ?? []).filter((n) => n.resourceUrl.includes(callId)));
  }

  /** Waits until `predicate` holds over what was received. */
  async waitUntil(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("timed out waiting for notifications");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Verifies a notification bearer token the way a bot must, keys fetched via the OpenID configuration. */
export async function verifyNotificationToken(
  openIdUrl: string,
  ca: string,
  token: string,
  appId: string,
): Promise<JWTPayload> {
  const config = await httpsRequest({ url: openIdUrl, method: "GET", timeoutMs: 5000, ca });
  const { jwks_uri } = JSON.parse(config.body.toString()) as { jwks_uri: string };
  const keys = await httpsRequest({ url: jwks_uri, method: "GET", timeoutMs: 5000, ca });
  const jwks = createLocalJWKSet(JSON.parse(keys.body.toString()));
  const { payload } = await jwtVerify(token, jwks, {
    algorithms: ["RS256"],
    issuer: ["https://api.botframework.com", "https://graph.microsoft.com"],
    audience: appId,
  });
  if (typeof payload.tid !== "string") throw new Error("no tid");
  return payload;
}
