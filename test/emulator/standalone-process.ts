import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";

const ROOT = path.join(import.meta.dirname, "..", "..");

/** The environment of a child emulator: the test's, without any emulator or bot setting. */
export function cleanEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env))
    if (/^(BOT_|GRAPH_EMULATOR_|EMULATOR_MEDIA_)/.test(key)) delete env[key];
  return { ...env, BOT_LOG_LEVEL: "warn", ...settings };
}

/** A loopback port nothing listens on (free when this returns). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A started emulator main (`src/emulator/<name>/main.ts`) and what it printed so far. */
export class EmulatorProcess {
  stdout = "";
  stderr = "";
  readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    child.stdout?.on("data", (chunk: Buffer) => (this.stdout += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  }

  static start(name: "graph" | "media", settings: Record<string, string>): EmulatorProcess {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", path.join(ROOT, `src/emulator/${name}/main.ts`)],
      {
        cwd: ROOT,
        env: cleanEnv(settings),
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    return new EmulatorProcess(child);
  }

  /** Resolves once stdout contains `text`; rejects if the process exits first or after timeoutMs. */
  async waitFor(text: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    while (!this.stdout.includes(text)) {
      if (exited || Date.now() > deadline)
        throw new Error(`no "${text}" from the emulator\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Exit code, or null when it was still running after timeoutMs (then it is killed). */
  async exitCode(timeoutMs = 20_000): Promise<number | null> {
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    await this.exited;
  }
}
