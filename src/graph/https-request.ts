import http from "node:http";
import https from "node:https";
import tls from "node:tls";
import { asUntrustedCertificate } from "./untrusted-certificate.js";

export interface HttpRequest {
  url: string;
  method: "GET" | "POST" | "DELETE" | "PATCH" | "PUT";
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Aborts the request (and rejects) after this many milliseconds. */
  timeoutMs: number;
  /** Extra trusted CA certificates (PEM), e.g. the Graph emulator's self-signed certificate. */
  ca?: string | Buffer;
  signal?: AbortSignal;
  /** Called with performance.now() once the request's bytes were handed to the socket. */
  onWritten?: (atMs: number) => void;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export class HttpTimeoutError extends Error {
  constructor(url: string, timeoutMs: number) {
    super(`request to ${url} timed out after ${timeoutMs} ms`);
    this.name = "HttpTimeoutError";
  }
}

const keepAliveAgents = new Map<string, https.Agent>();
const plainAgent = new http.Agent({ keepAlive: true });

/**
 * One keep-alive agent per trusted-CA set, so connections to Graph are reused across requests.
 * An extra CA is added to Node's bundled roots rather than replacing them. The roots are parsed
 * once into a SecureContext: passing `ca` per request would re-parse ~140 certificates for every
 * new connection and build the agent's pool key from them (measured: most of the bot's CPU
 * under load).
 */
function agentFor(ca: string | Buffer | undefined): https.Agent {
  const key = ca === undefined ? "" : ca.toString();
  let agent = keepAliveAgents.get(key);
  if (!agent) {
    agent = new https.Agent({
      keepAlive: true,
      maxSockets: 256,
      ...(ca === undefined
        ? {}
        : { secureContext: tls.createSecureContext({ ca: [...tls.rootCertificates, key] }) }),
    });
    keepAliveAgents.set(key, agent);
  }
  return agent;
}

/** A plain node:http(s) request with a hard timeout; the whole body is buffered. */
export function httpsRequest(request: HttpRequest): Promise<HttpResponse> {
  const url = new URL(request.url);
  const isHttps = url.protocol === "https:";
  const transport = isHttps ? https : http;
  return new Promise((resolve, reject) => {
    let responded = false;
    const req = transport.request(
      url,
      {
        method: request.method,
        headers: {
          ...(request.body !== undefined
            ? { "content-length": String(Buffer.byteLength(request.body)) }
            : {}),
          ...request.headers,
        },
        agent: isHttps ? agentFor(request.ca) : plainAgent,
        signal: request.signal,
      },
      (res) => {
        responded = true;
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
        res.on("error", (error) => {
          clearTimeout(timer);
          reject(error);
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new HttpTimeoutError(request.url, request.timeoutMs));
    }, request.timeoutMs);
    req.on("error", (error) => {
      clearTimeout(timer);
      if (req.reusedSocket && !responded && isConnectionReset(error)) markStaleSocket(error);
      // A refused certificate says so, with the origin and what to set (BOT_CA_CERT).
      reject(asUntrustedCertificate(error, request.url) ?? error);
    });
    const onWritten = request.onWritten;
    if (onWritten !== undefined) req.once("finish", () => onWritten(performance.now()));
    if (request.body !== undefined) req.end(request.body);
    else req.end();
  });
}

/**
 * A request written to a kept-alive socket the server had just closed fails with a reset
 * before any response: the server never read it, so it is safe to send again (see
 * reasonForTransportError), unlike a reset in the middle of an exchange.
 */
export interface StaleSocketError extends Error {
  staleKeepAliveSocket: true;
}

export function isStaleSocketError(error: unknown): error is StaleSocketError {
  return (error as { staleKeepAliveSocket?: unknown } | null)?.staleKeepAliveSocket === true;
}

function markStaleSocket(error: Error): void {
  (error as Partial<StaleSocketError>).staleKeepAliveSocket = true;
}

function isConnectionReset(error: Error): boolean {
  return (error as NodeJS.ErrnoException).code === "ECONNRESET" || error.message === "socket hang up";
}
