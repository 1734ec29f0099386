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

  it("redacts a service-hosted recording's access token, as a handler may log its RecordResult", () => {
    const { lines, stream } = capture();
    const logger = createLogger({ level: "info" }, stream).child({ callId: "call-1" });
    const result = {
      status: "completed",
      recordingLocation: "https://recordings.example/r1",
      recordingAccessToken: "recording-token-value",
    };
    logger.info(result, "recorded");
    logger.info({ result }, "recorded");
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).not.toContain("recording-token-value");
    expect(JSON.parse(lines[0] as string).recordingLocation).toBe("https://recordings.example/r1");
  });
});
