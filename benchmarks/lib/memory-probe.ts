import type { ChildProcess } from "node:child_process";

/** One process's memory as Node reports it (bytes): RSS is the process, heap its main isolate. */
export interface ProcessMemory {
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  arrayBuffersBytes: number;
}

interface ProbeRequest {
  memoryProbe: number;
}
interface ProbeReply extends ProbeRequest {
  memory: ProcessMemory;
}

export function processMemory(): ProcessMemory {
  const m = process.memoryUsage();
  return {
    rssBytes: m.rss,
    heapUsedBytes: m.heapUsed,
    heapTotalBytes: m.heapTotal,
    externalBytes: m.external,
    arrayBuffersBytes: m.arrayBuffers,
  };
}

/**
 * In a benchmark's child process (one with an IPC channel): answers the parent's memory probes
 * with process.memoryUsage(), so a soak reads each helper process's own heap, not only its RSS.
 * Other messages on the channel are left to their own handlers.
 */
export function answerMemoryProbes(): void {
  process.on("message", (message: unknown) => {
    if (!isProbe(message)) return;
    process.send?.({ memoryProbe: message.memoryProbe, memory: processMemory() } satisfies ProbeReply);
  });
}

let nextProbe = 1;

/** Asks a child that runs answerMemoryProbes() for its memory; rejects after timeoutMs. */
export function probeMemory(child: ChildProcess, timeoutMs = 10_000): Promise<ProcessMemory> {
  const id = nextProbe++;
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown) => {
      if (!isProbe(message) || message.memoryProbe !== id || !("memory" in message)) return;
      done();
      resolve((message as ProbeReply).memory);
    };
    const onExit = () => {
      done();
      reject(new Error("the process exited before answering a memory probe"));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no answer to a memory probe within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    child.on("message", onMessage);
    child.once("exit", onExit);
    if (!child.connected) {
      onExit();
      return;
    }
    child.send({ memoryProbe: id } satisfies ProbeRequest);
  });
}

function isProbe(message: unknown): message is ProbeRequest {
  return (
    typeof message === "object" &&
    message !== null &&
    typeof (message as { memoryProbe?: unknown }).memoryProbe === "number"
  );
}
