import { readlinkSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import type { Counter, Gauge } from "prom-client";
import type { Logger } from "../log/logger.js";

/** CPU time of the calling thread so far, in seconds; null when it cannot be read. */
export type ThreadCpuReader = () => Promise<number | null>;

/** Linux clock ticks per second for /proc stat times (USER_HZ: 100 on every common platform). */
const USER_HZ = 100;

/**
 * A reader of this thread's own CPU time, or null where there is none. In a worker thread
 * `process.cpuUsage()` is the whole process, so the thread is read from /proc on Linux:
 * `/proc/thread-self` names the calling thread's task directory, resolved once here (on this
 * thread: later reads run on libuv's pool, where thread-self would name a pool thread).
 * `schedstat` counts nanoseconds; `stat` (utime + stime, 10 ms ticks) is the fallback.
 */
export function threadCpuReader(procRoot = "/proc"): ThreadCpuReader | null {
  let task: string;
  try {
    task = `${procRoot}/${readlinkSync(`${procRoot}/thread-self`)}`;
  } catch {
    return null;
  }
  return async () => {
    try {
      const text = await readFile(`${task}/schedstat`, "utf8");
      const ns = Number(text.split(" ")[0]);
      if (Number.isFinite(ns)) return ns / 1e9;
    } catch {
      // no schedstat (kernel without CONFIG_SCHED_INFO): try stat
    }
    try {
      return parseStatCpuSeconds(await readFile(`${task}/stat`, "utf8"));
    } catch {
      return null;
    }
  };
}

/** utime + stime of a /proc/<pid>/task/<tid>/stat line, in seconds; null if malformed. */
export function parseStatCpuSeconds(stat: string): number | null {
  // The command name (field 2) may hold spaces and parentheses: fields restart after the last ')'.
  const close = stat.lastIndexOf(")");
  if (close < 0) return null;
  const fields = stat
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12 here.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return (utime + stime) / USER_HZ;
}

export interface WorkerLoadSamplerOptions {
  cpuSeconds: Pick<Counter, "inc">;
  eventLoopUtilization: Pick<Gauge, "set">;
  log: Logger;
  intervalMs?: number;
  /** Defaults to threadCpuReader() (null: only event loop utilization is reported). */
  readCpu?: ThreadCpuReader | null;
}

/**
 * Samples the media worker's load once per interval, off the media path: the event loop
 * utilization of this thread (performance.eventLoopUtilization() is per thread) and, where
 * the platform tells, the thread's CPU seconds.
 */
export class WorkerLoadSampler {
  private timer: NodeJS.Timeout | undefined;
  private lastElu = performance.eventLoopUtilization();
  private lastCpu: number | null = null;
  private readonly readCpu: ThreadCpuReader | null;
  private reading = false;

  constructor(private readonly options: WorkerLoadSamplerOptions) {
    this.readCpu = options.readCpu === undefined ? threadCpuReader() : options.readCpu;
    if (this.readCpu === null)
      options.log.info("thread CPU time not available here; media_worker_cpu_seconds_total stays 0");
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.lastElu = performance.eventLoopUtilization();
    void this.sampleCpu();
    this.timer = setInterval(() => this.sample(), this.options.intervalMs ?? 1000);
    // Sampling must never keep the worker alive.
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One sample (also called by tests). */
  sample(): Promise<void> {
    const elu = performance.eventLoopUtilization(this.lastElu);
    this.lastElu = performance.eventLoopUtilization();
    if (Number.isFinite(elu.utilization)) this.options.eventLoopUtilization.set(elu.utilization);
    return this.sampleCpu();
  }

  private async sampleCpu(): Promise<void> {
    if (this.readCpu === null || this.reading) return;
    this.reading = true;
    try {
      const now = await this.readCpu();
      if (now === null) return;
      if (this.lastCpu !== null && now > this.lastCpu) this.options.cpuSeconds.inc(now - this.lastCpu);
      this.lastCpu = now;
    } finally {
      this.reading = false;
    }
  }
}
