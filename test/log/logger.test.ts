import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/log/logger.js";

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, stream };
}

describe("logger", () => {
  it("writes JSON lines with the call id and never a token or secret", () => {
    const { lines, stream } = capture();
    const logger = createLogger({ level: "info", name: "test" }, stream);
    logger.info(
      {
        callId: "call-1",
        token: "eyJhbGciOi.secret.token",
        clientSecret: "app-secret-value",
        headers: { authorization: "Bearer eyJhbGciOi.header.token" },
        request: { accessToken: "access-token-value", secret: "nested-secret" },
      },
      "answering",
    );
    expect(lines).toHaveLength(1);
    const line = lines[0] as string;
    const entry = JSON.parse(line) as Record<string, unknown>;
    expect(entry.callId).toBe("call-1");
    expect(entry.msg).toBe("answering");
    for (const secret of [
      "secret.token",
      "app-secret-value",
      "header.token",
      "access-token-value",
      "nested-secret",
    ]) {
      expect(line).not.toContain(secret);
    }
    expect(entry.token).toBe("[redacted]");
  });
});
