import { ControlClientError } from "./control-client.js";

/**
 * Runs a calls API command: its result is the exit code; a ControlClientError (the bot refused,
 * could not be reached, no token) is one line on stderr and exit code 1.
 */
export async function runControlCommand(name: string, action: () => Promise<number>): Promise<never> {
  let code: number;
  try {
    code = await action();
  } catch (error) {
    if (!(error instanceof ControlClientError)) throw error;
    process.stderr.write(`teams-media-bot ${name}: ${error.message}\n`);
    code = 1;
  }
  process.exit(code);
}
