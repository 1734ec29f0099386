/**
 * The package as a bot author gets it: `npm pack`, installed into a fresh project (test/package/
 * consumer, copied to a temp folder) that writes its own handler (my-bot.ts), type-checks it
 * against the installed package's published types, compiles it, and runs a call through the
 * emulators with nothing but the installed package (run-call.ts).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const FIXTURE = path.join(ROOT, "test", "package", "consumer");
const TSC = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");
// npm install and a full type-check of the installed dependencies take tens of seconds on a busy machine.
const STEP_MS = 240_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; never rejects (the exit code says). */
function run(command: string, args: string[], cwd: string, timeoutMs = STEP_MS): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: "1" } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Like run, but a non-zero exit fails the test with the command's output. */
async function mustRun(command: string, args: string[], cwd: string, timeoutMs?: number): Promise<Run> {
  const result = await run(command, args, cwd, timeoutMs);
  if (result.code !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} exited ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
    );
  }
  return result;
}

describe("the npm package", () => {
  let work: string;
  let consumer: string;
  let tarball: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), "teams-media-bot-pack-"));
    consumer = path.join(work, "consumer");
  });

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it(
    "packs what runs and nothing else",
    async () => {
      // npm pack runs `prepare` (the build) first, as npm publish does.
      await mustRun("npm", ["pack", "--pack-destination", work, "--loglevel=error"], ROOT);
      const packed = (await readdir(work)).filter((name) => name.endsWith(".tgz"));
      expect(packed).toHaveLength(1);
      tarball = path.join(work, packed[0] as string);
      const list = (await mustRun("tar", ["-tzf", tarball], work)).stdout.split("\n").filter(Boolean);
      const files = list.map((entry) => entry.replace(/^package\//, ""));

      expect(files).toEqual(
        expect.arrayContaining([
          "package.json",
          "README.md",
          "dist/index.js",
          "dist/index.d.ts",
          "dist/emulators.js",
          "dist/emulators.d.ts",
          "dist/testing/index.js",
          "dist/testing/index.d.ts",
          "dist/main.js",
          "dist/media/media-worker.js",
          "dist/demo/demo-bot.js",
          "dist/bridge/generated/media_bridge.js",
          "dist/bridge/generated/media_bridge.d.ts",
          "dist/emulator/graph/metadata/calls-v1.0.csdl.xml",
          "assets/audio/caller-speech.wav",
          "assets/audio/bot-greeting.wav",
          "assets/audio/bot-tone-ack.wav",
        ]),
      );
      const unwanted = files.filter(
        (file) =>
          /^(src|test|benchmarks|native-bridge|scripts|docs|node_modules)\//.test(file) ||
          (file.endsWith(".ts") && !file.endsWith(".d.ts")) ||
          file.endsWith(".tsbuildinfo") ||
          file.includes("codec-benchmark"),
      );
      expect(unwanted).toEqual([]);
      const { size } = await stat(tarball);
      console.log(`pack: ${path.basename(tarball)}, ${files.length} files, ${Math.round(size / 1024)} KiB`);
    },
    STEP_MS,
  );

  it(
    "installs into a fresh project, without tsx, and imports only through its exports",
    async () => {
      await cp(FIXTURE, consumer, { recursive: true });
      // @types/node as a Node.js project has it; the package's own type dependencies come with it.
      const typesNode = JSON.parse(
        await readFile(path.join(ROOT, "node_modules", "@types", "node", "package.json"), "utf8"),
      ) as { version: string };
      await mustRun(
        "npm",
        [
          "install",
          tarball,
          `@types/node@${typesNode.version}`,
          "--prefer-offline",
          "--no-audit",
          "--no-fund",
          "--loglevel=error",
        ],
        consumer,
      );
      // tsx is an optional peer: only who loads .ts handler modules installs it.
      expect(existsSync(path.join(consumer, "node_modules", "tsx"))).toBe(false);

      const installed = path.join(consumer, "node_modules", "teams-media-bot");
      const manifest = JSON.parse(await readFile(path.join(installed, "package.json"), "utf8")) as {
        exports?: Record<string, string | { types: string; default: string }>;
        bin?: Record<string, string>;
      };
      expect(Object.keys(manifest.exports ?? {})).toEqual([
        ".",
        "./emulators",
        "./testing",
        "./package.json",
      ]);
      for (const target of Object.values(manifest.exports ?? {})) {
        for (const file of typeof target === "string" ? [target] : [target.types, target.default])
          expect(existsSync(path.join(installed, file)), `${file} (exports) is in the package`).toBe(true);
      }
      expect(Object.keys(manifest.bin ?? {})).toEqual(["teams-media-bot"]);
      // The command-line tool is in the package once its source exists.
      if (existsSync(path.join(ROOT, "src", "cli", "teams-media-bot.ts"))) {
        for (const file of Object.values(manifest.bin ?? {}))
          expect(existsSync(path.join(installed, file)), `${file} (bin) is in the package`).toBe(true);
        await mustRun(path.join(consumer, "node_modules", ".bin", "teams-media-bot"), ["--help"], consumer);
      }

      const probe = `
        const bot = await import("teams-media-bot");
        const emulators = await import("teams-media-bot/emulators");
        await import("teams-media-bot/testing");
        if (typeof bot.startProductionBot !== "function" || typeof bot.loadConfig !== "function")
          throw new Error("teams-media-bot lacks startProductionBot or loadConfig");
        if (typeof emulators.GraphEmulator !== "function" || typeof emulators.MediaPlatformEmulator !== "function")
          throw new Error("teams-media-bot/emulators lacks the emulators");
        const internal = await import("teams-media-bot/dist/index.js").then(() => "loaded", (e) => e.code);
        console.log(internal);
      `;
      const imported = await mustRun(process.execPath, ["--input-type=module", "-e", probe], consumer);
      expect(imported.stdout.trim()).toBe("ERR_PACKAGE_PATH_NOT_EXPORTED");
    },
    STEP_MS,
  );

  it(
    "runs the demo from the installed package's compiled JavaScript",
    async () => {
      // The worker, the demo's handler module, its WAVs and the Graph CSDL, all found in the package.
      const demo = await mustRun(
        process.execPath,
        [path.join(consumer, "node_modules", "teams-media-bot", "dist", "main.js")],
        consumer,
        120_000,
      );
      expect(demo.stdout).toContain("call ended by the bot: 200/7000");
    },
    STEP_MS,
  );

  it(
    "type-checks a handler written in that project against the published types",
    async () => {
      // Strict NodeNext, and skipLibCheck off: the published .d.ts files and every type they
      // import must resolve from the installed dependencies alone.
      await mustRun(process.execPath, [TSC, "-p", path.join(consumer, "tsconfig.json")], consumer);
      expect(existsSync(path.join(consumer, "my-bot.js"))).toBe(true);
      expect(existsSync(path.join(consumer, "run-call.js"))).toBe(true);
    },
    STEP_MS,
  );

  it(
    "runs a call through the emulators with that handler, from the installed package alone",
    async () => {
      const result = await mustRun(process.execPath, ["run-call.js"], consumer, 120_000);
      const line = result.stdout.trim().split("\n").at(-1) as string;
      const outcome = JSON.parse(line) as {
        summary: { framesReceived: number; framesSent: number; framesDroppedBySend: number };
        heardBytes: number;
        heardToneHz: number;
        renderedFrames: { tone: number; silent: number; other: number };
        hangUpStatuses: number[];
        resultInfo: { code: number; subcode: number } | null;
      };
      // The handler heard the caller (the emulator's 440 Hz tone) until it hung up at 50 frames...
      expect(outcome.summary.framesReceived).toBeGreaterThanOrEqual(50);
      expect(outcome.heardBytes).toBe(outcome.summary.framesReceived * 640);
      expect(outcome.heardToneHz).toBeGreaterThan(430);
      expect(outcome.heardToneHz).toBeLessThan(450);
      // ...the media platform received its 1 kHz tone, sample for sample, and nothing else...
      expect(outcome.summary.framesDroppedBySend).toBe(0);
      expect(outcome.renderedFrames.tone).toBeGreaterThanOrEqual(40);
      expect(outcome.renderedFrames.other).toBe(0);
      // ...and the call ended by the bot's hang-up through Graph.
      expect(outcome.hangUpStatuses).toEqual([204]);
      expect(outcome.resultInfo).toMatchObject({ code: 200, subcode: 7000 });
    },
    STEP_MS,
  );

  it(
    "tests that handler with the test kit, in virtual time, from the installed package",
    async () => {
      const result = await mustRun(process.execPath, ["my-bot.check.js"], consumer, 120_000);
      const outcome = JSON.parse(result.stdout.trim().split("\n").at(-1) as string) as {
        hangUpAtMs: number;
        framesSent: number;
      };
      // 50 frames heard = 1 s of virtual time (within a tick or two of the first frame's arrival).
      expect(outcome.hangUpAtMs).toBeGreaterThanOrEqual(980);
      expect(outcome.hangUpAtMs).toBeLessThanOrEqual(1100);
      expect(outcome.framesSent).toBeGreaterThanOrEqual(40);
    },
    STEP_MS,
  );

  it(
    "runs that handler with the installed command-line tool: teams-media-bot dev",
    async () => {
      const cli = path.join(consumer, "node_modules", ".bin", "teams-media-bot");
      const dev = await mustRun(
        cli,
        ["dev", "./my-bot.js", "--calls", "2", "--seconds", "5", "--tone", "440"],
        consumer,
        120_000,
      );
      // The bot hangs up each call after 50 frames heard: Graph's 200/7000, then the report.
      expect(dev.stdout).toContain("Report");
      expect(dev.stdout).toMatch(/calls placed\s+2/);
      expect(dev.stdout).toContain("200/7000");
    },
    STEP_MS,
  );
});
