/**
 * PowerShell 7 for the Windows scripts' tests: the `PowerShell` .NET tool (7.6.10, from NuGet),
 * installed once into node_modules/.cache/pwsh. No pwsh means a failing test with the reason,
 * never a silent skip: the scripts' checks are what this suite is for.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const SCRIPTS = path.join(ROOT, "packaging", "windows", "scripts");
const PWSH_VERSION = "7.6.10";
const CACHE = path.join(ROOT, "node_modules", ".cache", "pwsh");
const PWSH = path.join(CACHE, "pwsh");

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end; never rejects (the exit code says). */
export function runProgram(
  command: string,
  args: string[],
  options: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        cwd: options.cwd ?? ROOT,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, NO_COLOR: "1", ...options.env },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let installing: Promise<string> | undefined;

/** The pwsh executable, installed on first use (into a temporary folder renamed into place). */
export function ensurePwsh(): Promise<string> {
  installing ??= (async () => {
    if (existsSync(PWSH)) return PWSH;
    const staging = `${CACHE}.tmp-${process.pid}`;
    await rm(staging, { recursive: true, force: true });
    await mkdir(path.dirname(CACHE), { recursive: true });
    const install = await runProgram(
      "dotnet",
      ["tool", "install", "PowerShell", "--version", PWSH_VERSION, "--tool-path", staging],
      { timeoutMs: 300_000, env: { DOTNET_CLI_TELEMETRY_OPTOUT: "1", DOTNET_NOLOGO: "1" } },
    );
    if (install.code !== 0 || !existsSync(path.join(staging, "pwsh"))) {
      throw new Error(
        `cannot install PowerShell ${PWSH_VERSION} (dotnet tool install PowerShell --version ${PWSH_VERSION} --tool-path ${staging}) exited ${install.code}: the Windows scripts' tests need it\n${install.stdout}\n${install.stderr}`,
      );
    }
    // Another test file may have won the race: its copy is as good.
    await rename(staging, CACHE).catch(() => rm(staging, { recursive: true, force: true }));
    return PWSH;
  })();
  return installing;
}

/** Runs one of the bundle's scripts with pwsh -File. */
export async function runScript(script: string, args: string[], timeoutMs = 120_000): Promise<Run> {
  const pwsh = await ensurePwsh();
  return runProgram(pwsh, ["-NoProfile", "-NonInteractive", "-File", path.join(SCRIPTS, script), ...args], {
    timeoutMs,
  });
}

/** Runs a PowerShell command (for checks on the scripts themselves). */
export async function runPwshCommand(command: string, timeoutMs = 120_000): Promise<Run> {
  const pwsh = await ensurePwsh();
  return runProgram(pwsh, ["-NoProfile", "-NonInteractive", "-Command", command], { timeoutMs });
}

/** The result lines of a script run ("OK   check: message", "FAIL ...", "WOULD ..."). */
export function lines(run: Run): string[] {
  return run.stdout.split(/\r?\n/).filter((line) => line.length > 0);
}
