/**
 * Runs one step of an emulator's startup. If it throws, the process ends with one line on
 * stderr ("<emulator>: <what went wrong>") and exit code 1, not a stack trace: a bad setting or
 * a port in use is the user's to fix, and the line says which.
 */
export async function orExit<T>(
  emulator: string,
  step: () => T | Promise<T>,
  describe: (error: unknown) => string = (error) => (error instanceof Error ? error.message : String(error)),
): Promise<T> {
  try {
    return await step();
  } catch (error) {
    process.stderr.write(`${emulator}: ${describe(error)}\n`);
    process.exit(1);
  }
}
