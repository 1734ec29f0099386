import { Writable } from "node:stream";
import { createLogger } from "../../src/log/logger.js";

/** A logger whose lines the test reads (JSON objects). */
export function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { log: createLogger({ level: "info" }, destination), lines };
}
