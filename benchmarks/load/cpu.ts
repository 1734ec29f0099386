import { readdirSync, readFileSync } from "node:fs";
import { medianOf } from "../lib/median.js";

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

/** Slices the idle sample is cut into (see idleCpuUsPerSecond). */
const IDLE_SLICES = 10;

/**
 * Process CPU per second of wall time while nothing is being measured (the idle floor),
 * sampled over `ms` in IDLE_SLICES slices and taken as the median slice's rate. Right after a
 * design's teardown (a worker thread's heap freed, its sockets closed) the process can burn
 * tens of milliseconds in one burst: in one whole-second sample that burst read as the idle
 * rate and was subtracted from the next design's window (a floor of 0.04 µs/frame at 400
 * calls); the median of the slices is the steady rate, whichever slice the burst fell in.
 */
export async function idleCpuUsPerSecond(ms: number): Promise<number> {
  const slices: { cpuUs: number; wallMs: number }[] = [];
  const sliceMs = Math.max(1, ms / IDLE_SLICES);
  for (let i = 0; i < IDLE_SLICES; i++) {
    const window = new CpuWindow();
    window.start();
    await new Promise((resolve) => setTimeout(resolve, sliceMs));
    const { processUs, wallMs } = window.stop();
    slices.push({ cpuUs: processUs, wallMs });
  }
  return medianRatePerSecond(slices);
}

/** The median of the slices' CPU rates, in µs per second of wall time (0 for no slices). */
export function medianRatePerSecond(slices: readonly { cpuUs: number; wallMs: number }[]): number {
  const rates = slices
    .filter((slice) => slice.wallMs > 0)
    .map((slice) => (slice.cpuUs / slice.wallMs) * 1000);
  return medianOf(rates) ?? 0;
}
