import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const script = join(root, "scripts", "generate-proto.mjs");
const generated = join(root, "src", "bridge", "generated");

function runCheck(extra: string[] = []): { status: number; output: string } {
  try {
    const stdout = execFileSync(process.execPath, [script, "--check", ...extra], {
      cwd: root,
      stdio: "pipe",
    });
    return { status: 0, output: String(stdout) };
  } catch (error) {
    const failed = error as { status: number; stdout: Buffer; stderr: Buffer };
    return { status: failed.status, output: String(failed.stdout) + String(failed.stderr) };
  }
}

describe("proto:check", () => {
  it("the committed generated code matches the schema", () => {
    const result = runCheck();
    expect(result.output).toContain("proto:check ok");
    expect(result.status).toBe(0);
  });

  it("fails with a clear message when the generated code differs from what the schema gives", () => {
    const dir = mkdtempSync(join(tmpdir(), "proto-doctored-"));
    try {
      for (const name of ["media_bridge.js", "media_bridge.d.ts"]) {
        copyFileSync(join(generated, name), join(dir, name));
      }
      const js = join(dir, "media_bridge.js");
      writeFileSync(js, `${readFileSync(js, "utf8")}\n// hand edit\n`);
      const result = runCheck(["--dir", dir]);
      expect(result.status).toBe(1);
      expect(result.output).toMatch(/media_bridge\.js is not what .*media_bridge\.proto generates/);
      expect(result.output).not.toContain("media_bridge.d.ts");
      expect(result.output).toContain("npm run proto:gen");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
