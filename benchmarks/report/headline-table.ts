/**
 * The headline table: the few figures someone choosing a project looks for, each against its
 * goal and against the reference it is judged by (the protocol echo: the same transport with
 * no engine; JSON + base64 with a socket per call: the closest peer's design), with the result
 * files it came from. summary.md starts with it and `--publish` writes it into README.md.
 */
import { medianOf } from "../lib/median.js";
import { HEADLINE_GOALS } from "./headline-goals.js";
import type { AnswerResult, JoinResult, LoadPoint } from "./suite-results.js";

export interface HeadlineInput {
  answer: AnswerResult | null;
  load: readonly LoadPoint[];
  /** A join-latency result (bench:answer --join) and the path to show as its source. */
  join: { result: JoinResult; shownAs: string } | null;
}

export const HEADLINE_HEADERS = ["figure", "this project", "goal", "goal met", "compared with", "source"];

const ms = (value: number) =>
  value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
const us = (value: number) => value.toFixed(2);
const verdict = (ok: boolean) => (ok ? "met" : "NOT MET");
const files = (point: LoadPoint) => point.runFigures.map((r) => `\`${r.file}\``).join(", ");
const runsText = (point: LoadPoint) => (point.runs === 1 ? "one run" : `median of ${point.runs} runs`);

function pointAt(load: readonly LoadPoint[], calls: number): LoadPoint | undefined {
  return load.find((p) => p.calls === calls);
}

function notMeasured(figure: string, goal: string): string[] {
  return [figure, "not measured", goal, "not measured", "-", "-"];
}

function echoRow(load: readonly LoadPoint[]): string[] {
  const calls = HEADLINE_GOALS.atCalls;
  const figure = `Echo round trip p50 / p99 at ${calls} calls (far end → bot → far end)`;
  const goal = `≤ ${HEADLINE_GOALS.echoRoundTripP50Ms} / ≤ ${HEADLINE_GOALS.echoRoundTripP99Ms} ms`;
  const p = pointAt(load, calls);
  if (!p) return notMeasured(figure, goal);
  const worstP50 = Math.max(...p.runFigures.map((r) => r.echoRoundTripP50Ms));
  const worstP99 = Math.max(...p.runFigures.map((r) => r.echoRoundTripP99Ms));
  const worst = p.runs > 1 ? `; worst run ${ms(worstP50)} / ${ms(worstP99)} ms` : "";
  const protoP50 = medianOf(p.runFigures.map((r) => r.protocolEchoRoundTripP50Ms));
  const protoP99 = medianOf(p.runFigures.map((r) => r.protocolEchoRoundTripP99Ms));
  const met =
    p.echoRoundTripP50Ms <= HEADLINE_GOALS.echoRoundTripP50Ms &&
    p.echoRoundTripP99Ms <= HEADLINE_GOALS.echoRoundTripP99Ms;
  return [
    figure,
    `${ms(p.echoRoundTripP50Ms)} / ${ms(p.echoRoundTripP99Ms)} ms (${runsText(p)}${worst})`,
    goal,
    verdict(met),
    protoP50 === null || protoP99 === null
      ? "protocol echo: not recorded"
      : `protocol echo (same transport, no engine): ${ms(protoP50)} / ${ms(protoP99)} ms`,
    files(p),
  ];
}

function cpuRow(load: readonly LoadPoint[]): string[] {
  const calls = HEADLINE_GOALS.atCalls;
  const times = HEADLINE_GOALS.maxWorkerOverProtocolEcho;
  const figure = `Worker CPU per frame at ${calls} calls`;
  const goal = `≤ ${times}× the protocol echo`;
  const p = pointAt(load, calls);
  if (!p || p.workerCpuUsPerFrame === null) return notMeasured(figure, goal);
  // The median of each run's own ratio, as the load table's ratio columns.
  const ratio = medianOf(
    p.runFigures.map((r) =>
      r.workerCpuUsPerFrame === null ||
      r.protocolEchoCpuUsPerFrame === null ||
      r.protocolEchoCpuUsPerFrame === 0
        ? null
        : r.workerCpuUsPerFrame / r.protocolEchoCpuUsPerFrame,
    ),
  );
  const compared = [
    p.protocolEchoCpuUsPerFrame === null ? null : `protocol echo ${us(p.protocolEchoCpuUsPerFrame)} µs`,
    p.jsonBase64PerCallCpuUsPerFrame === null
      ? null
      : `JSON + base64, a socket per call (peer's design) ${us(p.jsonBase64PerCallCpuUsPerFrame)} µs`,
  ].filter((c): c is string => c !== null);
  return [
    figure,
    `${us(p.workerCpuUsPerFrame)} µs${ratio === null ? "" : `, ${ratio.toFixed(2)}× the protocol echo`} (${runsText(p)})`,
    goal,
    ratio === null ? "not measured" : verdict(ratio <= times),
    compared.length === 0 ? "-" : compared.join("; "),
    files(p),
  ];
}

function dropsRow(load: readonly LoadPoint[], calls: number): string[] {
  const figure = `Frames dropped or trimmed at ${calls} calls, each run`;
  const goal = "0 in every run";
  const p = pointAt(load, calls);
  if (!p) return notMeasured(figure, goal);
  const perRun = p.runFigures.map((r) => r.framesDropped);
  const trims = p.runFigures.reduce((sum, r) => sum + (r.workerDropsByReason.latency_trim ?? 0), 0);
  const total = perRun.reduce((a, b) => a + b, 0);
  const trimText = total > 0 && trims > 0 ? ` (${trims} of them latency_trim)` : "";
  return [
    figure,
    `${perRun.join(", ")}${trimText}`,
    goal,
    verdict(perRun.every((d) => d === 0)),
    "-",
    files(p),
  ];
}

function answerRow(answer: AnswerResult | null): string[] {
  const figure = "Answer latency p50 / p99 (notification → answer sent)";
  if (!answer) return notMeasured(figure, "-");
  const goals = [
    answer.goalP50Ms === null ? null : `p50 ≤ ${answer.goalP50Ms} ms`,
    answer.goalP99Ms === null ? null : `p99 ≤ ${answer.goalP99Ms} ms`,
  ].filter((g): g is string => g !== null);
  const unanswered = answer.calls - answer.answered;
  const met =
    unanswered > 0
      ? `NOT MET (${unanswered} unanswered)`
      : goals.length === 0
        ? "-"
        : verdict(
            (answer.goalP50Ms === null || answer.toSent.p50Ms <= answer.goalP50Ms) &&
              (answer.goalP99Ms === null || answer.toSent.p99Ms <= answer.goalP99Ms),
          );
  return [
    figure,
    answer.answered === 0
      ? "no call answered"
      : `${ms(answer.toSent.p50Ms)} / ${ms(answer.toSent.p99Ms)} ms (${answer.calls} calls at ${answer.ratePerSecond}/s)`,
    goals.length === 0 ? "-" : goals.join(", "),
    met,
    answer.answered === 0 ? "-" : `to Graph's 202: ${ms(answer.to202.p50Ms)} / ${ms(answer.to202.p99Ms)} ms`,
    `\`${answer.file}\``,
  ];
}

function joinRow(join: HeadlineInput["join"]): string[] {
  const figure = "Meeting join p50 / p99 (createCall sent → established)";
  if (!join) return notMeasured(figure, "-");
  const j = join.result;
  return [
    figure,
    `${ms(j.toEstablished.p50Ms)} / ${ms(j.toEstablished.p99Ms)} ms (${j.established} of ${j.joins} joins at ${j.ratePerSecond}/s)`,
    "no goal",
    "-",
    "the emulator schedules its own waits into each join (a timer setting, not a reading)",
    `\`${join.shownAs}\``,
  ];
}

/** The rows of the headline table, in the order a reader asks the questions. */
export function headlineRows(input: HeadlineInput): string[][] {
  return [
    echoRow(input.load),
    cpuRow(input.load),
    ...HEADLINE_GOALS.noDropsAtCalls.map((calls) => dropsRow(input.load, calls)),
    answerRow(input.answer),
    joinRow(input.join),
  ];
}
