import { type Logger, pino } from "pino";

export type { Logger };

/**
 * Paths that must never reach a log line: tokens, secrets, authorization headers.
 * pino replaces them with "[redacted]" wherever they appear in a logged object.
 */
const REDACTED_PATHS = [
  "token",
  "accessToken",
  "secret",
  "clientSecret",
  "authorization",
  "headers.authorization",
  "req.headers.authorization",
  "*.token",
  "*.accessToken",
  "*.secret",
  "*.clientSecret",
  "*.authorization",
  "controlToken",
  "*.controlToken",
  // A service-hosted recording's token (RecordResult, the operation notification): a handler
  // logging the result it got must not write it.
  "recordingAccessToken",
  "*.recordingAccessToken",
];

/** Structured JSON logs on stdout (or a destination given by tests). One root logger per process. */
export function createLogger(
  options: { level?: string; name?: string } = {},
  destination?: NodeJS.WritableStream,
): Logger {
  return pino(
    {
      level: options.level ?? process.env.BOT_LOG_LEVEL ?? "info",
      name: options.name,
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination as pino.DestinationStream | undefined,
  );
}

/** A logger that writes nothing, for tests and benchmarks that do not care about logs. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
