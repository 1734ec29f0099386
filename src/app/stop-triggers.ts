import type { EventEmitter } from "node:events";

/**
 * What asks the bot process to stop gracefully (hang up every call through Graph, finalize
 * recordings, close the bridge; BotApp.stop):
 * - SIGTERM and SIGINT: a service manager (systemd, Kubernetes) or Ctrl+C;
 * - on Windows, which has no SIGTERM, Node raises SIGINT for Ctrl+C, SIGBREAK for Ctrl+Break
 *   and SIGHUP when the console window closes;
 * - the end of stdin, when enabled (BOT_STOP_ON_STDIN_END): a Windows service has no console
 *   to send a control event to, so its wrapper (TeamsMediaBot.Service) holds the bot's stdin
 *   open and closes it to ask for the stop. A stdin read error counts as its end.
 */
export function stopSignals(platform: NodeJS.Platform): NodeJS.Signals[] {
  return platform === "win32" ? ["SIGTERM", "SIGINT", "SIGBREAK", "SIGHUP"] : ["SIGTERM", "SIGINT"];
}

export interface StopTriggerOptions {
  /** Stop when this stream ends (process.stdin in the bot); undefined: stdin is not watched. */
  stdin?: NodeJS.ReadableStream;
  platform?: NodeJS.Platform;
  /** Where signals are raised (the process; tests pass an emitter). */
  signals?: EventEmitter;
}

/**
 * Calls onStop(reason) on the first trigger (later ones are ignored: one stop is under way).
 * Returns a function that removes every listener it added.
 */
export function installStopTriggers(
  onStop: (reason: string) => void,
  options: StopTriggerOptions = {},
): () => void {
  const signals = options.signals ?? process;
  let fired = false;
  const fire = (reason: string) => {
    if (fired) return;
    fired = true;
    onStop(reason);
  };
  const removers: Array<() => void> = [];
  for (const signal of stopSignals(options.platform ?? process.platform)) {
    const listener = () => fire(signal);
    signals.on(signal, listener);
    removers.push(() => signals.off(signal, listener));
  }
  const stdin = options.stdin;
  if (stdin) {
    const ended = () => fire("stdin ended");
    const failed = () => fire("stdin failed");
    // Whatever is written to stdin is read and dropped: only its end means something.
    const drop = () => {};
    stdin.on("data", drop);
    stdin.on("end", ended);
    stdin.on("close", ended);
    stdin.on("error", failed);
    stdin.resume();
    removers.push(() => {
      stdin.off("data", drop);
      stdin.off("end", ended);
      stdin.off("close", ended);
      stdin.off("error", failed);
      stdin.pause();
    });
  }
  return () => {
    for (const remove of removers) remove();
  };
}
