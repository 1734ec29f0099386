/**
 * `npm run bench`: answer latency, per-frame cost and concurrent-call load, each in its own
 * process, then benchmarks/results/summary.md and SVG charts (docs/benchmarks.md explains
 * them). `--smoke` for CI (under a minute), `--long` for an hour, `--help` for every flag.
 */
import { parseArgs, RESULTS_DIR } from "./lib/results.js";
import { planFromArgs, USAGE } from "./report/suite-plan.js";
import { runSuite, stopCurrentBenchmark } from "./report/suite-runner.js";

const argv = process.argv.slice(2);
let exitCode = 1;
try {
  const args = parseArgs(argv);
  if (args.has("help")) {
    console.log(USAGE);
    exitCode = 0;
  } else {
    const plan = planFromArgs(args, RESULTS_DIR);
    for (const signal of ["SIGINT", "SIGTERM"] as const)
      process.once(signal, () => {
        console.error(`\n${signal}: stopping the running benchmark`);
        void stopCurrentBenchmark().then(() => process.exit(130));
      });
    const command = `npm run bench${argv.length > 0 ? ` -- ${argv.join(" ")}` : ""}`;
    const outcome = await runSuite(plan, command, { out: process.stdout, err: process.stderr });
    exitCode = outcome.exitCode;
  }
} catch (error) {
  console.error(`bench: ${(error as Error).message}`);
}
process.exit(exitCode);
