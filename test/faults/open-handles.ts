/**
 * What keeps the process alive now that did not at a baseline: sockets and servers (described
 * by address, from Node's handle list) and other resources such as timers (by type and count).
 * Only referenced ones count: an unref'd handle or timer does not keep a process alive.
 */
import type { Server, Socket } from "node:net";

export interface HandleBaseline {
  handles: Set<unknown>;
  resources: Map<string, number>;
}

/** Node's list of referenced handles (sockets, servers, pipes, ...); not typed by @types/node. */
function activeHandles(): unknown[] {
  return (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
}

/** Resource types other than handle wraps (those are listed by activeHandles, with addresses). */
function otherResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) {
    if (type.endsWith("Wrap")) continue;
    counts.set(type, (counts.get(type) ?? 0) + 1);
  }
  return counts;
}

export function handleBaseline(): HandleBaseline {
  return { handles: new Set(activeHandles()), resources: otherResources() };
}

function describe(handle: unknown): string {
  const socket = handle as Partial<Socket>;
  if (typeof socket.remotePort === "number" || typeof socket.localPort === "number")
    return `${handle?.constructor?.name ?? "socket"} ${socket.localAddress}:${socket.localPort} -> ${socket.remoteAddress}:${socket.remotePort}`;
  const server = handle as Partial<Server>;
  const address = typeof server.address === "function" ? server.address() : undefined;
  if (address && typeof address === "object")
    return `${handle?.constructor?.name ?? "server"} listening on ${address.address}:${address.port}`;
  return String(handle?.constructor?.name ?? typeof handle);
}

/** Referenced handles and resources opened since the baseline, minus those `ignore` excuses. */
export function openHandlesSince(baseline: HandleBaseline, ignore: (handle: unknown) => boolean): string[] {
  const left = activeHandles()
    .filter((handle) => !baseline.handles.has(handle) && !ignore(handle))
    .map(describe);
  for (const [type, n] of otherResources()) {
    const extra = n - (baseline.resources.get(type) ?? 0);
    if (extra > 0) left.push(`${type} x${extra}`);
  }
  return left;
}
