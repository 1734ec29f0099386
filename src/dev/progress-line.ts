/**
 * A status line: rewritten in place on a terminal every `ttyMs`, printed as a new line every
 * `plainMs` otherwise (a log file or a pipe gets periodic lines, not carriage returns).
 */
export interface ProgressLine {
  /** Prints a line of its own above the status line. */
  line(text: string): void;
  stop(): void;
}

const WIDTH = 100;

export function startProgressLine(
  out: NodeJS.WritableStream,
  status: () => string,
  { ttyMs = 250, plainMs = 2000 }: { ttyMs?: number; plainMs?: number } = {},
): ProgressLine {
  const tty = (out as NodeJS.WriteStream).isTTY === true;
  // A status that cannot be computed this time shows as such; it never ends the run.
  const safeStatus = () => {
    try {
      return status();
    } catch (error) {
      return `  (status unavailable: ${(error as Error).message})`;
    }
  };
  const timer = setInterval(
    () => {
      if (tty) out.write(`\r${safeStatus().slice(0, WIDTH).padEnd(WIDTH)}`);
      else out.write(`${safeStatus()}\n`);
    },
    tty ? ttyMs : plainMs,
  );
  return {
    line(text: string) {
      if (tty) out.write(`\r${" ".repeat(WIDTH)}\r`);
      out.write(`${text}\n`);
    },
    stop() {
      clearInterval(timer);
      if (tty) out.write(`\r${safeStatus().slice(0, WIDTH).padEnd(WIDTH)}\n`);
    },
  };
}
