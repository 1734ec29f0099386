/**
 * `npm run bench:frames -- [--sessions S] [--ticks N] [--warmup W] [--evict-mb M]`: per-frame cost, in ns, of
 * decoding a tick's batch of S frames, dispatching each frame to a processor (echo), and
 * encoding the tick's output, for this project's path (bridge codec + the real MediaEngine)
 * and, in the same run, the generated protobufjs code and JSON + base64 per frame.
 * Prints a table and writes benchmarks/results/frames-*.json (--results-dir to write elsewhere).
 * `--evict-mb M` reads and writes M MB of other memory before every tick (untimed), as the real system's
 * far end, kernel socket copies and other sessions do between two 20 ms ticks: the stages then
 * run cache-cold instead of back to back with warm caches (0, the default, = warm).
 */
import {
  bridgePipeline,
  type FramePipeline,
  generatedPipeline,
  jsonBase64Pipeline,
  protocolEchoPipeline,
} from "./lib/frame-pipelines.js";
import { writeResultIn } from "./lib/result-file.js";
import { formatTable, intArg, parseArgs } from "./lib/results.js";

const args = parseArgs();
const sessions = intArg(args, "sessions", 1000);
const ticks = intArg(args, "ticks", 300);
const warmup = intArg(args, "warmup", 100, 0);
const evictMb = intArg(args, "evict-mb", 0, 0);
const resultsDir = args.get("results-dir");
const known = new Set(["sessions", "ticks", "warmup", "evict-mb", "results-dir"]);
/**
 * Read and written before each tick, a word in every 64-byte line, to push the pipeline's
 * memory out of the caches. Not fill(): for large sizes memset uses non-temporal stores that
 * bypass the caches, and the pipeline's memory stayed cached (1000 frames a tick: total
 * 1002-1073 ns/frame with a 64 MB fill, 1588-1712 with this loop, 807-830 warm).
 */
const evictee = new Int32Array((evictMb * 1024 * 1024) / 4);
/** Where the loop's reads go: an exported variable, so neither the reads nor the stores are dead code. */
export let evictSink = 0;
function evict(tick: number): void {
  let sum = 0;
  for (let i = 0; i < evictee.length; i += 16) {
    sum += evictee[i] as number;
    evictee[i] = tick;
  }
  evictSink += sum;
}
for (const name of args.keys()) if (!known.has(name)) throw new Error(`unknown flag --${name}`);

interface PipelineResult {
  name: string;
  frames: number;
  decodeNsPerFrame: number;
  dispatchNsPerFrame: number;
  encodeNsPerFrame: number;
  totalNsPerFrame: number;
  /** CPU time (getrusage) of the three stages per frame: steadier than the clock on a shared machine. */
  cpuNsPerFrame: number;
}

async function measure(pipeline: FramePipeline): Promise<PipelineResult> {
  let tick = 0;
  for (let i = 0; i < warmup; i++) {
    evict(tick);
    pipeline.step(tick++);
  }
  const before = pipeline.framesOut;
  let decode = 0;
  let dispatch = 0;
  let encode = 0;
  let cpu = 0;
  for (let i = 0; i < ticks; i++) {
    evict(tick);
    const t = pipeline.step(tick++);
    decode += t.decodeNs;
    dispatch += t.dispatchNs;
    encode += t.encodeNs;
    cpu += t.cpuNs;
  }
  const frames = pipeline.framesOut - before;
  await pipeline.close();
  // Every frame in must come out: a pipeline that skipped work would look fast.
  if (frames !== ticks * sessions) {
    const why = pipeline.diagnose ? ` (${await pipeline.diagnose()})` : "";
    throw new Error(`${pipeline.name}: ${frames} frames out of ${ticks * sessions} in${why}`);
  }
  const per = (value: number) => Math.round(value / frames);
  return {
    name: pipeline.name,
    frames,
    decodeNsPerFrame: per(decode),
    dispatchNsPerFrame: per(dispatch),
    encodeNsPerFrame: per(encode),
    totalNsPerFrame: per(decode + dispatch + encode),
    cpuNsPerFrame: per(cpu),
  };
}

const results = [
  await measure(await bridgePipeline(sessions)),
  await measure(protocolEchoPipeline(sessions)),
  await measure(generatedPipeline(sessions)),
  await measure(jsonBase64Pipeline(sessions)),
];
const ours = results[0] as PipelineResult;
const protocolEcho = results[1] as PipelineResult;
console.log(
  `\nPer-frame cost: ${sessions} frames a tick, ${ticks} ticks (after ${warmup} warm-up ticks), ns per frame` +
    `${evictMb > 0 ? `, ${evictMb} MB read and written between ticks (cache-cold)` : ""}\n`,
);
console.log(
  formatTable(
    ["design", "decode", "dispatch (echo)", "encode", "total", "× ours", "CPU total"],
    results.map((r) => [
      r.name,
      r.decodeNsPerFrame,
      r.dispatchNsPerFrame,
      r.encodeNsPerFrame,
      r.totalNsPerFrame,
      (r.totalNsPerFrame / ours.totalNsPerFrame).toFixed(2),
      r.cpuNsPerFrame,
    ]),
  ),
);
console.log(
  "\nbridge path: dispatch is the real MediaEngine (frame routing, jitter buffer, echo handler, playout queue);" +
    " encode is the engine's render tick (queue -> FrameBatchWriter).",
);
console.log(
  `protocol echo: the same decoder and writer, each frame copied straight into the batch (timed as dispatch), no engine. ` +
    `engine ÷ protocol echo: ${(ours.totalNsPerFrame / protocolEcho.totalNsPerFrame).toFixed(2)} ` +
    `(the engine's own cost: ${ours.totalNsPerFrame - protocolEcho.totalNsPerFrame} ns per echoed frame); ` +
    `by CPU time ${(ours.cpuNsPerFrame / protocolEcho.cpuNsPerFrame).toFixed(2)} ` +
    `(${ours.cpuNsPerFrame - protocolEcho.cpuNsPerFrame} ns). CPU total: getrusage of the process over the timed stages, ` +
    "which unlike the clock does not count time spent waiting for a core: compare runs on a shared machine with it.",
);
const file = writeResultIn(resultsDir, "frames", {
  sessions,
  ticks,
  warmupTicks: warmup,
  ...(evictMb > 0 ? { evictMbBetweenTicks: evictMb } : {}),
  unit: "ns per frame",
  pipelines: results,
  bridgeNsPerFrame: ours.totalNsPerFrame,
  protocolEchoNsPerFrame: protocolEcho.totalNsPerFrame,
  bridgeOverProtocolEcho: Number((ours.totalNsPerFrame / protocolEcho.totalNsPerFrame).toFixed(3)),
  bridgeOverProtocolEchoCpu: Number((ours.cpuNsPerFrame / protocolEcho.cpuNsPerFrame).toFixed(3)),
  generatedNsPerFrame: results[2]?.totalNsPerFrame,
  jsonBase64NsPerFrame: results[3]?.totalNsPerFrame,
});
console.log(`written ${file}`);
