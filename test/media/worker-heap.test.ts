import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const PROBE = path.join(import.meta.dirname, "fixtures", "old-space-probe.ts");

/** Major GCs of a worker that grows a long-lived heap, in a fresh process (V8 flags are per process). */
async function majorGcs(mode: "configure" | "default"): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", PROBE, mode], {
    timeout: 30_000,
  });
  const result = JSON.parse(stdout.trim()) as { major: number; kept: number };
  expect(result.kept).toBe(96 * 1024);
  return result.major;
}

describe("media worker heap", () => {
  it("starts the worker's old generation large, so growing it runs no full GC where the default runs several", async () => {
    const [configured, byDefault] = await Promise.all([majorGcs("configure"), majorGcs("default")]);
    expect(byDefault).toBeGreaterThan(0);
    expect(configured).toBe(0);
  }, 40_000);
});
