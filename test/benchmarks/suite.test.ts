/**
 * npm run bench: the chart module (scales, escaping, gaps, empty data), the summary built
 * from result files (goals met / not met, values not measured), flag checking, publishing,
 * and one real smoke run of the suite into a temporary directory. No timing is asserted.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { XMLValidator } from "fast-xml-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseArgs } from "../../benchmarks/lib/results.js";
import { designCount, jsonLayoutsOf, loadRunSeconds } from "../../benchmarks/load/run-estimate.js";
import { callsRows } from "../../benchmarks/report/charts/calls-series.js";
import { wrapNote } from "../../benchmarks/report/charts/chart-style.js";
import { renderSvg } from "../../benchmarks/report/charts/render-svg.js";
import { buildReport, README_END, README_START } from "../../benchmarks/report/report.js";
import { MANIFEST_FILE, type SuiteManifest } from "../../benchmarks/report/suite-manifest.js";
import {
  benchmarkRuns,
  countList,
  planFromArgs,
  runTimeoutMs,
  type SuitePlan,
} from "../../benchmarks/report/suite-plan.js";
import { runSuite } from "../../benchmarks/report/suite-runner.js";

const ROOT = path.join(import.meta.dirname, "..", "..");

/** Checks an SVG document is well-formed XML with an <svg> root that scales (viewBox). */
function checkSvg(svg: string): void {
  expect(XMLValidator.validate(svg)).toBe(true);
  expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]* viewBox="0 0 \d+ \d+"/);
}

/** XML entities back to text, for reading labels out of an SVG. */
const fromXml = (text: string) =>
  text
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&apos;/g, "'")
    .replace(/&amp;/g, "&");

/** Every aria-label Vega gave a mark, an axis or a legend (each data mark has one). */
function ariaLabels(svg: string): string[] {
  return [...svg.matchAll(/aria-label="([^"]*)"/g)].map((m) => fromXml(m[1] as string));
}

/** The text of every <text> element: axis titles, tick labels, legend labels, value labels. */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => fromXml(m[1] as string));
}

/** The data marks of one kind ("point", "line mark", "bar", "text mark"): aria-label and path. */
function marks(svg: string, kind: string): { label: string; d: string }[] {
  return [
    ...svg.matchAll(
      /<path aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="([^"]*)"[^>]*? d="([^"]*)"/g,
    ),
  ]
    .filter((m) => m[2] === kind)
    .map((m) => ({ label: fromXml(m[1] as string), d: m[3] as string }));
}

/** The points of one series of a calls chart, as "calls: value". */
function seriesPoints(svg: string, series: string): string[] {
  return marks(svg, "point")
    .filter((m) => m.label.endsWith(`; series: ${series}`))
    .map(
      (m) =>
        `${/^[^:]+: (\d+);/.exec(m.label)?.[1]}: ${/^[^;]+; [^:]+: ([^;]+); series:/.exec(m.label)?.[1]}`,
    );
}

/** How many separate pieces one series' line is drawn in (0: no line). */
function linePieces(svg: string, series: string): number {
  return marks(svg, "line mark")
    .filter((m) => m.label.endsWith(`; series: ${series}`))
    .reduce((n, m) => n + (m.d.match(/M/g)?.length ?? 0), 0);
}

/** The legend's labels, in order. */
function legendLabels(svg: string): string[] {
  return svg
    .split('class="mark-text role-legend-label"')
    .slice(1)
    .flatMap((part) => texts(part.slice(0, part.indexOf("</g>"))));
}

describe("chart rendering", () => {
  it("renders a Vega-Lite spec to a standalone SVG in Node, text escaped", async () => {
    const svg = await renderSvg({
      title: `Latency <p99> & "friends"`,
      data: { values: [{ x: 1, y: 2 }] },
      mark: "point",
      encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } },
    });
    checkSvg(svg);
    expect(svg).not.toContain("<p99>");
    expect(texts(svg)).toContain(`Latency <p99> & "friends"`);
  });

  it("wraps notes at spaces, a long word whole", () => {
    expect(wrapNote("aaa bbb ccc", 7)).toEqual(["aaa bbb", "ccc"]);
    expect(wrapNote("abcdefghij k", 4)).toEqual(["abcdefghij", "k"]);
  });

  it("draws a drop chart for a sweep without a drop: whole-frame axis from 0, a 0 on every run", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "bench-suite-drops-"));
    try {
      const files = ["load-a.json", "load-b.json", "load-c.json"];
      await writeFile(path.join(dir, files[0] as string), JSON.stringify(loadFixture(5)));
      await writeFile(path.join(dir, files[1] as string), JSON.stringify(loadFixture(10)));
      await writeFile(path.join(dir, files[2] as string), JSON.stringify(loadFixture(10)));
      const manifest: SuiteManifest = {
        benchmark: "suite",
        recordedAt: "2026-01-01T00:01:00.000Z",
        mode: "default",
        command: "npm run bench",
        durationSeconds: 1,
        files: { answer: null, frames: null, load: files },
        failures: [],
      };
      const report = await buildReport(dir, manifest);
      const drops = report.charts.find((c) => c.file === "charts/load-drops.svg")?.svg as string;
      checkSvg(drops);
      expect(marks(drops, "bar")).toEqual([]);
      expect(ariaLabels(drops)).toEqual(
        expect.arrayContaining([
          "Y-axis titled 'frames dropped in the run' for a linear scale with values from 0 to 1",
          "concurrent calls (a bar per run): 5; frames: 0; run: run 1",
          "concurrent calls (a bar per run): 10; frames: 0; run: run 1",
          "concurrent calls (a bar per run): 10; frames: 0; run: run 2",
        ]),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("marks a series with nothing to draw, and a value a log axis cannot place as missing", () => {
    const rows = callsRows({
      yTitle: "ms",
      yScale: "log",
      series: [
        {
          name: "echo",
          color: "#000",
          shape: "circle",
          points: [
            { calls: 200, value: 0 },
            { calls: 100, value: 5 },
            { calls: 400, value: Number.POSITIVE_INFINITY },
          ],
        },
        { name: "floor", color: "#000", shape: "square", points: [{ calls: 100, value: null }] },
      ],
    });
    expect(rows).toEqual([
      { calls: 100, series: "echo", value: 5 },
      { calls: 200, series: "echo", value: null },
      { calls: 400, series: "echo", value: null },
      { calls: 100, series: "floor (not measured)", value: null },
    ]);
  });
});

// ---- result files -------------------------------------------------------------------------

const MACHINE = {
  cpuModel: "Test CPU | fast",
  cores: 2,
  memoryGiB: 24,
  node: "v20.0.0",
  platform: "linux-x64",
  gitCommit: "abcdef123456",
};

function loadFixture(calls: number, overrides: Record<string, unknown> = {}) {
  return {
    benchmark: "load",
    recordedAt: "2026-01-01T00:00:00.000Z",
    machine: MACHINE,
    calls,
    seconds: 8,
    framesDropped: 0,
    bridgeSendDropBatches: 0,
    skippedTicks: 0,
    transitP50Ms: 0.25,
    transitP99Ms: 2,
    latenessP99Ms: 1,
    echoRoundTripP50Ms: 21.5,
    echoRoundTripP99Ms: 40.25,
    workerCpuUsPerFrame: 5,
    floorCpuUsPerFrame: 4,
    protocolEchoCpuUsPerFrame: 2.5,
    jsonBase64CpuUsPerFrame: 20,
    jsonBase64Layout: "perCall",
    jsonBase64SharedCpuUsPerFrame: 12.5,
    workerOverFloor: 1.25,
    jsonBase64OverWorker: 4,
    jsonBase64SharedOverWorker: 2.5,
    worker: { workerDrops: {}, farEnd: { framesDropped: 0 } },
    protocolEcho: { farEnd: { echoRoundTrip: { p50Ms: 3.5, p99Ms: 7.25 } } },
    goals: {
      noDrops: true,
      callsAtLeast1000WithoutDrops: calls >= 1000,
      transitP99Under5Ms: true,
      latenessP99Under2Ms: true,
      workerWithin1_5xFloor: true,
      atLeast3xCheaperThanJsonBase64: true,
      atLeast3xCheaperThanJsonBase64Shared: false,
    },
    ...overrides,
  };
}

async function writeFixtures(dir: string, mode: SuiteManifest["mode"] = "default"): Promise<SuiteManifest> {
  const files: Record<string, object> = {
    "answer-latency-1.json": {
      benchmark: "answer-latency",
      recordedAt: "2026-01-01T00:00:00.000Z",
      machine: MACHINE,
      calls: 1000,
      answered: 1000,
      ratePerSecond: 200,
      p50Ms: 2.5,
      p99Ms: 8.75,
      maxMs: 30,
      to202: { p50Ms: 5, p99Ms: 20, maxMs: 45 },
      goal: { p99Ms: 10 },
    },
    "frames-1.json": {
      benchmark: "frames",
      recordedAt: "2026-01-01T00:00:00.000Z",
      machine: MACHINE,
      sessions: 1000,
      ticks: 300,
      warmupTicks: 100,
      pipelines: [
        {
          name: "bridge codec + media engine",
          decodeNsPerFrame: 100,
          dispatchNsPerFrame: 200,
          encodeNsPerFrame: 300,
          totalNsPerFrame: 600,
        },
        {
          name: "generated protobufjs",
          decodeNsPerFrame: 400,
          dispatchNsPerFrame: 200,
          encodeNsPerFrame: 600,
          totalNsPerFrame: 1200,
        },
        {
          name: "JSON + base64",
          decodeNsPerFrame: 900,
          dispatchNsPerFrame: 200,
          encodeNsPerFrame: 900,
          totalNsPerFrame: 2000,
        },
      ],
    },
    // JSON per call kept only 81 % of the rate (reported), shared 99.5 % (within the margin).
    "load-100.json": loadFixture(100, {
      ratePercent: { worker: 100, floor: 100, jsonPerCall: 81, jsonShared: 99.5 },
    }),
    // 1000 calls: drops (9 trimmed by the worker, 3 at the far end), transit beyond the last
    // bucket (null), no baselines.
    "load-1000.json": loadFixture(1000, {
      framesDropped: 12,
      worker: { workerDrops: { latency_trim: 9 }, farEnd: { framesDropped: 3 } },
      protocolEcho: null,
      transitP99Ms: null,
      latenessP99Ms: 3,
      floorCpuUsPerFrame: null,
      protocolEchoCpuUsPerFrame: null,
      jsonBase64CpuUsPerFrame: null,
      jsonBase64Layout: null,
      jsonBase64SharedCpuUsPerFrame: null,
      workerOverFloor: null,
      jsonBase64OverWorker: null,
      jsonBase64SharedOverWorker: null,
      goals: {
        noDrops: false,
        callsAtLeast1000WithoutDrops: false,
        transitP99Under5Ms: null,
        latenessP99Under2Ms: false,
        workerWithin1_5xFloor: null,
        atLeast3xCheaperThanJsonBase64: null,
        atLeast3xCheaperThanJsonBase64Shared: null,
      },
    }),
  };
  for (const [name, body] of Object.entries(files))
    await writeFile(path.join(dir, name), JSON.stringify(body));
  const manifest: SuiteManifest = {
    benchmark: "suite",
    recordedAt: "2026-01-01T00:01:00.000Z",
    mode,
    command: "npm run bench",
    durationSeconds: 240,
    // Out of order on purpose: the report sorts by call count.
    files: {
      answer: "answer-latency-1.json",
      frames: "frames-1.json",
      load: ["load-1000.json", "load-100.json"],
    },
    failures: [],
  };
  await writeFile(path.join(dir, MANIFEST_FILE), JSON.stringify(manifest));
  return manifest;
}

const rowOf = (summary: string, start: string) =>
  summary.split("\n").find((line) => line.startsWith(start)) ?? "";

class Sink extends Writable {
  text = "";
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

describe("summary from result files", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "bench-suite-report-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("tabulates each benchmark with its goals, met and not met, and the machine", async () => {
    const manifest = await writeFixtures(dir);
    const report = await buildReport(dir, manifest);
    const s = report.summary;
    // A design below the nominal rate is named; files without rates (load-1000) add nothing.
    expect(s).toContain(
      "frames counted over more than its CPU window): JSON+base64 socket per call 81 % at 100 calls.",
    );
    expect(s).not.toContain("99.5 %");
    expect(s).toContain(
      "Measured on Test CPU | fast, 2 cores, 24 GiB, linux-x64, Node v20.0.0; commit `abcdef123456`.",
    );
    expect(s).toContain("| interval | answered | p50 ms | p99 ms | max ms | goal | goal met |");
    expect(rowOf(s, "| notification → answer sent")).toBe(
      "| notification → answer sent (the bot's own cost) | 1000 | 2.50 | 8.75 | 30.00 | p99 ≤ 10 ms | met |",
    );
    expect(rowOf(s, "| JSON + base64")).toBe(
      "| JSON + base64 | 900 | 200 | 900 | 2000 | 3.33 | ≥ 3× ours | met |",
    );
    expect(s).toContain(
      "| calls | worker µs/frame | floor µs/frame | protocol echo, no engine µs/frame | JSON+base64 socket per call µs/frame | JSON+base64 shared socket µs/frame | worker ÷ floor (goal ≤ 1.5) | JSON per call ÷ worker (goal ≥ 3) | JSON shared ÷ worker (for information) |",
    );
    expect(rowOf(s, "| 100 |")).toBe(
      "| 100 | 5.00 | 4.00 | 2.50 | 20.00 | 12.50 | 1.25 | 4.00 | 2.50 | 0.250 | 2.000 | 1.000 | 21.50 | 40.25 | 0 | 0 |",
    );
    expect(rowOf(s, "| 1000 |")).toBe(
      "| 1000 | 5.00 | - | - | - | - | - | - | - | 0.250 | - | 3.000 | 21.50 | 40.25 | 12 | 0 |",
    );
    // The goal is judged on the peer's layout; the shared socket's verdict is shown, not counted.
    expect(rowOf(s, "| JSON + base64 CPU ≥ 3× the worker (a socket per call, the peer's design)")).toBe(
      "| JSON + base64 CPU ≥ 3× the worker (a socket per call, the peer's design) | met | not measured |",
    );
    expect(rowOf(s, "| for information: JSON + base64 on one shared socket ≥ 3× the worker")).toBe(
      "| for information: JSON + base64 on one shared socket ≥ 3× the worker | NOT MET | not measured |",
    );
    expect(s).toContain("is judged on **a WebSocket per call**, the design of the closest peer");
    expect(s).toContain("`shared/docs/media-frames.md`");
    expect(s).not.toContain("only the shared socket was measured");
    expect(rowOf(s, "| render lateness p99 ≤ 2 ms")).toBe("| render lateness p99 ≤ 2 ms | met | NOT MET |");
    expect(
      rowOf(s, "| for information (replaced by the protocol echo goal): worker CPU ≤ 1.5× the floor"),
    ).toBe(
      "| for information (replaced by the protocol echo goal): worker CPU ≤ 1.5× the floor | met | not measured |",
    );
    expect(s).toContain("**1000 concurrent calls without drops: NOT MET** (largest clean run: 100 calls).");
    expect(s).toContain("![Echo round trip and frame timing vs concurrent calls](charts/load-latency.svg)");
    expect(report.charts.map((c) => c.file)).toEqual([
      "charts/load-latency.svg",
      "charts/load-cpu.svg",
      "charts/load-drops.svg",
      "charts/answer-latency.svg",
      "charts/frames.svg",
    ]);
    for (const chart of report.charts) checkSvg(chart.svg);
    const [latency, cpu, drops, answer, frames] = report.charts.map((c) => c.svg) as string[];

    // Round trip and timing on a log axis, the goals drawn; a figure not measured has no point.
    expect(ariaLabels(latency as string)).toContain(
      "Y-axis titled 'milliseconds (log scale)' for a log scale with values from 1 to 100",
    );
    expect(legendLabels(latency as string)).toEqual([
      "echo round trip p99",
      "echo round trip p50",
      "protocol echo (no engine) round trip p99",
      "protocol echo (no engine) round trip p50",
      "frame transit p99 (≤ bucket bound)",
      "render lateness p99 (≤ bucket bound)",
    ]);
    expect(seriesPoints(latency as string, "echo round trip p99")).toEqual(["100: 40.25", "1000: 40.25"]);
    expect(linePieces(latency as string, "echo round trip p99")).toBe(1);
    expect(seriesPoints(latency as string, "protocol echo (no engine) round trip p50")).toEqual(["100: 3.5"]);
    expect(seriesPoints(latency as string, "frame transit p99 (≤ bucket bound)")).toEqual(["100: 2"]);
    expect(texts(latency as string)).toEqual(
      expect.arrayContaining([
        "goal: echo p99 ≤ 25 ms at 1000 calls",
        "goal: echo p50 ≤ 12 ms",
        "goal: transit p99 ≤ 5 ms",
        "goal: lateness p99 ≤ 2 ms",
      ]),
    );

    // CPU per frame on a log axis, every design named; the goal line is 1.5× the protocol echo.
    expect(ariaLabels(cpu as string)).toContain(
      "Y-axis titled 'CPU µs per frame (log scale)' for a log scale with values from 1 to 100",
    );
    expect(legendLabels(cpu as string)).toEqual([
      "media worker (this project)",
      "protocol echo, no engine",
      "goal: 1.5 × the protocol echo",
      "floor: raw batched WebSocket",
      "JSON + base64, a socket per call (peer's design)",
      "JSON + base64, one shared socket",
    ]);
    expect(seriesPoints(cpu as string, "media worker (this project)")).toEqual(["100: 5", "1000: 5"]);
    expect(seriesPoints(cpu as string, "goal: 1.5 × the protocol echo")).toEqual(["100: 3.75"]);
    // The floor was measured at 100 calls only: one point, a line of one point (no segment).
    expect(seriesPoints(cpu as string, "floor: raw batched WebSocket")).toEqual(["100: 4"]);

    // Drops: a bar per run and reason, a total on every run (0 included).
    expect(marks(drops as string, "bar").map((m) => m.label)).toEqual([
      "concurrent calls (a bar per run): 1000; frames dropped in the run: 9; run: run 1; reason: worker: latency_trim",
      "concurrent calls (a bar per run): 1000; frames dropped in the run: 3; run: run 1; reason: far end (backpressure, overflow, before ACTIVE)",
    ]);
    expect(ariaLabels(drops as string)).toEqual(
      expect.arrayContaining([
        "concurrent calls (a bar per run): 100; frames: 0; run: run 1",
        "concurrent calls (a bar per run): 1000; frames: 12; run: run 1",
      ]),
    );
    expect(texts(drops as string)).toEqual(expect.arrayContaining(["0", "12", "frames dropped in the run"]));
    expect(legendLabels(drops as string)).toEqual([
      "worker: latency_trim",
      "far end (backpressure, overflow, before ACTIVE)",
    ]);

    // Answer latency: p50 visible on a log axis, each dot labelled, the goal drawn.
    expect(ariaLabels(answer as string)).toContain(
      "Y-axis titled 'milliseconds (log scale)' for a log scale with values from 1 to 100",
    );
    expect(marks(answer as string, "point").map((m) => m.label)).toEqual([
      "percentile: p50; milliseconds (log scale): 2.5; interval: notification → answer sent (the bot's own cost)",
      "percentile: p99; milliseconds (log scale): 8.75; interval: notification → answer sent (the bot's own cost)",
      "percentile: max; milliseconds (log scale): 30; interval: notification → answer sent (the bot's own cost)",
      "percentile: p50; milliseconds (log scale): 5; interval: notification → Graph's 202 (includes the emulator)",
      "percentile: p99; milliseconds (log scale): 20; interval: notification → Graph's 202 (includes the emulator)",
      "percentile: max; milliseconds (log scale): 45; interval: notification → Graph's 202 (includes the emulator)",
    ]);
    expect(texts(answer as string)).toEqual(
      expect.arrayContaining(["2.5", "8.75", "goal: answer sent p99 ≤ 10 ms"]),
    );

    // Per-frame cost: a bar per design and stage, the total beside it.
    expect(marks(frames as string, "bar")).toHaveLength(9);
    expect(texts(frames as string)).toEqual(
      expect.arrayContaining(["bridge codec + media engine (this project)", "600", "1200", "2000"]),
    );
  });

  it("loads result files from before both JSON layouts ran, by the layout each recorded", async () => {
    const manifest = await writeFixtures(dir);
    const legacy = (calls: number, layout: string | undefined) => {
      const file = loadFixture(calls, {
        jsonBase64OverWorker: 2,
        goals: { ...loadFixture(calls).goals, atLeast3xCheaperThanJsonBase64: false },
        ...(layout === undefined ? {} : { jsonBase64: { kind: "jsonBase64", layout } }),
      }) as Record<string, unknown>;
      delete file.jsonBase64Layout;
      delete file.protocolEchoCpuUsPerFrame;
      delete file.jsonBase64SharedCpuUsPerFrame;
      delete file.jsonBase64SharedOverWorker;
      delete (file.goals as Record<string, unknown>).atLeast3xCheaperThanJsonBase64Shared;
      return file;
    };
    await writeFile(path.join(dir, "load-100.json"), JSON.stringify(legacy(100, "shared")));
    await writeFile(path.join(dir, "load-1000.json"), JSON.stringify(legacy(1000, "perCall")));
    const report = await buildReport(dir, manifest);
    const [at100, at1000] = report.load;
    expect(at100).toMatchObject({
      jsonBase64Layout: "shared",
      jsonBase64PerCallCpuUsPerFrame: null,
      jsonBase64SharedCpuUsPerFrame: 20,
      jsonBase64SharedOverWorker: 2,
    });
    // Judged on the shared figure with the same threshold, as bench:load would have.
    expect(at100?.goals.atLeast3xCheaperThanJsonBase64Shared).toBe(false);
    expect(at1000).toMatchObject({
      jsonBase64Layout: "perCall",
      jsonBase64PerCallCpuUsPerFrame: 20,
      jsonBase64PerCallOverWorker: 2,
      jsonBase64SharedCpuUsPerFrame: null,
      jsonBase64SharedOverWorker: null,
    });
    expect(at1000?.goals.atLeast3xCheaperThanJsonBase64Shared).toBeNull();
    const s = report.summary;
    expect(rowOf(s, "| 100 |")).toMatch(
      /^\| 100 \| 5\.00 \| 4\.00 \| - \| - \| 20\.00 \| 1\.25 \| - \| 2\.00 \|/,
    );
    expect(rowOf(s, "| 1000 |")).toMatch(
      /^\| 1000 \| 5\.00 \| 4\.00 \| - \| 20\.00 \| - \| 1\.25 \| 2\.00 \| - \|/,
    );
    expect(rowOf(s, "| JSON + base64 CPU ≥ 3× the worker")).toBe(
      "| JSON + base64 CPU ≥ 3× the worker (a socket per call, the peer's design) | NOT MET (on the shared socket) | NOT MET |",
    );
    expect(s).toContain("At 100 calls only the shared socket was measured (`--json-layout shared`)");

    // No layout recorded at all: the default of that time, the shared socket.
    await writeFile(path.join(dir, "load-100.json"), JSON.stringify(legacy(100, undefined)));
    expect((await buildReport(dir, manifest)).load[0]?.jsonBase64Layout).toBe("shared");
  });

  it("shows repeated runs of a call count as the median of each figure, drops from the worst run", async () => {
    const manifest = await writeFixtures(dir);
    const run = (name: string, overrides: Record<string, unknown>) =>
      writeFile(path.join(dir, name), JSON.stringify(loadFixture(1000, overrides)));
    const goals = loadFixture(1000).goals;
    await run("load-1000-a.json", {
      workerCpuUsPerFrame: 2,
      floorCpuUsPerFrame: 0.7,
      workerOverFloor: 2.9,
      latenessP99Ms: 1,
      goals: { ...goals, latenessP99Under2Ms: true, workerWithin1_5xFloor: false },
    });
    await run("load-1000-b.json", {
      workerCpuUsPerFrame: 3,
      floorCpuUsPerFrame: 2.5,
      workerOverFloor: 1.2,
      latenessP99Ms: 5,
      framesDropped: 7,
      goals: { ...goals, noDrops: false, latenessP99Under2Ms: false, workerWithin1_5xFloor: true },
    });
    await run("load-1000-c.json", {
      workerCpuUsPerFrame: 2.2,
      floorCpuUsPerFrame: 0.8,
      workerOverFloor: 2.75,
      latenessP99Ms: 1.5,
      goals: { ...goals, latenessP99Under2Ms: true, workerWithin1_5xFloor: false },
    });
    const repeated = {
      ...manifest,
      files: {
        ...manifest.files,
        load: ["load-100.json", "load-1000-a.json", "load-1000-b.json", "load-1000-c.json"],
      },
    };
    const report = await buildReport(dir, repeated);
    expect(report.load.map((p) => [p.calls, p.runs])).toEqual([
      [100, 1],
      [1000, 3],
    ]);
    // One noisy run (b: a slow floor) neither makes the CPU goal nor breaks lateness.
    expect(report.load[1]).toMatchObject({
      workerCpuUsPerFrame: 2.2,
      floorCpuUsPerFrame: 0.8,
      workerOverFloor: 2.75,
      latenessP99Ms: 1.5,
      framesDropped: 7,
    });
    expect(report.load[1]?.goals).toMatchObject({
      noDrops: false,
      latenessP99Under2Ms: true,
      workerWithin1_5xFloor: false,
    });
    expect(report.summary).toContain("Each call count ran 3 times (`--repeat`)");
    // A ratio is the median of the runs' own ratios (2.75), not worker ÷ floor of the row (2.2 / 0.8).
    expect(report.summary).toContain(
      "**Each ratio column (worker ÷ floor, JSON ÷ worker) is the median of the runs' own ratios, not the ratio of the medians in its row**",
    );
    expect(report.summary).toContain("load-1000-a.json, load-1000-b.json, load-1000-c.json");
    expect((await buildReport(dir, manifest)).summary).not.toContain("(`--repeat`)");
  });

  it("takes the upper-middle run's bucket bound for transit and lateness, a run beyond the last bucket counting as above every bound", async () => {
    const manifest = await writeFixtures(dir);
    const combine = async (figures: [number | null, number | null][]) => {
      const names = figures.map((_, i) => `load-bounds-${i}.json`);
      for (const [i, [transit, lateness]] of figures.entries())
        await writeFile(
          path.join(dir, names[i] as string),
          JSON.stringify(loadFixture(1000, { transitP99Ms: transit, latenessP99Ms: lateness })),
        );
      return (await buildReport(dir, { ...manifest, files: { ...manifest.files, load: names } })).load[0];
    };
    // The audit's cases: one run beyond 1 s (null in the file) is not dropped from the median.
    expect(
      (
        await combine([
          [null, 1],
          [0.25, 1],
          [0.5, 1],
        ])
      )?.transitP99Ms,
    ).toBe(0.5);
    // Two runs: the higher bound, not a mean of two bounds (2 is no bucket bound of 1 and 3).
    expect(
      (
        await combine([
          [0.25, 1],
          [0.25, 3],
        ])
      )?.latenessP99Ms,
    ).toBe(3);
    expect(
      (
        await combine([
          [0.25, 1],
          [0.25, 2],
        ])
      )?.latenessP99Ms,
    ).toBe(2);
    // Most runs beyond the last bucket: not a number ("-"), like one such run.
    expect(
      (
        await combine([
          [null, 1],
          [null, 1],
          [0.5, 1],
        ])
      )?.transitP99Ms,
    ).toBe(null);
  });

  it("names every run of a design off the nominal rate, with its far end's skipped ticks and drops", async () => {
    const manifest = await writeFixtures(dir);
    const rates = [97.2, 100, 103.1];
    const names = rates.map((_, i) => `load-rate-${i}.json`);
    for (const [i, rate] of rates.entries())
      await writeFile(
        path.join(dir, names[i] as string),
        JSON.stringify(
          loadFixture(1000, {
            ratePercent: { worker: 100, floor: rate, protocolEcho: 100, jsonPerCall: 100, jsonShared: 100 },
            floor: { farEnd: { skippedTicks: i * 10, framesDropped: i } },
          }),
        ),
      );
    const s = (await buildReport(dir, { ...manifest, files: { ...manifest.files, load: names } })).summary;
    expect(s).toContain(
      "floor 97.2 % at 1000 calls (run 1 of 3, `load-rate-0.json`), far end 0 skipped ticks, 0 dropped frames; floor 103.1 % at 1000 calls (run 3 of 3, `load-rate-2.json`), far end 20 skipped ticks, 2 dropped frames.",
    );
    // The median run (100 %) is within the band and not named.
    expect(s).not.toContain("`load-rate-1.json`), far end");
  });

  it("counts unanswered calls against the answer goal and lists commits that changed mid-run", async () => {
    const manifest = await writeFixtures(dir);
    const answer = JSON.parse(await readFile(path.join(dir, "answer-latency-1.json"), "utf8"));
    await writeFile(
      path.join(dir, "answer-latency-1.json"),
      JSON.stringify({ ...answer, answered: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 }),
    );
    await writeFile(
      path.join(dir, "load-1000.json"),
      JSON.stringify(loadFixture(1000, { machine: { ...MACHINE, gitCommit: "0123456789ab-dirty" } })),
    );
    const report = await buildReport(dir, manifest);
    expect(rowOf(report.summary, "| notification → answer sent")).toBe(
      "| notification → answer sent (the bot's own cost) | 0 | - | - | - | p99 ≤ 10 ms | NOT MET (1000 unanswered) |",
    );
    expect(report.summary).toContain("**Only 0 of 1000 calls were answered.**");
    expect(report.summary).toContain(
      "Commits:\n\n- `abcdef123456`: bench:answer, bench:frames, bench:load 100 calls\n- `0123456789ab-dirty` (with uncommitted changes): bench:load 1000 calls",
    );
    const chart = report.charts.find((c) => c.file === "charts/answer-latency.svg")?.svg as string;
    checkSvg(chart);
    expect(marks(chart, "point")).toEqual([]);
    expect(texts(chart)).toEqual(
      expect.arrayContaining([
        "no call answered: no latency to show",
        "Answer latency: 0 of 1000 calls answered at 200/s",
      ]),
    );
  });

  it("names the file and the field of a malformed result", async () => {
    const manifest = await writeFixtures(dir);
    await writeFile(
      path.join(dir, "load-100.json"),
      JSON.stringify(loadFixture(100, { echoRoundTripP99Ms: "fast" })),
    );
    await expect(buildReport(dir, manifest)).rejects.toThrow(
      'load-100.json: echoRoundTripP99Ms must be a finite number, got "fast"',
    );
    await writeFile(path.join(dir, "load-100.json"), "{not json");
    await expect(buildReport(dir, manifest)).rejects.toThrow(/load-100.json: cannot read it as JSON/);
    await writeFile(
      path.join(dir, "load-100.json"),
      JSON.stringify(loadFixture(100, { jsonBase64Layout: "sideways" })),
    );
    await expect(buildReport(dir, manifest)).rejects.toThrow(
      'load-100.json: jsonBase64Layout must be perCall or shared or null, got "sideways"',
    );
    await writeFile(
      path.join(dir, "load-100.json"),
      JSON.stringify(loadFixture(100, { jsonBase64Layout: null })),
    );
    await expect(buildReport(dir, manifest)).rejects.toThrow(
      "load-100.json: jsonBase64Layout must be perCall or shared when jsonBase64CpuUsPerFrame is set",
    );
    await expect(
      buildReport(dir, { ...manifest, files: { ...manifest.files, load: ["../x.json"] } }),
    ).rejects.toThrow(/plain names/);
  });

  it("rebuilds the report from the manifest and publishes it only for a real run", async () => {
    const manifest = await writeFixtures(dir);
    const docs = await mkdtemp(path.join(tmpdir(), "bench-suite-docs-"));
    try {
      // Published join results: the headline's join row is the newest.
      await mkdir(path.join(docs, "join"));
      const join = (recordedAt: string, p50Ms: number) => ({
        benchmark: "join-latency",
        recordedAt,
        machine: MACHINE,
        joins: 200,
        established: 200,
        ratePerSecond: 20,
        p50Ms,
        p99Ms: 160.5,
        maxMs: 170,
      });
      await writeFile(
        path.join(docs, "join", "join-latency-2026-01-01T00-00-00-000Z.json"),
        JSON.stringify(join("2026-01-01T00:00:00.000Z", 99)),
      );
      await writeFile(
        path.join(docs, "join", "join-latency-2026-01-02T00-00-00-000Z.json"),
        JSON.stringify(join("2026-01-02T00:00:00.000Z", 78.5)),
      );
      const readme = path.join(docs, "README.md");
      await writeFile(
        readme,
        `# project\n\n## Benchmarks\n\n${README_START}\nold table\n${README_END}\n\nA paragraph.\n`,
      );
      const plan = planFromArgs(parseArgs(["--report-only", "--publish", "--results-dir", dir]), "unused");
      const out = new Sink();
      const err = new Sink();
      const outcome = await runSuite(plan, "test", { out, err, docsDir: docs, readmeFile: readme });
      expect(err.text).toBe("");
      expect(outcome.exitCode).toBe(0);
      expect((await readdir(docs)).sort()).toEqual(["README.md", "charts", "join", "results", "summary.md"]);
      expect((await readdir(path.join(docs, "charts"))).sort()).toEqual([
        "answer-latency.svg",
        "frames.svg",
        "load-cpu.svg",
        "load-drops.svg",
        "load-latency.svg",
      ]);
      // The run's own result files and manifest, not the other files of the results directory.
      expect((await readdir(path.join(docs, "results"))).sort()).toEqual(
        [MANIFEST_FILE, "answer-latency-1.json", "frames-1.json", ...manifest.files.load].sort(),
      );
      const summary = await readFile(path.join(dir, "summary.md"), "utf8");
      expect(await readFile(path.join(docs, "summary.md"), "utf8")).toBe(summary);

      // The headline table, generated: figures, goals, verdicts and the files they came from.
      expect(summary).toContain("| figure | this project | goal | goal met | compared with | source |");
      expect(rowOf(summary, "| Echo round trip")).toBe(
        "| Echo round trip p50 / p99 at 1000 calls (far end → bot → far end) | 21.5 / 40.3 ms (one run) | ≤ 12 / ≤ 25 ms | NOT MET | protocol echo: not recorded | `load-1000.json` |",
      );
      expect(rowOf(summary, "| Worker CPU per frame")).toBe(
        "| Worker CPU per frame at 1000 calls | 5.00 µs (one run) | ≤ 1.5× the protocol echo | not measured | - | `load-1000.json` |",
      );
      expect(rowOf(summary, "| Frames dropped or trimmed at 200 calls")).toBe(
        "| Frames dropped or trimmed at 200 calls, each run | not measured | 0 in every run | not measured | - | - |",
      );
      expect(rowOf(summary, "| Frames dropped or trimmed at 1000 calls")).toBe(
        "| Frames dropped or trimmed at 1000 calls, each run | 12 (9 of them latency_trim) | 0 in every run | NOT MET | - | `load-1000.json` |",
      );
      expect(rowOf(summary, "| Answer latency")).toBe(
        "| Answer latency p50 / p99 (notification → answer sent) | 2.50 / 8.75 ms (1000 calls at 200/s) | p99 ≤ 10 ms | met | to Graph's 202: 5.00 / 20.0 ms | `answer-latency-1.json` |",
      );
      expect(rowOf(summary, "| Meeting join")).toBe(
        "| Meeting join p50 / p99 (createCall sent → established) | 78.5 / 161 ms (200 of 200 joins at 20/s) | no goal | - | the emulator schedules its own waits into each join (a timer setting, not a reading) | `docs/benchmarks/join/join-latency-2026-01-02T00-00-00-000Z.json` |",
      );

      // The README's block holds the same table and the charts; the rest of the README is kept.
      const text = await readFile(readme, "utf8");
      expect(
        text.startsWith(
          `# project\n\n## Benchmarks\n\n${README_START}\nFrom \`npm run bench\`, finished 2026-01-01T00:01:00.000Z on Test CPU | fast, 2 cores, Node v20.0.0; commit \`abcdef123456\`. Result files: \`docs/benchmarks/results/\`.\n\n| figure |`,
        ),
      ).toBe(true);
      expect(text).not.toContain("old table");
      expect(text).toContain(rowOf(summary, "| Echo round trip"));
      expect(text).toContain(
        "![Frames dropped or trimmed, every run](docs/benchmarks/charts/load-drops.svg)",
      );
      // Publishing again replaces the block, it does not add one.
      await runSuite(plan, "test", { out, err, docsDir: docs, readmeFile: readme });
      expect(await readFile(readme, "utf8")).toBe(text);

      // A README without the block: nothing is published.
      await rm(path.join(docs, "results"), { recursive: true });
      await writeFile(readme, "# project\n");
      await expect(runSuite(plan, "test", { out, err, docsDir: docs, readmeFile: readme })).rejects.toThrow(
        /no "<!-- benchmark-headline:start.*block to write the headline into/,
      );
      await expect(readdir(path.join(docs, "results"))).rejects.toThrow(/ENOENT/);

      await writeFixtures(dir, "smoke");
      await rm(docs, { recursive: true, force: true });
      const refused = await runSuite(plan, "test", { out, err, docsDir: docs });
      expect(refused.exitCode).toBe(1);
      expect(err.text).toContain("not published: a smoke run");
      await expect(readdir(docs)).rejects.toThrow(/ENOENT/);
    } finally {
      await rm(docs, { recursive: true, force: true });
    }
  });
});

describe("flags", () => {
  const plan = (argv: string[]) => planFromArgs(parseArgs(argv), "/tmp/results");

  it("has presets and overrides", () => {
    expect(plan([]).load.counts).toEqual([100, 200, 400, 700, 1000]);
    expect(plan(["--smoke"]).mode).toBe("smoke");
    const custom = plan([
      "--long",
      "--calls",
      "400,100",
      "--seconds",
      "3",
      "--no-baselines",
      "--only",
      "load",
    ]);
    expect(custom.load).toMatchObject({ counts: [100, 400], seconds: 3, baselines: false });
    const runs = benchmarkRuns(custom);
    expect(runs.map((r) => r.script)).toEqual(["load.ts", "load.ts"]);
    expect(runs[0]?.args).toEqual([
      "--calls",
      "100",
      "--seconds",
      "3",
      "--warmup",
      "5",
      "--no-baselines",
      "--results-dir",
      "/tmp/results",
    ]);
    expect(benchmarkRuns(plan(["--smoke"])).every((r) => r.args.includes("--results-dir"))).toBe(true);
  });

  it("runs both JSON + base64 layouts by default and gives each run time for the designs it measures", () => {
    const both = plan(["--only", "load", "--calls", "1000"]);
    const [run] = benchmarkRuns(both);
    expect(run?.args).toEqual([
      "--calls",
      "1000",
      "--seconds",
      "8",
      "--warmup",
      "2",
      "--json-layout",
      "both",
      "--results-dir",
      "/tmp/results",
    ]);
    const perCall = plan(["--only", "load", "--calls", "1000", "--json-layout", "per-call"]);
    expect(benchmarkRuns(perCall)[0]?.args).toContain("per-call");
    const bare = plan(["--only", "load", "--calls", "1000", "--no-baselines"]);
    const limit = (p: SuitePlan) =>
      runTimeoutMs(p, benchmarkRuns(p)[0] as ReturnType<typeof benchmarkRuns>[number]);
    // 5 designs > 4 designs > the worker alone; each at least 3x its estimate.
    expect(limit(both)).toBeGreaterThan(limit(perCall));
    expect(limit(perCall)).toBeGreaterThan(limit(bare));
    const estimate = loadRunSeconds({
      calls: 1000,
      seconds: 8,
      warmupSeconds: 2,
      baselines: true,
      jsonLayouts: ["perCall", "shared"],
    });
    expect(designCount({ baselines: true, jsonLayouts: ["perCall", "shared"] })).toBe(5);
    expect(estimate).toBeGreaterThan(5 * (8 + 2));
    expect(limit(both)).toBeGreaterThanOrEqual(3 * estimate * 1000);
    expect(jsonLayoutsOf("both")).toEqual(["perCall", "shared"]);
  });

  it("passes --repeat to bench:load and gives each call count time for every run", () => {
    const once = plan(["--only", "load", "--calls", "1000"]);
    const thrice = plan(["--only", "load", "--calls", "1000", "--repeat", "3"]);
    expect(once.load.repeat).toBe(1);
    expect(benchmarkRuns(once)[0]?.args).not.toContain("--repeat");
    const [run] = benchmarkRuns(thrice);
    expect(run?.args.slice(run.args.indexOf("--repeat"), run.args.indexOf("--repeat") + 2)).toEqual([
      "--repeat",
      "3",
    ]);
    const limit = (p: SuitePlan) =>
      runTimeoutMs(p, benchmarkRuns(p)[0] as ReturnType<typeof benchmarkRuns>[number]);
    // bench:load's own limit times three, plus the same 60 s backstop.
    expect(limit(thrice) - 60_000).toBe(3 * (limit(once) - 60_000));
    expect(() => plan(["--repeat", "0"])).toThrow(/--repeat/);
  });

  it("refuses what it does not understand", () => {
    expect(() => plan(["--sconds", "3"])).toThrow(/unknown flag --sconds/);
    expect(() => plan(["--smoke", "--long"])).toThrow(/cannot be combined/);
    expect(() => plan(["--only", "answer,video"])).toThrow(/"video"/);
    expect(() => plan(["--seconds", "0"])).toThrow(/--seconds must be an integer >= 1/);
    expect(() => countList("calls", "100,,200")).toThrow(/positive integers/);
    expect(() => countList("calls", "100,100")).toThrow(/repeats/);
    expect(() => plan(["--publish", "yes"])).toThrow(/takes no value/);
    expect(() => plan(["--json-layout", "sideways"])).toThrow(
      '--json-layout must be both, per-call or shared, got "sideways"',
    );
  });
});

// ---- the real thing -----------------------------------------------------------------------

describe("npm run bench -- --smoke", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "bench-suite-smoke-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("runs the three benchmarks and writes their JSON, summary.md and the SVG charts", async () => {
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ["--import", "tsx", path.join(ROOT, "benchmarks", "suite.ts"), "--smoke", "--results-dir", dir],
        { cwd: ROOT, timeout: 150_000, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
      );
    });
    expect(run.code, run.stderr).toBe(0);
    const files = await readdir(dir);
    for (const name of ["answer-latency", "frames", "load", "suite"])
      expect(files, name).toContain(`${name}-latest.json`);
    expect(files.filter((f) => /^load-\d.*\.json$/.test(f))).toHaveLength(2);

    const summary = await readFile(path.join(dir, "summary.md"), "utf8");
    expect(summary).toContain("| interval | answered | p50 ms | p99 ms | max ms | goal | goal met |");
    expect(summary).toMatch(/^\| notification → answer sent \(the bot's own cost\) \| 20 \| /m);
    expect(summary).toMatch(/^\| design \| decode \| dispatch \(echo\) \| encode \| total ns\/frame \|/m);
    expect(summary).toMatch(/^\| bridge codec \+ media engine \(this project\) \| \d+ \|/m);
    expect(summary).toMatch(
      /^\| calls \| worker µs\/frame \| floor µs\/frame \| protocol echo, no engine µs\/frame \| JSON\+base64 socket per call µs\/frame \| JSON\+base64 shared socket µs\/frame \|/m,
    );
    // Worker, floor, protocol echo, JSON per call, JSON shared, then the three ratios. A smoke
    // run's few frames can leave a baseline's CPU within the idle rate's noise: "-" (not
    // measured) is allowed there, but the worker's own cost is always measured.
    expect(summary).toMatch(/^\| 5 \| [\d.]+ \|( ([\d.]+|-) \|){7}/m);
    expect(summary).toMatch(/^\| 10 \| [\d.]+ \|( ([\d.]+|-) \|){7}/m);
    expect(summary).toMatch(
      /^\| for information: JSON \+ base64 on one shared socket ≥ 3× the worker \| (met|NOT MET) \|/m,
    );
    expect(summary).toMatch(/Measured on .+, \d+ cores, .*Node v\d+/);
    expect(summary).toMatch(/(commit |Commit |^- )`[0-9a-f]{12}(-dirty)?`/m);

    // Where the echo's time went, per call count, from each run's exact stages.
    expect(summary).toMatch(/### Echo breakdown at 10 calls/);
    expect(summary).toMatch(/\| worker total: delivered -> live batch sent \| 1 \| [\d.]+ \|/);
    const chart = (name: string) => readFile(path.join(dir, "charts", name), "utf8");
    const latency = await chart("load-latency.svg");
    checkSvg(latency);
    // A figure a smoke run may leave unmeasured is named "(not measured)" in the legend.
    expect(legendLabels(latency).map((label) => label.replace(" (not measured)", ""))).toEqual([
      "echo round trip p99",
      "echo round trip p50",
      "protocol echo (no engine) round trip p99",
      "protocol echo (no engine) round trip p50",
      // A real run reads them exactly (the worker's latency probe): no bucket bound.
      "transit host → worker p99",
      "render lateness p99",
    ]);
    // Echo round trip is always measured (HDR at the far end): a point per call count, one line.
    expect(seriesPoints(latency, "echo round trip p50")).toHaveLength(2);
    expect(linePieces(latency, "echo round trip p50")).toBe(1);
    const cpu = await chart("load-cpu.svg");
    checkSvg(cpu);
    expect(legendLabels(cpu).map((label) => label.replace(" (not measured)", ""))).toEqual([
      "media worker (this project)",
      "protocol echo, no engine",
      "goal: 1.5 × the protocol echo",
      "floor: raw batched WebSocket",
      "JSON + base64, a socket per call (peer's design)",
      "JSON + base64, one shared socket",
    ]);
    expect(seriesPoints(cpu, "media worker (this project)")).toHaveLength(2);
    const drops = await chart("load-drops.svg");
    checkSvg(drops);
    expect(ariaLabels(drops).filter((label) => /; frames: \d+; run: run 1$/.test(label))).toHaveLength(2);
    // --report-only rebuilds the same summary from the files this run wrote.
    const rebuilt = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ["--import", "tsx", path.join(ROOT, "benchmarks", "suite.ts"), "--report-only", "--results-dir", dir],
        { cwd: ROOT, timeout: 60_000 },
        (error, _stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stderr }),
      );
    });
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(await readFile(path.join(dir, "summary.md"), "utf8")).toBe(summary);
    checkSvg(await chart("answer-latency.svg"));
    checkSvg(await chart("frames.svg"));
  }, 180_000);

  it("--repeat keeps every run's result file of a call count and reports their medians", async () => {
    const repeatDir = path.join(dir, "repeat");
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [
          "--import",
          "tsx",
          path.join(ROOT, "benchmarks", "suite.ts"),
          "--smoke",
          "--only",
          "load",
          "--calls",
          "5",
          "--repeat",
          "2",
          "--json-layout",
          "shared",
          "--results-dir",
          repeatDir,
        ],
        { cwd: ROOT, timeout: 150_000, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
      );
    });
    expect(run.code, run.stderr).toBe(0);
    const manifest = JSON.parse(await readFile(path.join(repeatDir, MANIFEST_FILE), "utf8")) as SuiteManifest;
    expect(manifest.failures).toEqual([]);
    expect(manifest.files.load).toHaveLength(2);
    const summary = await readFile(path.join(repeatDir, "summary.md"), "utf8");
    expect(summary).toContain("Each call count ran 2 times (`--repeat`)");
    expect(summary.match(/^\| 5 \|/gm)).toHaveLength(1);
  }, 180_000);
});
