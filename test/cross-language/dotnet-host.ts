/**
 * The .NET media host (native-bridge/src/TeamsMediaBridge.Host) as a child process, for the
 * cross-language tests and the .NET load benchmark: built once when its sources are newer than
 * its DLL, started with the fake platform on an ephemeral loopback port, read through its one
 * stdout line ("listening on ws://..."), /metrics and /proc/<pid>/stat, stopped with SIGTERM.
 *
 * Every host started here is killed (SIGKILL) when this process exits by any path, and after
 * its own maximum lifetime in any case.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from "node:fs";
import { get } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { StageSummary } from "../../src/media/latency-probe.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const NATIVE = path.join(ROOT, "native-bridge");
const HOST_PROJECT = path.join(NATIVE, "src", "TeamsMediaBridge.Host");

export type HostConfiguration = "Debug" | "Release";

/** Where `dotnet build -c <configuration>` puts the host. */
export function hostDllPath(configuration: HostConfiguration): string {
  return path.join(HOST_PROJECT, "bin", configuration, "net10.0", "TeamsMediaBridge.Host.dll");
}

/** Newest modification time of the host's inputs (sources, projects, the .proto). */
function newestSourceMs(): number {
  let newest = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === "bin" || entry.name === "obj" || entry.name === "TestResults") continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.(cs|csproj|props|targets|proto|json)$/.test(entry.name))
        newest = Math.max(newest, statSync(full).mtimeMs);
    }
  };
  walk(path.join(NATIVE, "src"));
  walk(path.join(NATIVE, "proto"));
  for (const file of ["Directory.Build.props"]) {
    try {
      newest = Math.max(newest, statSync(path.join(NATIVE, file)).mtimeMs);
    } catch {
      // optional file
    }
  }
  return newest;
}

/** Written after a build made here: a no-op incremental build leaves the DLLs' times alone. */
const stampPath = (configuration: HostConfiguration) =>
  path.join(path.dirname(hostDllPath(configuration)), ".ts-build-stamp");

/** When the host's output was last brought up to date (null: no host DLL at all). */
function builtAtMs(configuration: HostConfiguration): number | null {
  const dir = path.dirname(hostDllPath(configuration));
  try {
    statSync(hostDllPath(configuration));
  } catch {
    return null;
  }
  let newest = 0;
  for (const name of readdirSync(dir)) {
    if (name.startsWith("TeamsMediaBridge.") && name.endsWith(".dll"))
      newest = Math.max(newest, statSync(path.join(dir, name)).mtimeMs);
  }
  try {
    newest = Math.max(newest, statSync(stampPath(configuration)).mtimeMs);
  } catch {
    // built elsewhere (build-and-test.sh, an IDE): the DLL times decide
  }
  return newest;
}

/** True when the host DLL exists and is newer than every source it is built from. */
export function hostIsCurrent(configuration: HostConfiguration): boolean {
  const built = builtAtMs(configuration);
  return built !== null && built >= newestSourceMs();
}

const LOCK = path.join(NATIVE, "src", "TeamsMediaBridge.Host", "obj", ".ts-build-lock");
const STALE_LOCK_MS = 10 * 60_000;

/** One builder at a time across processes (two test files may start together): a mkdir lock. */
async function withBuildLock<T>(timeoutMs: number, work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  mkdirSync(path.dirname(LOCK), { recursive: true });
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > STALE_LOCK_MS) rmdirSync(LOCK);
      } catch {
        // gone meanwhile
      }
      if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for another build of the host`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  try {
    return await work();
  } finally {
    rmdirSync(LOCK);
  }
}

/**
 * Builds the host (`dotnet build -c <configuration>`) unless its DLL is current. MSBuild
 * node reuse and the shared compiler server are off, so no build process outlives the build.
 * Returns the DLL path.
 */
export async function ensureHostBuilt(
  configuration: HostConfiguration,
  options: { timeoutMs?: number; log?: (line: string) => void } = {},
): Promise<string> {
  const timeoutMs = options.timeoutMs ?? 280_000;
  if (hostIsCurrent(configuration)) return hostDllPath(configuration);
  return withBuildLock(timeoutMs, async () => {
    if (hostIsCurrent(configuration)) return hostDllPath(configuration);
    options.log?.(`building the .NET media host (${configuration}); about a minute on 2 cores`);
    const args = [
      "build",
      HOST_PROJECT,
      "-c",
      configuration,
      "-nologo",
      "-v",
      "quiet",
      "-nodeReuse:false",
      "-p:UseSharedCompilation=false",
    ];
    const output: string[] = [];
    const child = spawn("dotnet", args, {
      cwd: NATIVE,
      env: {
        ...process.env,
        DOTNET_CLI_TELEMETRY_OPTOUT: "1",
        DOTNET_NOLOGO: "1",
        DOTNET_SKIP_FIRST_TIME_EXPERIENCE: "1",
        MSBUILDDISABLENODEREUSE: "1",
        DOTNET_CLI_USE_MSBUILD_SERVER: "0",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    track(child);
    child.stdout?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`dotnet build did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      child.once("error", (error) => {
        clearTimeout(timer);
        reject(new Error(`cannot run dotnet: ${error.message}`));
      });
      child.once("exit", (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    if (code !== 0) throw new Error(`dotnet build exited ${code}:\n${output.join("").slice(-4000)}`);
    if (builtAtMs(configuration) === null)
      throw new Error(`dotnet build left no ${hostDllPath(configuration)}`);
    writeFileSync(stampPath(configuration), `${new Date().toISOString()}\n`);
    return hostDllPath(configuration);
  });
}

/** Children started by this module, killed on this process's exit whatever the path. */
const children = new Set<ChildProcess>();
let exitHooked = false;

function track(child: ChildProcess): void {
  if (!exitHooked) {
    exitHooked = true;
    process.on("exit", () => {
      for (const running of children) running.kill("SIGKILL");
    });
  }
  children.add(child);
  child.once("exit", () => children.delete(child));
}

export interface DotnetHostOptions {
  configuration?: HostConfiguration;
  /** BOT_BRIDGE_SECRET (16+ characters). */
  secret: string;
  /** What every fake call hears: a PCM16K mono WAV (looped) ... */
  wavPath?: string;
  /** ... or a tone (default 440 Hz). */
  toneHz?: number;
  /** --fake-record-dir: each call's sent audio is written to <dir>/<call id>.wav when it ends. */
  recordDir?: string;
  recordSeconds?: number;
  /**
   * --fake-echo-stats: the fake platform marks its source frames and times their echoes
   * (echoLatency(), resetEchoLatency()). Off by default: the source audio is then unmarked.
   */
  echoStats?: boolean;
  /** Extra environment (BOT_BRIDGE_MAX_SESSIONS, BOT_LOG_LEVEL, ...). */
  env?: Record<string, string>;
  /** Start-up timeout (the "listening on" line), default 30 s. */
  startTimeoutMs?: number;
  /** The host is killed after this long whatever happens (default 10 min). */
  maxLifetimeMs?: number;
}

/**
 * The fake platform's echo window (native-bridge EchoLatencyStats): exact microseconds, each
 * stage in the shape of the worker's latency probe (src/media/latency-probe.ts StageSummary).
 */
export interface FakeEchoLatency {
  windowMs: number;
  /** A received buffer's platform tick -> the bridge's tick forwarded it (per frame). */
  hostSend: StageSummary;
  /** Source frame produced -> the worker's echo of it queued by the bridge. */
  roundTripArrival: StageSummary;
  /** Source frame produced -> its echo handed to the platform by the bridge's render tick. */
  roundTripPlayed: StageSummary;
  /** Echo queued -> played: the wait in the bridge's render queue. */
  renderQueueWait: StageSummary;
  /** The worker's FrameBatch sent_at_us -> a frame of it queued (per frame; two processes' clocks). */
  botToHost: StageSummary;
  /** Render frames with no mark, or a mark of no recent source frame of their session. */
  arrivalsUnmatched: number;
  /** Render frames whose mark was matched before. */
  arrivalsRepeated: number;
}

export interface HostExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** USER_HZ: /proc/<pid>/stat counts CPU in 10 ms clock ticks. */
const TICK_US = 10_000;

/** A running .NET media host with the fake platform. */
export class DotnetHost {
  private readonly stderrLines: string[] = [];
  private exitInfo: HostExit | undefined;
  private readonly exited: Promise<HostExit>;
  private readonly lifetime: NodeJS.Timeout;

  private constructor(
    private readonly child: ChildProcess,
    maxLifetimeMs: number,
  ) {
    this.exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        this.exitInfo = { code, signal };
        clearTimeout(this.lifetime);
        resolve(this.exitInfo);
      }),
    );
    this.lifetime = setTimeout(() => child.kill("SIGKILL"), maxLifetimeMs);
    this.lifetime.unref();
    let partial = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        this.stderrLines.push(line);
        if (this.stderrLines.length > 200) this.stderrLines.shift();
      }
    });
  }

  /** Bridge URL with the real port, e.g. ws://127.0.0.1:41234/bridge. */
  url = "";

  static async start(options: DotnetHostOptions): Promise<DotnetHost> {
    const dll = hostDllPath(options.configuration ?? "Release");
    const args = [dll, "--fake-platform"];
    if (options.wavPath) args.push("--fake-wav", options.wavPath);
    if (options.toneHz !== undefined) args.push("--fake-tone-hz", String(options.toneHz));
    if (options.recordDir) args.push("--fake-record-dir", options.recordDir);
    if (options.recordSeconds !== undefined)
      args.push("--fake-record-seconds", String(options.recordSeconds));
    if (options.echoStats) args.push("--fake-echo-stats");
    const child = spawn("dotnet", args, {
      cwd: ROOT,
      env: {
        ...process.env,
        DOTNET_CLI_TELEMETRY_OPTOUT: "1",
        DOTNET_NOLOGO: "1",
        BOT_BRIDGE_URL: "ws://127.0.0.1:0/bridge",
        BOT_BRIDGE_SECRET: options.secret,
        BOT_LOG_LEVEL: "warn",
        ...options.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    track(child);
    const host = new DotnetHost(child, options.maxLifetimeMs ?? 10 * 60_000);
    const timeoutMs = options.startTimeoutMs ?? 30_000;
    try {
      host.url = await new Promise<string>((resolve, reject) => {
        let out = "";
        const timer = setTimeout(
          () => reject(new Error(`the host printed no "listening on" line within ${timeoutMs} ms`)),
          timeoutMs,
        );
        child.stdout?.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const match = /^listening on (ws:\/\/\S+)$/m.exec(out);
          if (match?.[1]) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        });
        child.once("error", (error) => {
          clearTimeout(timer);
          reject(new Error(`cannot start dotnet: ${error.message}`));
        });
        child.once("exit", (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`the host exited (${signal ?? code}) before listening: ${host.stderrTail()}`));
        });
      });
    } catch (error) {
      host.kill();
      throw error;
    }
    return host;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** The Prometheus endpoint on the bridge's own listener. */
  get metricsUrl(): string {
    const url = new URL(this.url);
    return `http://${url.host}/metrics`;
  }

  /** GET /metrics as text. */
  metrics(timeoutMs = 5000): Promise<string> {
    return new Promise((resolve, reject) => {
      const request = get(this.metricsUrl, { timeout: timeoutMs }, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const body = Buffer.concat(chunks).toString();
          if (response.statusCode === 200) resolve(body);
          else reject(new Error(`GET /metrics answered ${response.statusCode}: ${body.slice(0, 200)}`));
        });
        response.on("error", reject);
      });
      request.on("timeout", () => request.destroy(new Error(`GET /metrics took over ${timeoutMs} ms`)));
      request.on("error", reject);
    });
  }

  /** GET /fake-platform/echo-latency: the echo window so far (host started with echoStats). */
  async echoLatency(timeoutMs = 5000): Promise<FakeEchoLatency> {
    const response = await fetch(this.httpUrl("/fake-platform/echo-latency"), {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) throw new Error(`GET /fake-platform/echo-latency answered ${response.status}`);
    return (await response.json()) as FakeEchoLatency;
  }

  /** POST /fake-platform/echo-latency/reset: a new echo window starts now. */
  async resetEchoLatency(timeoutMs = 5000): Promise<void> {
    const response = await fetch(this.httpUrl("/fake-platform/echo-latency/reset"), {
      method: "POST",
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) throw new Error(`POST /fake-platform/echo-latency/reset answered ${response.status}`);
  }

  private httpUrl(path: string): string {
    return `http://${new URL(this.url).host}${path}`;
  }

  /** CPU (user + system, all threads) the host used so far in µs, from /proc; null when unreadable. */
  cpuUs(): number | null {
    try {
      const stat = readFileSync(`/proc/${this.pid}/stat`, "utf8");
      // After the parenthesized name: state is field 3; utime and stime are fields 14 and 15.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return (Number(fields[11]) + Number(fields[12])) * TICK_US;
    } catch {
      return null;
    }
  }

  /** The host's last stderr lines (JSON logs), for failure messages. */
  stderrTail(lines = 20): string {
    return this.stderrLines.slice(-lines).join("\n");
  }

  get exitStatus(): HostExit | undefined {
    return this.exitInfo;
  }

  /** SIGTERM (every session ends, the host exits 0), then SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 10_000): Promise<HostExit> {
    if (this.exitInfo) return this.exitInfo;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  /** SIGKILL now (failure paths). */
  kill(): void {
    if (!this.exitInfo) this.child.kill("SIGKILL");
  }
}
