import { closeSync, openSync, readSync } from "node:fs";

/**
 * The calling thread's scheduler statistics from Linux's /proc/thread-self/schedstat: time on
 * a CPU and time runnable but waiting for one (ns), which tell a thread that was busy from one
 * the machine did not run. Diagnostics only (a read of a /proc file, microseconds); read()
 * returns null where the file does not exist (not Linux, no schedstats).
 */
export class ThreadSchedstat {
  private fd: number | null | undefined;
  private readonly buffer = Buffer.alloc(96);

  read(): { onCpuNs: number; waitingNs: number } | null {
    if (this.fd === undefined) {
      try {
        this.fd = openSync("/proc/thread-self/schedstat", "r");
      } catch {
        this.fd = null;
      }
    }
    if (this.fd === null) return null;
    try {
      // A /proc file is generated on each read from offset 0: the descriptor is kept open.
      const length = readSync(this.fd, this.buffer, 0, this.buffer.length, 0);
      const [onCpu, waiting] = this.buffer.toString("latin1", 0, length).split(" ");
      const onCpuNs = Number(onCpu);
      const waitingNs = Number(waiting);
      return Number.isFinite(onCpuNs) && Number.isFinite(waitingNs) ? { onCpuNs, waitingNs } : null;
    } catch {
      return null;
    }
  }

  close(): void {
    if (typeof this.fd === "number") closeSync(this.fd);
    this.fd = undefined;
  }
}
