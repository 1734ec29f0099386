/**
 * The result files the suite reports on, read back and checked: a file written by another
 * version of a benchmark, or edited by hand, fails with the file and the field named rather
 * than producing a table of "undefined".
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { GOALS } from "../load/load-result.js";

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number | null;
  node: string;
  platform: string;
  gitCommit: string;
}

interface Recorded {
  /** File name inside the results directory. */
  file: string;
  recordedAt: string;
  machine: Machine;
}

export interface Percentiles {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface AnswerResult extends Recorded {
  calls: number;
  answered: number;
  ratePerSecond: number;
  /** Notification received -> answer request sent (the bot's own cost). */
  toSent: Percentiles;
  /** Notification received -> Graph's 202 to the answer. */
  to202: Percentiles;
  goalP50Ms: number | null;
  goalP99Ms: number | null;
}

/** bench:answer --join: meeting joins placed by the bot, createCall sent -> established. */
export interface JoinResult extends Recorded {
  joins: number;
  established: number;
  ratePerSecond: number;
  toEstablished: Percentiles;
}

export interface FramesPipeline {
  name: string;
  decodeNsPerFrame: number;
  dispatchNsPerFrame: number;
  encodeNsPerFrame: number;
  totalNsPerFrame: number;
}

export interface FramesResult extends Recorded {
  sessions: number;
  ticks: number;
  warmupTicks: number;
  /** This project's design first, as bench:frames writes it. */
  pipelines: FramesPipeline[];
}

/** The designs of one bench:load run, as ratePercent names them. */
export type LoadDesign = "worker" | "floor" | "protocolEcho" | "jsonPerCall" | "jsonShared";

/**
 * One bench:load run's own figures, kept beside the point's medians so a chart or a table can
 * show every run (drops above all: one run that trims is not hidden by two that do not).
 */
export interface LoadRunFigures {
  file: string;
  /** Worker + far-end drops (LoadResult.framesDropped). */
  framesDropped: number;
  /** The worker's media_frames_dropped_total by reason, e.g. latency_trim (empty: not recorded). */
  workerDropsByReason: Record<string, number>;
  /** The far end's own drops (null: not recorded). */
  farEndFramesDropped: number | null;
  skippedTicks: number;
  echoRoundTripP50Ms: number;
  echoRoundTripP99Ms: number;
  /** The protocol echo's round trip at its far end (null: not run, or an older file). */
  protocolEchoRoundTripP50Ms: number | null;
  protocolEchoRoundTripP99Ms: number | null;
  workerCpuUsPerFrame: number | null;
  protocolEchoCpuUsPerFrame: number | null;
  jsonBase64PerCallCpuUsPerFrame: number | null;
}

/** One run's rate by design, with its far end's skipped ticks and drops (null: not recorded). */
export interface RunRate {
  file: string;
  ratePercent: Record<LoadDesign, number | null>;
  farEnd: Record<LoadDesign, { skippedTicks: number | null; framesDropped: number | null }>;
}

export interface LoadPoint extends Recorded {
  calls: number;
  /** bench:load runs behind this point: 1, or the median of several (load-medians.ts). */
  runs: number;
  seconds: number;
  framesDropped: number;
  bridgeSendDropBatches: number;
  skippedTicks: number;
  /** Bucket upper bounds from the worker's Prometheus histograms (null: none observed or > 1 s). */
  transitP50Ms: number | null;
  transitP99Ms: number | null;
  latenessP99Ms: number | null;
  /** HDR histogram at the far end. */
  echoRoundTripP50Ms: number;
  echoRoundTripP99Ms: number;
  workerCpuUsPerFrame: number | null;
  floorCpuUsPerFrame: number | null;
  /** The bridge protocol with no engine (null: not run, or an older file). */
  protocolEchoCpuUsPerFrame: number | null;
  /** JSON + base64 in the layout the goal was judged on (jsonBase64Layout). */
  jsonBase64CpuUsPerFrame: number | null;
  jsonBase64OverWorker: number | null;
  /** perCall: a WebSocket per call (the closest peer's design); null when JSON did not run. */
  jsonBase64Layout: "perCall" | "shared" | null;
  /** The same figures by layout (null: that layout was not measured). */
  jsonBase64PerCallCpuUsPerFrame: number | null;
  jsonBase64PerCallOverWorker: number | null;
  jsonBase64SharedCpuUsPerFrame: number | null;
  jsonBase64SharedOverWorker: number | null;
  workerOverFloor: number | null;
  /** Frames handled as a % of the nominal rate, by design (null: not run, or an older file). */
  ratePercent: {
    worker: number | null;
    floor: number | null;
    protocolEcho: number | null;
    jsonPerCall: number | null;
    jsonShared: number | null;
  };
  /** Every run behind this point (one, or each of the repeated runs), for the rate note. */
  runRates: RunRate[];
  /** Every run behind this point, in the order read: its drops, round trips and CPU. */
  runFigures: LoadRunFigures[];
  /** As judged by bench:load (true, false, or null when not measured). */
  goals: Record<string, boolean | null>;
}

type Json = Record<string, unknown>;

/** Field readers that name the file and the field when a value is missing or of the wrong type. */
class Reader {
  constructor(
    private readonly file: string,
    private readonly data: Json,
  ) {}

  /** Whether the file has the field at all (null counts; older files lack newer fields). */
  has(field: string): boolean {
    return this.at(field) !== undefined;
  }

  private at(field: string): unknown {
    let value: unknown = this.data;
    for (const key of field.split(".")) {
      value = typeof value === "object" && value !== null ? (value as Json)[key] : undefined;
    }
    return value;
  }

  private fail(field: string, expected: string): never {
    throw new Error(
      `${this.file}: ${field} must be ${expected}, got ${JSON.stringify(this.at(field)) ?? "nothing"}`,
    );
  }

  number(field: string): number {
    const value = this.at(field);
    return typeof value === "number" && Number.isFinite(value) ? value : this.fail(field, "a finite number");
  }

  numberOrNull(field: string): number | null {
    const value = this.at(field);
    if (value === null || value === undefined) return null;
    return typeof value === "number" && Number.isFinite(value) ? value : this.fail(field, "a number or null");
  }

  /** One of `values`, or null when missing or null. */
  oneOfOrNull<T extends string>(field: string, values: readonly T[]): T | null {
    const value = this.at(field);
    if (value === null || value === undefined) return null;
    return values.includes(value as T) ? (value as T) : this.fail(field, `${values.join(" or ")} or null`);
  }

  string(field: string): string {
    const value = this.at(field);
    return typeof value === "string" ? value : this.fail(field, "a string");
  }

  array(field: string): unknown[] {
    const value = this.at(field);
    return Array.isArray(value) ? value : this.fail(field, "an array");
  }

  object(field: string): Json {
    const value = this.at(field);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Json)
      : this.fail(field, "an object");
  }

  benchmark(name: string): void {
    if (this.at("benchmark") !== name) this.fail("benchmark", `"${name}"`);
  }

  recorded(): Recorded {
    return {
      file: this.file,
      recordedAt: this.string("recordedAt"),
      machine: {
        cpuModel: this.string("machine.cpuModel"),
        cores: this.number("machine.cores"),
        memoryGiB: this.numberOrNull("machine.memoryGiB"),
        node: this.string("machine.node"),
        platform: this.string("machine.platform"),
        gitCommit: this.string("machine.gitCommit"),
      },
    };
  }

  percentiles(prefix: string): Percentiles {
    const p = prefix === "" ? "" : `${prefix}.`;
    return {
      p50Ms: this.number(`${p}p50Ms`),
      p99Ms: this.number(`${p}p99Ms`),
      maxMs: this.number(`${p}maxMs`),
    };
  }
}

function readJson(dir: string, file: string): Reader {
  if (path.basename(file) !== file)
    throw new Error(`result file names are plain names in the results directory, got "${file}"`);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path.join(dir, file), "utf8"));
  } catch (error) {
    throw new Error(`${file}: cannot read it as JSON: ${(error as Error).message}`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data))
    throw new Error(`${file}: expected a JSON object`);
  return new Reader(file, data as Json);
}

export function readAnswerResult(dir: string, file: string): AnswerResult {
  const r = readJson(dir, file);
  r.benchmark("answer-latency");
  return {
    ...r.recorded(),
    calls: r.number("calls"),
    answered: r.number("answered"),
    ratePerSecond: r.number("ratePerSecond"),
    toSent: r.percentiles(""),
    to202: r.percentiles("to202"),
    goalP50Ms: r.numberOrNull("goal.p50Ms"),
    goalP99Ms: r.numberOrNull("goal.p99Ms"),
  };
}

export function readJoinResult(dir: string, file: string): JoinResult {
  const r = readJson(dir, file);
  r.benchmark("join-latency");
  return {
    ...r.recorded(),
    joins: r.number("joins"),
    established: r.number("established"),
    ratePerSecond: r.number("ratePerSecond"),
    toEstablished: r.percentiles(""),
  };
}

export function readFramesResult(dir: string, file: string): FramesResult {
  const r = readJson(dir, file);
  r.benchmark("frames");
  const pipelines = r.array("pipelines").map((_, i) => ({
    name: r.string(`pipelines.${i}.name`),
    decodeNsPerFrame: r.number(`pipelines.${i}.decodeNsPerFrame`),
    dispatchNsPerFrame: r.number(`pipelines.${i}.dispatchNsPerFrame`),
    encodeNsPerFrame: r.number(`pipelines.${i}.encodeNsPerFrame`),
    totalNsPerFrame: r.number(`pipelines.${i}.totalNsPerFrame`),
  }));
  if (pipelines.length === 0) throw new Error(`${file}: pipelines is empty`);
  return {
    ...r.recorded(),
    sessions: r.number("sessions"),
    ticks: r.number("ticks"),
    warmupTicks: r.number("warmupTicks"),
    pipelines,
  };
}

const LAYOUTS = ["perCall", "shared"] as const;

export function readLoadPoint(dir: string, file: string): LoadPoint {
  const r = readJson(dir, file);
  r.benchmark("load");
  const goals: Record<string, boolean | null> = {};
  for (const [key, value] of Object.entries(r.object("goals"))) {
    if (value !== null && typeof value !== "boolean")
      throw new Error(`${file}: goals.${key} must be true, false or null, got ${JSON.stringify(value)}`);
    goals[key] = value;
  }
  const jsonCpu = r.numberOrNull("jsonBase64CpuUsPerFrame");
  const jsonOverWorker = r.numberOrNull("jsonBase64OverWorker");
  // Files from before both layouts ran in one run name theirs in jsonBase64.layout; one without
  // either came from the default of that time, the shared socket.
  const layout = r.has("jsonBase64Layout")
    ? r.oneOfOrNull("jsonBase64Layout", LAYOUTS)
    : jsonCpu === null
      ? null
      : (r.oneOfOrNull("jsonBase64.layout", LAYOUTS) ?? "shared");
  if (jsonCpu !== null && layout === null)
    throw new Error(
      `${file}: jsonBase64Layout must be perCall or shared when jsonBase64CpuUsPerFrame is set`,
    );
  // Older files measured the shared layout only as the goal's layout.
  const legacy = !r.has("jsonBase64SharedCpuUsPerFrame");
  const sharedCpu = legacy
    ? layout === "shared"
      ? jsonCpu
      : null
    : r.numberOrNull("jsonBase64SharedCpuUsPerFrame");
  const sharedOverWorker = legacy
    ? layout === "shared"
      ? jsonOverWorker
      : null
    : r.numberOrNull("jsonBase64SharedOverWorker");
  if (!("atLeast3xCheaperThanJsonBase64Shared" in goals))
    // Judged here for older files, from their own figure and the same threshold.
    goals.atLeast3xCheaperThanJsonBase64Shared =
      sharedOverWorker === null ? null : sharedOverWorker >= GOALS.minJsonOverWorker;
  const ratePercent = {
    worker: r.numberOrNull("ratePercent.worker"),
    floor: r.numberOrNull("ratePercent.floor"),
    protocolEcho: r.numberOrNull("ratePercent.protocolEcho"),
    jsonPerCall: r.numberOrNull("ratePercent.jsonPerCall"),
    jsonShared: r.numberOrNull("ratePercent.jsonShared"),
  };
  // Each design's run as bench:load writes it: jsonBase64 is the goal's layout, jsonBase64Shared
  // the shared socket's (older files: jsonBase64 alone, in its layout).
  const farEndOf = (run: string | null) => ({
    skippedTicks: run === null ? null : r.numberOrNull(`${run}.farEnd.skippedTicks`),
    framesDropped: run === null ? null : r.numberOrNull(`${run}.farEnd.framesDropped`),
  });
  const workerDropsByReason: Record<string, number> = {};
  if (r.has("worker.workerDrops"))
    for (const reason of Object.keys(r.object("worker.workerDrops")))
      workerDropsByReason[reason] = r.number(`worker.workerDrops.${reason}`);
  const sharedRun = r.has("jsonBase64Shared.farEnd")
    ? "jsonBase64Shared"
    : layout === "shared"
      ? "jsonBase64"
      : null;
  return {
    ...r.recorded(),
    calls: r.number("calls"),
    runs: 1,
    seconds: r.number("seconds"),
    framesDropped: r.number("framesDropped"),
    bridgeSendDropBatches: r.number("bridgeSendDropBatches"),
    skippedTicks: r.number("skippedTicks"),
    transitP50Ms: r.numberOrNull("transitP50Ms"),
    transitP99Ms: r.numberOrNull("transitP99Ms"),
    latenessP99Ms: r.numberOrNull("latenessP99Ms"),
    echoRoundTripP50Ms: r.number("echoRoundTripP50Ms"),
    echoRoundTripP99Ms: r.number("echoRoundTripP99Ms"),
    workerCpuUsPerFrame: r.numberOrNull("workerCpuUsPerFrame"),
    floorCpuUsPerFrame: r.numberOrNull("floorCpuUsPerFrame"),
    protocolEchoCpuUsPerFrame: r.numberOrNull("protocolEchoCpuUsPerFrame"),
    jsonBase64CpuUsPerFrame: jsonCpu,
    jsonBase64OverWorker: jsonOverWorker,
    jsonBase64Layout: layout,
    jsonBase64PerCallCpuUsPerFrame: layout === "perCall" ? jsonCpu : null,
    jsonBase64PerCallOverWorker: layout === "perCall" ? jsonOverWorker : null,
    jsonBase64SharedCpuUsPerFrame: sharedCpu,
    jsonBase64SharedOverWorker: sharedOverWorker,
    workerOverFloor: r.numberOrNull("workerOverFloor"),
    ratePercent,
    runRates: [
      {
        file,
        ratePercent,
        farEnd: {
          worker: farEndOf("worker"),
          floor: farEndOf("floor"),
          protocolEcho: farEndOf("protocolEcho"),
          jsonPerCall: farEndOf(layout === "perCall" ? "jsonBase64" : null),
          jsonShared: farEndOf(sharedRun),
        },
      },
    ],
    runFigures: [
      {
        file,
        framesDropped: r.number("framesDropped"),
        workerDropsByReason,
        farEndFramesDropped: r.numberOrNull("worker.farEnd.framesDropped"),
        skippedTicks: r.number("skippedTicks"),
        echoRoundTripP50Ms: r.number("echoRoundTripP50Ms"),
        echoRoundTripP99Ms: r.number("echoRoundTripP99Ms"),
        protocolEchoRoundTripP50Ms: r.numberOrNull("protocolEcho.farEnd.echoRoundTrip.p50Ms"),
        protocolEchoRoundTripP99Ms: r.numberOrNull("protocolEcho.farEnd.echoRoundTrip.p99Ms"),
        workerCpuUsPerFrame: r.numberOrNull("workerCpuUsPerFrame"),
        protocolEchoCpuUsPerFrame: r.numberOrNull("protocolEchoCpuUsPerFrame"),
        jsonBase64PerCallCpuUsPerFrame: layout === "perCall" ? jsonCpu : null,
      },
    ],
    goals,
  };
}
