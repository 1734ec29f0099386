import { once } from "node:events";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { httpsRequest, isStaleSocketError } from "../../src/graph/https-request.js";
import { reasonForTransportError } from "../../src/graph/retry-policy.js";

const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();
afterEach(async () => {
  // Kept-alive connections would hold close() open.
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

/**
 * A keep-alive HTTP server that answers the first request of each connection and resets the
 * connection on the second, as a server closing an idle connection at that moment does.
 */
async function resettingServer(): Promise<string> {
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let requests = 0;
    let buffered = "";
    socket.on("data", (chunk) => {
      buffered += chunk.toString("latin1");
      while (buffered.includes("\r\n\r\n")) {
        buffered = buffered.slice(buffered.indexOf("\r\n\r\n") + 4);
        requests++;
        if (requests === 1)
          socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok");
        else socket.resetAndDestroy();
      }
    });
    socket.on("error", () => {});
  });
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
}

describe("httpsRequest on a kept-alive connection", () => {
  it("marks a reset before any response on a reused socket as stale (safe to send again)", async () => {
    const url = await resettingServer();
    const first = await httpsRequest({ url, method: "GET", timeoutMs: 2000 });
    expect(first.body.toString()).toBe("ok");
    const error = await httpsRequest({ url, method: "GET", timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(isStaleSocketError(error)).toBe(true);
    expect(reasonForTransportError(error)).toBe("stale_connection");
  });

  it("does not mark a reset on a new connection", async () => {
    const server = net.createServer((socket) => socket.resetAndDestroy());
    servers.push(server);
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/fresh`;
    const error = await httpsRequest({ url, method: "GET", timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(isStaleSocketError(error)).toBe(false);
    expect(reasonForTransportError(error)).toBe("connection_reset");
  });

  it("reports when the request's bytes went to the socket, before the response", async () => {
    const url = await resettingServer();
    const written: number[] = [];
    const response = await httpsRequest({
      url,
      method: "POST",
      body: "{}",
      timeoutMs: 2000,
      onWritten: (atMs) => written.push(atMs),
    });
    const answeredAt = performance.now();
    expect(response.status).toBe(200);
    expect(written).toHaveLength(1);
    expect(written[0]).toBeLessThanOrEqual(answeredAt);
  });
});
