import type { ProcessMemory } from "../lib/memory-probe.js";
import { formatTable } from "../lib/results.js";
import type { SessionFlow } from "../load/far-end-messages.js";
import type { Growth } from "./growth.js";

/** One sample of every process, every few seconds (raw, kept in the result file). */
export interface SoakSample {
  /** Seconds since the run started. */
  t: number;
  /** The bot process: RSS of all its threads, heap of its main thread (process.memoryUsage()). */
  bot: ProcessMemory | null;
  /** The media worker thread's own V8 heap (media_worker_heap_*_bytes, read on the worker). */
  workerHeapUsedBytes: number | null;
  workerHeapTotalBytes: number | null;
  graphEmulator: ProcessMemory | null;
  /** The media emulator's process (the far end of bench:load, driven as the media host). */
  mediaEmulator: ProcessMemory | null;
  /** Calls established and not ended, as the soak knows them. */
  liveCalls: number;
  /** The bot's calls not terminated (signaling_calls), and the worker's sessions (media_active_sessions). */
  botCalls: number | null;
  workerSessions: number | null;
}

/** What a fault cost: the calls up when it was injected, checked once it should be over. */
export interface FaultOutcome {
  name: string;
  spec: unknown;
  expect: string;
  injectedAtS: number;
  checkedAtS: number;
  /** The injection itself failed (the emulator refused it): nothing else was measured. */
  error?: string;
  /** Calls established and up when the fault was injected. */
  callsUp: number;
  /** Of those, hung up by the soak before the check ended (normal churn, not judged). */
  churnedMeanwhile: number;
  /** Of the rest, still up at the end of the check (none of lost or churned). */
  survived: number;
  /** Of the survivors, those whose echo reached the media host during a 3 s window at the check. */
  survivedWithMedia: number;
  /** Ended by someone else than the soak, by Graph's resultInfo. */
  lost: Record<string, number>;
  /** Up to 10 survivors without media, with their session at the host (null: the host has none). */
  withoutMedia: { callId: string; session: SessionFlow | null; renderFramesIn3s: number | null }[];
  /** Calls placed between injection and check: how many came up, failed (by reason), or were still coming. */
  placedMeanwhile: { placed: number; established: number; failed: Record<string, number>; pending: number };
  /** The bot's counters over the fault's window. */
  bot: {
    bridgeReconnects: number;
    mediaSessionsLost: Record<string, number>;
    callsEnded: Record<string, number>;
    framesDropped: Record<string, number>;
  };
}

export interface ProcessGrowth {
  process: "bot" | "media worker thread" | "graph emulator" | "media emulator";
  measure: string;
  growth: Growth;
}

export interface SoakResult {
  settings: Record<string, unknown>;
  method: string[];
  pids: { bot: number | undefined; graphEmulator: number | undefined; mediaEmulator: number | undefined };
  runSeconds: number;
  rampEndS: number;
  calls: {
    placed: number;
    established: number;
    /** The bot's decisions on incoming calls (signaling_incoming_calls_total). */
    botDecisions: Record<string, number>;
    endedBySoak: number;
    lost: number;
    failed: number;
    /** Every call's end, by fate and reason (Graph's resultInfo). */
    endedWithReason: Record<string, number>;
    /** The bot's calls ended, by the result Graph gave (signaling_calls_ended_total). */
    botCallsEnded: Record<string, number>;
    soakErrors: Record<string, number>;
  };
  frames: {
    workerReceived: number;
    workerSent: number;
    /** media_frames_dropped_total by reason, latency_trim included. */
    droppedByReason: Record<string, number>;
    /** latency_trim: live audio trimmed back to the playout target (a drop by design, not a loss). */
    trimmed: number;
    concealed: number;
    bridgeSendDrops: Record<string, number>;
    bridgeProtocolErrors: Record<string, number>;
    bridgeReconnects: number;
    mediaSessionsLost: Record<string, number>;
    /** The media host's own counters at the end (since its last restart). */
    mediaHost: Record<string, unknown> | null;
  };
  faults: FaultOutcome[];
  memory: ProcessGrowth[];
  /** After every call was hung up: what was still held (all should be 0). */
  residue: {
    botCalls: number | null;
    workerSessions: number | null;
    mediaHostSessions: number | null;
    waitedS: number;
    /** Up to 20 sessions the host still held at the end of the wait, with the soak's record of their call. */
    hostSessionsLeft: (SessionFlow & { call: string })[];
  };
  samples: SoakSample[];
}

const MiB = 1024 * 1024;
const mib = (bytes: number | null, digits = 1) => (bytes === null ? "-" : (bytes / MiB).toFixed(digits));

export function printSoak(result: SoakResult): void {
  const c = result.calls;
  console.log(
    `\nsoak: ${result.settings.calls} calls for ${result.runSeconds.toFixed(0)} s, ${c.placed} placed, ${c.established} established, ${c.endedBySoak} hung up by the soak, ${c.lost} lost, ${c.failed} never established`,
  );
  console.log(
    formatTable(
      ["call end (fate: Graph's reason)", "calls"],
      Object.entries(c.endedWithReason).sort((a, b) => b[1] - a[1]),
    ),
  );
  console.log(
    `bot decisions: ${JSON.stringify(c.botDecisions)}; bot calls ended: ${JSON.stringify(c.botCallsEnded)}`,
  );
  if (Object.keys(c.soakErrors).length > 0)
    console.log(`soak's own request errors: ${JSON.stringify(c.soakErrors)}`);

  const f = result.frames;
  console.log(
    `\nframes: worker received ${f.workerReceived}, sent ${f.workerSent}; trimmed (latency_trim) ${f.trimmed}; concealed ${f.concealed}; bridge reconnects ${f.bridgeReconnects}`,
  );
  const drops = Object.entries(f.droppedByReason).filter(([, n]) => n > 0);
  console.log(formatTable(["frames dropped by reason", "frames"], drops.length > 0 ? drops : [["none", 0]]));
  console.log(
    `bridge send drops ${JSON.stringify(f.bridgeSendDrops)}; bridge protocol errors ${JSON.stringify(f.bridgeProtocolErrors)}; media sessions lost ${JSON.stringify(f.mediaSessionsLost)}`,
  );

  if (result.faults.length > 0) {
    console.log("\nfaults (calls up at injection, checked once it should be over):");
    console.log(
      formatTable(
        [
          "at s",
          "fault",
          "up",
          "churned",
          "survived",
          "with media",
          "lost",
          "placed meanwhile: up/failed/pending",
          "reconnects",
        ],
        result.faults.map((x) => [
          x.injectedAtS.toFixed(0),
          x.error ? `${x.name} (not injected: ${x.error})` : x.name,
          x.callsUp,
          x.churnedMeanwhile,
          x.survived,
          x.survivedWithMedia,
          Object.entries(x.lost)
            .map(([reason, n]) => `${n} ${reason}`)
            .join("; ") || "0",
          `${x.placedMeanwhile.established}/${Object.values(x.placedMeanwhile.failed).reduce((a, b) => a + b, 0)}/${x.placedMeanwhile.pending}`,
          x.bot.bridgeReconnects,
        ]),
      ),
    );
  }

  console.log(
    "\nmemory (measured: first, last, peak; fitted: a least-squares line over the second half of the run, after the ramp; per call = the line's rise over that window / calls ended in it)",
  );
  console.log(
    formatTable(
      [
        "process",
        "measure",
        "first MiB",
        "last MiB",
        "peak MiB",
        "fit MiB/min",
        "r²",
        "fit window s",
        "calls ended",
        "KiB/call",
      ],
      result.memory.map(({ process, measure, growth: g }) => [
        process,
        measure,
        mib(g.firstBytes),
        mib(g.lastBytes),
        mib(g.peakBytes),
        mib(g.bytesPerMinute, 2),
        g.r2 === null ? "-" : g.r2.toFixed(2),
        `${g.fromS.toFixed(0)}-${g.toS.toFixed(0)} (${g.samples})`,
        g.callsEnded,
        g.bytesPerCall === null ? "-" : (g.bytesPerCall / 1024).toFixed(1),
      ]),
    ),
  );
  const r = result.residue;
  console.log(
    `\nafter every call was hung up (waited ${r.waitedS} s): bot calls ${r.botCalls ?? "-"}, worker sessions ${r.workerSessions ?? "-"}, media host sessions ${r.mediaHostSessions ?? "-"} (all should be 0)`,
  );
  for (const left of r.hostSessionsLeft)
    console.log(
      `  left at the media host: call ${left.callId} (${left.attached ? "attached" : "kept for resume"}; the soak's record: ${left.call})`,
    );
}
