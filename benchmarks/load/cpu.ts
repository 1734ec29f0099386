import { readdirSync, readFileSync } from "node:fs";

/**
 * CPU time of this process, and (on Linux) of chosen threads of it: the media worker is one
 * OS thread, found as the thread(s) that appeared when the provider started it.
 */

/** Process CPU (user + system) in microseconds, all threads. */
export function processCpuUs(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

const TASKS = "/proc/self/task";
/** USER_HZ: /proc reports thread CPU in clock ticks of 10 ms on every Linux we run on. */
const TICK_US = 10_000;

/** Thread ids of this process (Linux); empty elsewhere. */
export function threadIds(): number[] {
  try {
    return readdirSync(TASKS).map(Number);
  } catch {
    return [];
  }
}

/** CPU of one thread in µs (10 ms resolution), or null when it cannot be read (not Linux, gone). */
export function threadCpuUs(tid: number): number | null {
  try {
    const stat = readFileSync(`${TASKS}/${tid}/stat`, "utf8");
    // Fields after the parenthesized name: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * TICK_US;
  } catch {
    return null;
  }
}

/** Sum over threads; null when none could be read. */
export function threadsCpuUs(tids: readonly number[]): number | null {
  let sum = 0;
  let read = 0;
  for (const tid of tids) {
    const cpu = threadCpuUs(tid);
    if (cpu === null) continue;
    sum += cpu;
    read++;
  }
  return read === 0 ? null : sum;
}

/**
 * A measuring window: process CPU and the given threads' CPU between start() and stop().
 */
export class CpuWindow {
  private processStart = 0;
  private threadsStart: number | null = null;
  private wallStart = 0;

  constructor(private readonly tids: readonly number[] = []) {}

  start(): void {
    this.wallStart = performance.now();
    this.threadsStart = this.tids.length > 0 ? threadsCpuUs(this.tids) : null;
    this.processStart = processCpuUs();
  }

  stop(): { processUs: number; threadsUs: number | null; wallMs: number } {
    const processUs = processCpuUs() - this.processStart;
    const threadsEnd = this.tids.length > 0 ? threadsCpuUs(this.tids) : null;
    return {
      processUs,
      threadsUs: threadsEnd !== null && this.threadsStart !== null ? threadsEnd - this.threadsStart : null,
      wallMs: performance.now() - this.wallStart,
    };
  }
}

/** Process CPU per second of wall time while nothing is being measured (the idle floor). */
export async function idleCpuUsPerSecond(ms: number): Promise<number> {
  const window = new CpuWindow();
  window.start();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const { processUs, wallMs } = window.stop();
  return (processUs / wallMs) * 1000;
}
