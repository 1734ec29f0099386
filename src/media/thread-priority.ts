import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";

/** Nice value the media thread asks for: ahead of GC helper threads and other normal work. */
export const MEDIA_THREAD_NICE = -10;

export type ThreadPriorityResult = { ok: true; tid: number; nice: number } | { ok: false; reason: string };

/**
 * Raises the calling thread's scheduling priority (Linux: a nice value per thread id), the
 * way audio threads do. The media clock sleeps until each deadline; on a 2-core machine a
 * woken media thread otherwise waits in the run queue behind V8's concurrent GC threads and
 * other processes for milliseconds. Best effort: lowering a nice value needs CAP_SYS_NICE
 * (or RLIMIT_NICE); without it the thread keeps its priority.
 */
export function raiseThreadPriority(nice = MEDIA_THREAD_NICE, procRoot = "/proc"): ThreadPriorityResult {
  let tid: number;
  try {
    // "<pid>/task/<tid>" on Linux.
    tid = Number(readlinkSync(`${procRoot}/thread-self`).split("/").pop());
  } catch {
    return { ok: false, reason: "no per-thread priority on this platform" };
  }
  if (!Number.isInteger(tid) || tid <= 0) return { ok: false, reason: "thread id not readable" };
  try {
    setPriority(tid, nice);
    return { ok: true, tid, nice };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}
