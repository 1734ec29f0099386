import { spawn } from "node:child_process";
import path from "node:path";

export const ROOT = path.join(import.meta.dirname, "..", "..");

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a script of the project under tsx as a child process (`node --import tsx <script> ...args`)
 * with no BOT_* or emulator settings from the test's environment, `input` piped to its stdin;
 * with `later`, stdin stays open until `later.when()` holds (polled), then gets `later.text`.
 */
export function runScript(
  script: string,
  args: string[],
  options: {
    input?: string;
    later?: { when: () => boolean; text: string };
    env?: Record<string, string>;
    timeoutMs?: number;
  } = {},
): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env))
    if (/^(BOT_|GRAPH_EMULATOR_|EMULATOR_MEDIA_)/.test(key)) delete env[key];
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, script), ...args], {
    cwd: ROOT,
    env: { ...env, ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.on("error", () => undefined);
  const later = options.later;
  let poll: NodeJS.Timeout | undefined;
  if (later === undefined) child.stdin.end(options.input ?? "");
  else {
    child.stdin.write(options.input ?? "");
    poll = setInterval(() => {
      if (!later.when()) return;
      clearInterval(poll);
      child.stdin.end(later.text);
    }, 200);
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      clearInterval(poll);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `teams-media-bot ...args` from the sources. */
export function runCli(args: string[], options: Parameters<typeof runScript>[2] = {}): Promise<CliRun> {
  return runScript("src/cli/teams-media-bot.ts", args, options);
}

/** A row of the demo/dev report ("  name   value"). */
export function reportField(stdout: string, name: string): string | undefined {
  const report = stdout.slice(stdout.indexOf("\nReport"));
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`  ${escaped}\\s{2,}(.+)`).exec(report)?.[1]?.trim();
}
