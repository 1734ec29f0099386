import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { httpsRequest } from "../../src/graph/https-request.js";
import { type ProcessMemory, probeMemory } from "./memory-probe.js";
import { reapOnExit } from "./reap-children.js";

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const ENTRY = path.join(ROOT, "benchmarks", "lib", "graph-emulator-child.ts");

/**
 * The Graph calling emulator in its own process (as Graph is to a real bot), driven through its
 * documented control API. Keeps the emulator's work off the bot's event loop while measuring.
 * Like the load benchmark's far end (FarEndProcess), the child has an IPC channel and exits
 * when it closes (graph-emulator-child.ts), and is killed with SIGKILL on this process's exit.
 */
export class GraphEmulatorProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly env: Record<string, string>,
    readonly url: string,
    private readonly ca: Buffer,
  ) {}

  static async start(options: {
    callbackUrl: string;
    callbackCaPath?: string;
    /** More GRAPH_EMULATOR_* settings, e.g. the media emulator wiring (GRAPH_EMULATOR_MEDIA_URL). */
    env?: Record<string, string>;
  }): Promise<GraphEmulatorProcess> {
    const app = {
      appId: randomUUID(),
      secret: randomBytes(24).toString("base64url"),
      tenantId: randomUUID(),
    };
    const child = spawn(process.execPath, ["--import", "tsx", ENTRY], {
      cwd: ROOT,
      env: {
        ...process.env,
        GRAPH_EMULATOR_PORT: "0",
        GRAPH_EMULATOR_CALLBACK_URL: options.callbackUrl,
        GRAPH_EMULATOR_APP_ID: app.appId,
        GRAPH_EMULATOR_APP_SECRET: app.secret,
        GRAPH_EMULATOR_TENANT_ID: app.tenantId,
        ...(options.callbackCaPath ? { GRAPH_EMULATOR_CALLBACK_CA: options.callbackCaPath } : {}),
        BOT_LOG_LEVEL: "warn",
        ...options.env,
      },
      stdio: ["ignore", "pipe", "inherit", "ipc"],
    });
    reapOnExit(child);
    const env: Record<string, string> = {};
    let url = "";
    await new Promise<void>((resolve, reject) => {
      let buffered = "";
      const onData = (chunk: Buffer) => {
        buffered += chunk.toString();
        for (const line of buffered.split("\n")) {
          // `export BOT_X=value` lines, a value single-quoted when a shell needs it.
          const setting = /^\s*(?:export\s+)?(BOT_[A-Z_]+)=(.*)$/.exec(line);
          if (setting) env[setting[1] as string] = shellUnquote(setting[2] as string);
          const base = /^\s+url\s+(https:\/\/\S+)$/.exec(line);
          if (base) url = base[1] as string;
        }
        if (buffered.includes("Ring the bot:")) {
          child.stdout?.off("data", onData);
          child.stdout?.resume();
          resolve();
        }
      };
      child.stdout?.on("data", onData);
      child.once("exit", (code) =>
        reject(new Error(`graph emulator exited with ${code} before it was ready`)),
      );
    });
    return new GraphEmulatorProcess(child, env, url, readFileSync(env.BOT_CA_CERT as string));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The emulator process's memory (RSS, main heap), from the child itself. */
  memory(): Promise<ProcessMemory> {
    return probeMemory(this.child);
  }

  async control(method: "GET" | "POST" | "DELETE", route: string, body?: unknown): Promise<unknown> {
    const response = await httpsRequest({
      url: `${this.url}/emulator${route}`,
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      timeoutMs: 10_000,
      ca: this.ca,
    });
    if (response.status >= 300)
      throw new Error(`emulator ${method} ${route}: ${response.status} ${response.body}`);
    return response.body.length > 0 ? JSON.parse(response.body.toString()) : undefined;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.kill("SIGTERM");
    await exited;
  }
}

/** The value of a printed `export` line: 'quoted' (with '\'' for a quote) or bare. */
function shellUnquote(value: string): string {
  if (!value.startsWith("'")) return value;
  return value.slice(1, -1).replaceAll("'\\''", "'");
}
