import type { ChildProcess } from "node:child_process";

/** Every child registered here that has not exited yet. */
const running = new Set<ChildProcess>();
let exitHooked = false;

/**
 * Kills `child` with SIGKILL when this process exits, however it exits ("exit" handlers run
 * synchronously on every normal or error exit, process.exit() included), unless it exited
 * first. A benchmark's helper processes (far end, Graph emulator) never outlive it.
 */
export function reapOnExit(child: ChildProcess): void {
  if (!exitHooked) {
    exitHooked = true;
    process.on("exit", () => {
      for (const child of running) child.kill("SIGKILL");
    });
  }
  running.add(child);
  child.once("exit", () => running.delete(child));
}
