/**
 * One line for an emulator that could not start listening, naming the setting that chose the
 * address (e.g. "127.0.0.1:9442 is in use (BOT_BRIDGE_URL)") instead of a stack trace.
 */
export function describeListenError(error: unknown, setting: string): string {
  const e = error as NodeJS.ErrnoException & { address?: string; port?: number };
  const where = e.address === undefined ? "the address" : `${e.address}:${e.port}`;
  switch (e.code) {
    case "EADDRINUSE":
      return `${where} is in use (${setting})`;
    case "EACCES":
      return `no permission to listen on ${where} (${setting})`;
    case "EADDRNOTAVAIL":
      return `${where} is not an address of this machine (${setting})`;
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
