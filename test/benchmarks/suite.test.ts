/**
 * npm run bench: the chart module (scales, escaping, gaps, empty data), the summary built
 * from result files (goals met / not met, values not measured), flag checking, publishing,
 * and one real smoke run of the suite into a temporary directory. No timing is asserted.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseArgs } from "../../benchmarks/lib/results.js";
import { designCount, jsonLayoutsOf, loadRunSeconds } from "../../benchmarks/load/run-estimate.js";
import { renderBarChart } from "../../benchmarks/report/bar-chart.js";
import { renderLineChart } from "../../benchmarks/report/line-chart.js";
import { buildReport } from "../../benchmarks/report/report.js";
import { linearAxis, logAxis, niceStep, project } from "../../benchmarks/report/scale.js";
import { MANIFEST_FILE, type SuiteManifest } from "../../benchmarks/report/suite-manifest.js";
import {
  benchmarkRuns,
  countList,
  planFromArgs,
  runTimeoutMs,
  type SuitePlan,
} from "../../benchmarks/report/suite-plan.js";
import { runSuite } from "../../benchmarks/report/suite-runner.js";
import { escapeXml, formatNumber, wrapText } from "../../benchmarks/report/svg.js";

const ROOT = path.join(import.meta.dirname, "..", "..");
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" });

type Node = Record<string, unknown>;

/** Parses an SVG document, failing the test when it is not well-formed XML with an <svg> root. */
function parseSvg(svg: string): Node {
  expect(XMLValidator.validate(svg)).toBe(true);
  const doc = parser.parse(svg) as Node;
  const root = doc.svg as Node | undefined;
  expect(root).toBeDefined();
  expect(root?.xmlns).toBe("http://www.w3.org/2000/svg");
  expect(root?.viewBox).toMatch(/^0 0 \d+ \d+$/);
  return root as Node;
}

/** Every element named `tag` anywhere under `node`. */
function findAll(node: unknown, tag: string): Node[] {
  const found: Node[] = [];
  const visit = (value: unknown) => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (typeof value !== "object" || value === null) return;
    for (const [key, child] of Object.entries(value as Node)) {
      if (key === tag)
        for (const c of Array.isArray(child) ? child : [child])
          if (typeof c === "object") found.push(c as Node);
      visit(child);
    }
  };
  visit(node);
  return found;
}

function seriesGroups(root: Node): Map<string, Node> {
  return new Map(
    findAll(root, "g")
      .filter((g) => g.class === "series")
      .map((g) => [String(g["data-series"]), g]),
  );
}

describe("scales", () => {
  it("picks 1, 2, 2.5, 5 steps", () => {
    expect(niceStep(0.7)).toBe(1);
    expect(niceStep(1.3)).toBe(2);
    expect(niceStep(180)).toBe(200);
    expect(niceStep(230)).toBe(250);
    expect(niceStep(0.004)).toBe(0.005);
    expect(() => niceStep(0)).toThrow(/positive/);
  });

  it("covers the data with round linear ticks from zero", () => {
    const axis = linearAxis([100, 200, 400, 700, 1000], 5);
    expect(axis).toMatchObject({ kind: "linear", min: 0, max: 1000 });
    expect(axis.ticks).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(linearAxis([0.1, 0.3], 3).ticks).toEqual([0, 0.1, 0.2, 0.3]);
    expect(linearAxis([], 5)).toMatchObject({ min: 0, max: 1 });
    expect(linearAxis([0, 0])).toMatchObject({ min: 0, max: 1 });
    const one = linearAxis([50], 5, false);
    expect(one.min).toBeLessThan(50);
    expect(one.max).toBeGreaterThan(50);
    expect(linearAxis([Number.NaN, Number.POSITIVE_INFINITY, 3]).max).toBe(3);
  });

  it("spans whole decades on a log axis and ignores values it cannot place", () => {
    const wide = logAxis([0.25, 2, 858]);
    expect(wide).toMatchObject({ kind: "log", min: 0.1, max: 1000 });
    expect(wide.ticks).toEqual([0.1, 1, 10, 100, 1000]);
    const narrow = logAxis([1.5, 30, 0, -4]);
    expect(narrow).toMatchObject({ min: 1, max: 100 });
    expect(narrow.ticks).toEqual([1, 2, 5, 10, 20, 50, 100]);
    expect(logAxis([10]).ticks).toEqual([10, 20, 50, 100]);
    expect(logAxis([]).min).toBe(1);
  });

  it("projects values onto pixels, upside down for a y axis", () => {
    const axis = linearAxis([0, 100]);
    expect(project(axis, 50, 0, 200)).toBe(100);
    expect(project(axis, 100, 300, 100)).toBe(100);
    const log = logAxis([1, 100]);
    expect(project(log, 10, 0, 100)).toBeCloseTo(50, 9);
    expect(Number.isNaN(project(log, 0, 0, 100))).toBe(true);
  });
});

describe("svg text", () => {
  it("escapes markup characters and drops control characters", () => {
    expect(escapeXml(`<a & "b">'`)).toBe("&lt;a &amp; &quot;b&quot;&gt;&apos;");
    expect(escapeXml("a\u0000b\u001bc\td")).toBe("abc\td");
  });

  it("formats tick and data labels", () => {
    expect(formatNumber(0)).toBe("0");
    expect(formatNumber(0.25)).toBe("0.25");
    expect(formatNumber(0.30000000000000004)).toBe("0.3");
    expect(formatNumber(12.345)).toBe("12.3");
    expect(formatNumber(858.623)).toBe("859");
    expect(formatNumber(62789)).toBe("62,789");
  });

  it("wraps long notes at spaces", () => {
    const lines = wrapText("one two three four five six", 60, 10);
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.join(" ")).toBe("one two three four five six");
    for (const line of lines) expect(line.length * 6).toBeLessThanOrEqual(60);
  });
});

describe("line chart", () => {
  it("draws every series with a marker per point, escapes names, and breaks lines at missing values", () => {
    const svg = renderLineChart({
      title: `Latency <p99> & "friends"`,
      subtitle: "machine 'x'",
      xLabel: "calls",
      yLabel: "ms",
      yScale: "log",
      series: [
        { name: "transit <p50>", points: [100, 200, 400, 700, 1000].map((x) => ({ x, y: x / 100 })) },
        {
          name: "echo p99",
          points: [
            { x: 100, y: 5 },
            { x: 200, y: 6 },
            { x: 400, y: null },
            { x: 700, y: 9 },
            { x: 1000, y: Number.POSITIVE_INFINITY },
          ],
        },
      ],
      references: [{ label: "goal ≤ 5 ms", y: 5 }],
      notes: ["a note"],
    });
    const root = parseSvg(svg);
    expect(svg).not.toContain("<p99>");
    expect(svg).toContain("Latency &lt;p99&gt; &amp; &quot;friends&quot;");
    const groups = seriesGroups(root);
    expect([...groups.keys()]).toEqual(["transit <p50>", "echo p99"]);
    const transit = groups.get("transit <p50>") as Node;
    expect(findAll(transit, "polyline")).toHaveLength(1);
    expect(findAll(transit, "circle")).toHaveLength(5);
    // 100, 200 | gap | 700 alone | infinity: one line of two points, three markers.
    const echo = groups.get("echo p99") as Node;
    expect(findAll(echo, "polyline")).toHaveLength(1);
    expect(findAll(echo, "rect")).toHaveLength(3);
    // Higher values sit higher (smaller y) on the log axis.
    const ys = String(findAll(transit, "polyline")[0]?.points)
      .split(" ")
      .map((p) => Number(p.split(",")[1]));
    for (let i = 1; i < ys.length; i++) expect(ys[i]).toBeLessThan(ys[i - 1] as number);
    const legendNames = findAll(root, "g")
      .filter((g) => g.class === "legend-entry")
      .map((g) => g["data-series"]);
    expect(legendNames).toEqual(["transit <p50>", "echo p99", "goal ≤ 5 ms"]);
    expect(findAll(root, "line").some((l) => l["data-reference"] === "goal ≤ 5 ms")).toBe(true);
  });

  it("renders axes, a legend and 'no data' when there is nothing to draw", () => {
    const svg = renderLineChart({
      title: "empty",
      xLabel: "calls",
      yLabel: "µs",
      series: [
        { name: "worker", points: [] },
        { name: "floor", points: [{ x: 1, y: null }] },
      ],
    });
    const root = parseSvg(svg);
    expect(svg).toContain(">no data<");
    expect(svg).toContain("worker (no data)");
    expect(svg).toContain("floor (no data)");
    expect(findAll(root, "polyline")).toHaveLength(0);
    expect(findAll(root, "g").some((g) => g.class === "y-axis")).toBe(true);
  });
});

describe("bar chart", () => {
  it("draws a labelled bar per series and category, n/a for missing values", () => {
    const svg = renderBarChart({
      title: "answer",
      yLabel: "ms",
      categories: ["p50", "p99", "max"],
      series: [
        { name: "sent", values: [1.5, 4, 12] },
        { name: "202", values: [3, null, 30] },
      ],
      references: [{ label: "goal", y: 10 }],
    });
    const root = parseSvg(svg);
    const bars = findAll(root, "g").filter((g) => g.class === "bar");
    expect(bars).toHaveLength(6);
    expect(bars.map((b) => `${b["data-series"]}/${b["data-category"]}`)).toContain("202/p99");
    expect(svg).toContain(">n/a<");
    expect(svg).toContain(">1.5<");
    expect(() =>
      renderBarChart({
        title: "x",
        yLabel: "y",
        categories: ["a", "b"],
        series: [{ name: "s", values: [1] }],
      }),
    ).toThrow(/1 values for 2 categories/);
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
    // 1000 calls: drops, transit beyond the last bucket (null), no baselines.
    "load-1000.json": loadFixture(1000, {
      framesDropped: 12,
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
    const report = buildReport(dir, manifest);
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
    expect(rowOf(s, "| worker CPU ≤ 1.5× the floor")).toBe(
      "| worker CPU ≤ 1.5× the floor | met | not measured |",
    );
    expect(s).toContain("**1000 concurrent calls without drops: NOT MET** (largest clean run: 100 calls).");
    expect(s).toContain("![Media worker latency vs concurrent calls](charts/load-latency.svg)");
    expect(report.charts.map((c) => c.file)).toEqual([
      "charts/load-latency.svg",
      "charts/load-cpu.svg",
      "charts/answer-latency.svg",
      "charts/frames.svg",
    ]);
    const cpu = parseSvg(report.charts[1]?.svg as string);
    const worker = seriesGroups(cpu).get("media worker (this project)") as Node;
    expect(findAll(worker, "circle")).toHaveLength(2);
    // The floor was measured at 100 calls only: one marker, no line.
    const floor = seriesGroups(cpu).get("floor: raw batched WebSocket") as Node;
    expect(findAll(floor, "rect")).toHaveLength(1);
    expect(findAll(floor, "polyline")).toHaveLength(0);
    expect([...seriesGroups(cpu).keys()]).toEqual([
      "media worker (this project)",
      "protocol echo, no engine",
      "floor: raw batched WebSocket",
      "JSON + base64, a socket per call (peer)",
      "JSON + base64, one shared socket",
    ]);
    const shared = seriesGroups(cpu).get("JSON + base64, one shared socket") as Node;
    expect(findAll(shared, "path")).toHaveLength(1);
    expect(findAll(shared, "polyline")).toHaveLength(0);
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
    const report = buildReport(dir, manifest);
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
    expect(buildReport(dir, manifest).load[0]?.jsonBase64Layout).toBe("shared");
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
    const report = buildReport(dir, repeated);
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
    expect(buildReport(dir, manifest).summary).not.toContain("(`--repeat`)");
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
      return buildReport(dir, { ...manifest, files: { ...manifest.files, load: names } }).load[0];
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
    const s = buildReport(dir, { ...manifest, files: { ...manifest.files, load: names } }).summary;
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
    const report = buildReport(dir, manifest);
    expect(rowOf(report.summary, "| notification → answer sent")).toBe(
      "| notification → answer sent (the bot's own cost) | 0 | - | - | - | p99 ≤ 10 ms | NOT MET (1000 unanswered) |",
    );
    expect(report.summary).toContain("**Only 0 of 1000 calls were answered.**");
    expect(report.summary).toContain(
      "Commits:\n\n- `abcdef123456`: bench:answer, bench:frames, bench:load 100 calls\n- `0123456789ab-dirty` (with uncommitted changes): bench:load 1000 calls",
    );
    const chart = report.charts.find((c) => c.file === "charts/answer-latency.svg")?.svg as string;
    parseSvg(chart);
    expect(chart).toContain(">no data<");
    expect(chart).toContain("0 of 1000 calls answered");
  });

  it("names the file and the field of a malformed result", async () => {
    const manifest = await writeFixtures(dir);
    await writeFile(
      path.join(dir, "load-100.json"),
      JSON.stringify(loadFixture(100, { echoRoundTripP99Ms: "fast" })),
    );
    expect(() => buildReport(dir, manifest)).toThrow(
      'load-100.json: echoRoundTripP99Ms must be a finite number, got "fast"',
    );
    await writeFile(path.join(dir, "load-100.json"), "{not json");
    expect(() => buildReport(dir, manifest)).toThrow(/load-100.json: cannot read it as JSON/);
    await writeFile(
      path.join(dir, "load-100.json"),
      JSON.stringify(loadFixture(100, { jsonBase64Layout: "sideways" })),
    );
    expect(() => buildReport(dir, manifest)).toThrow(
      'load-100.json: jsonBase64Layout must be perCall or shared or null, got "sideways"',
    );
    await writeFile(
      path.join(dir, "load-100.json"),
      JSON.stringify(loadFixture(100, { jsonBase64Layout: null })),
    );
    expect(() => buildReport(dir, manifest)).toThrow(
      "load-100.json: jsonBase64Layout must be perCall or shared when jsonBase64CpuUsPerFrame is set",
    );
    expect(() =>
      buildReport(dir, { ...manifest, files: { ...manifest.files, load: ["../x.json"] } }),
    ).toThrow(/plain names/);
  });

  it("rebuilds the report from the manifest and publishes it only for a real run", async () => {
    await writeFixtures(dir);
    const docs = await mkdtemp(path.join(tmpdir(), "bench-suite-docs-"));
    try {
      const plan = planFromArgs(parseArgs(["--report-only", "--publish", "--results-dir", dir]), "unused");
      const out = new Sink();
      const err = new Sink();
      const outcome = await runSuite(plan, "test", { out, err, docsDir: docs });
      expect(err.text).toBe("");
      expect(outcome.exitCode).toBe(0);
      expect((await readdir(docs)).sort()).toEqual(["charts", "summary.md"]);
      expect((await readdir(path.join(docs, "charts"))).sort()).toEqual([
        "answer-latency.svg",
        "frames.svg",
        "load-cpu.svg",
        "load-latency.svg",
      ]);
      expect(await readFile(path.join(docs, "summary.md"), "utf8")).toBe(
        await readFile(path.join(dir, "summary.md"), "utf8"),
      );

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

    const latency = parseSvg(await readFile(path.join(dir, "charts", "load-latency.svg"), "utf8"));
    const latencySeries = seriesGroups(latency);
    expect([...latencySeries.keys()]).toEqual([
      "frame transit p50 (≤)",
      "frame transit p99 (≤)",
      "render lateness p99 (≤)",
      "echo round trip p50",
      "echo round trip p99",
    ]);
    // Echo round trip is always measured (HDR at the far end): a point per call count.
    expect(findAll(latencySeries.get("echo round trip p50"), "path")).toHaveLength(2);
    const cpu = parseSvg(await readFile(path.join(dir, "charts", "load-cpu.svg"), "utf8"));
    const cpuSeries = seriesGroups(cpu);
    expect([...cpuSeries.keys()]).toEqual([
      "media worker (this project)",
      "protocol echo, no engine",
      "floor: raw batched WebSocket",
      "JSON + base64, a socket per call (peer)",
      "JSON + base64, one shared socket",
    ]);
    for (const series of cpuSeries.values()) expect(findAll(series, "polyline")).toHaveLength(1);
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
    parseSvg(await readFile(path.join(dir, "charts", "answer-latency.svg"), "utf8"));
    parseSvg(await readFile(path.join(dir, "charts", "frames.svg"), "utf8"));
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
