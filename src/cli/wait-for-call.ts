/**
 * --wait of `join` and `call`: polls GET /calls/:id until the call is established (true) or has
 * ended (false), telling the user on stderr when it waits in a lobby and how it ended.
 */
import { Option } from "commander";
import type { CallSummary, PlacedCallInfo } from "../control/calls-api-backend.js";
import { ControlClient, ControlClientError, type ControlFlags } from "./control-client.js";
import { secondsArgument } from "./seconds-argument.js";

/** --wait and --wait-timeout (parsed to milliseconds), on `join` and `call`. */
export function waitOptions(): Option[] {
  return [
    new Option("--wait", "wait until the call is established (exit 0) or ends (exit 1)"),
    new Option("--wait-timeout <s>", "with --wait: give up after this many seconds")
      .argParser(secondsArgument(86_400))
      .default(300_000, "300"),
  ];
}

/** The flags waitOptions() adds, as commander parses them. */
export interface WaitFlags {
  wait?: boolean;
  waitTimeout: number;
}

/**
 * What `join` and `call` do once their body is made: POST it, print the call id, and with --wait
 * follow the call. The result is the command's exit code: 0 placed (or established), 1 it ended first.
 */
export async function placeCallAndWait(
  flags: ControlFlags & WaitFlags,
  path: string,
  body: Record<string, unknown>,
): Promise<number> {
  const client = ControlClient.from(flags);
  const call = await client.request<PlacedCallInfo>("POST", path, body);
  process.stdout.write(`${call.callId}\n`);
  if (!flags.wait) return 0;
  const established = await waitForCall(client, call.callId, {
    timeoutMs: flags.waitTimeout,
    report: (line) => process.stderr.write(`${line}\n`),
  });
  return established ? 0 : 1;
}

export interface WaitOptions {
  timeoutMs: number;
  pollIntervalMs?: number;
  report: (line: string) => void;
}

function describeEnd(call: CallSummary): string {
  const info = call.ended?.resultInfo;
  const code = info ? ` (${info.code}/${info.subcode}${info.message ? `: ${info.message}` : ""})` : "";
  return `ended: ${call.ended?.reason ?? call.state}${code}`;
}

export async function waitForCall(
  client: ControlClient,
  callId: string,
  options: WaitOptions,
): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  let lobbyReported = false;
  for (;;) {
    let call: CallSummary;
    try {
      call = await client.request<CallSummary>("GET", `/calls/${encodeURIComponent(callId)}`);
    } catch (error) {
      if (error instanceof ControlClientError && error.code === "unknown_call") {
        options.report(`call ${callId} ended and is no longer known to the bot`);
        return false;
      }
      throw error;
    }
    if (call.ended !== undefined || call.state === "terminated") {
      options.report(describeEnd(call));
      return false;
    }
    if (call.state === "established") {
      options.report("established");
      return true;
    }
    if (call.inLobby && !lobbyReported) {
      options.report("waiting in the meeting's lobby");
      lobbyReported = true;
    }
    if (Date.now() >= deadline) {
      options.report(`not established after ${Math.round(options.timeoutMs / 1000)} s (state ${call.state})`);
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollIntervalMs ?? 500));
  }
}
