import { randomUUID } from "node:crypto";
import type { CommsOperation, ResultInfo } from "../../graph/types.js";
import type { Logger } from "../../log/logger.js";
import { BYTES_PER_SAMPLE, SAMPLE_RATE_HZ } from "../../media/audio-format.js";
import { readPcm16kWav } from "../../media/wav-file.js";
import type { CallEngine } from "./call-engine.js";
import type { EmulatedCall } from "./emulated-call.js";

/** How long a prompt whose uri has no local file "plays" (documented in docs/graph-emulator.md). */
export const DEFAULT_PROMPT_DURATION_MS = 1000;
/** recordResponse's maxRecordDurationInSeconds when the bot gives none (Graph's default). */
const DEFAULT_RECORD_SECONDS = 5;

/** Graph's resultInfo for these operations (the cancel one as in Graph's cancelMediaProcessing example). */
const PLAYED: ResultInfo = { code: 200, subcode: 0, message: "Action completed, all prompts played." };
const RECORDED: ResultInfo = { code: 200, subcode: 0, message: "Action completed, recording done." };
const CANCELLED: ResultInfo = {
  code: 400,
  subcode: 8508,
  message: "Action falied, the operation was cancelled.",
};

/** toneInfo's graph.tone member -> the DTMF key recordResponse's stopTones names. */
const TONE_KEYS: Record<string, string> = {
  star: "*",
  pound: "#",
  a: "A",
  b: "B",
  c: "C",
  d: "D",
  ...Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`tone${i}`, String(i)])),
};

interface MediaOperation {
  call: EmulatedCall;
  operation: CommsOperation;
  promptUris: string[];
  /** recordResponse: how long it records after its prompts, and which keys stop it. */
  record?: { ms: number; stopKeys: Set<string> };
  timer?: NodeJS.Timeout;
  /** Resolves the record phase early (a stop tone). */
  stopRecording?: () => void;
  done: boolean;
}

/**
 * Graph's side of service-hosted media in the emulator: playPrompt and recordResponse run one
 * after another per call (as Graph queues them), each answered Running and later announced as a
 * `deleted` operation notification with resultInfo. A prompt "plays" for the real duration of
 * the 16 kHz mono WAV its uri is mapped to (mapPromptFile), else DEFAULT_PROMPT_DURATION_MS.
 */
export class ServiceMedia {
  private readonly queues = new Map<string, MediaOperation[]>();
  private readonly promptFiles = new Map<string, string>();

  constructor(
    private readonly engine: CallEngine,
    private readonly logger: Logger,
    private readonly defaultPromptMs: () => number = () => DEFAULT_PROMPT_DURATION_MS,
  ) {}

  /** Says which local WAV file stands for a prompt's https uri. */
  mapPromptFile(uri: string, filePath: string): void {
    this.promptFiles.set(uri, filePath);
  }

  playPrompt(call: EmulatedCall, promptUris: string[], clientContext: string | undefined): CommsOperation {
    return this.enqueue(call, "#microsoft.graph.playPromptOperation", clientContext, promptUris);
  }

  recordResponse(
    call: EmulatedCall,
    promptUris: string[],
    maxRecordSeconds: number | undefined,
    stopTones: string[],
    clientContext: string | undefined,
  ): CommsOperation {
    return this.enqueue(call, "#microsoft.graph.recordOperation", clientContext, promptUris, {
      ms: (maxRecordSeconds ?? DEFAULT_RECORD_SECONDS) * 1000,
      stopKeys: new Set(stopTones),
    });
  }

  /** Ends the call's running and queued operations, each announced with 400/8508. */
  cancelAll(call: EmulatedCall): number {
    const queue = this.queues.get(call.id) ?? [];
    this.queues.delete(call.id);
    for (const entry of queue) {
      if (entry.timer) clearTimeout(entry.timer);
      this.finish(entry, "Completed", CANCELLED);
    }
    return queue.length;
  }

  /** A caller's tone: ends a recording that lists it among its stopTones. */
  onTone(call: EmulatedCall, tone: string): void {
    const current = this.queues.get(call.id)?.[0];
    const key = TONE_KEYS[tone];
    if (current?.record && key !== undefined && current.record.stopKeys.has(key)) current.stopRecording?.();
  }

  close(): void {
    for (const queue of this.queues.values())
      for (const entry of queue) if (entry.timer) clearTimeout(entry.timer);
    this.queues.clear();
  }

  private enqueue(
    call: EmulatedCall,
    odataType: string,
    clientContext: string | undefined,
    promptUris: string[],
    record?: MediaOperation["record"],
  ): CommsOperation {
    const operation: CommsOperation = {
      "@odata.type": odataType,
      id: randomUUID(),
      status: "Running",
      ...(clientContext === undefined ? {} : { clientContext }),
    };
    call.operations.push(operation);
    let queue = this.queues.get(call.id);
    if (!queue) {
      queue = [];
      this.queues.set(call.id, queue);
    }
    queue.push({ call, operation, promptUris, ...(record ? { record } : {}), done: false });
    if (queue.length === 1) void this.run(call);
    return { ...operation };
  }

  /** Runs the head of the call's queue, then the next. */
  private async run(call: EmulatedCall): Promise<void> {
    if (call.state === "terminated") {
      this.queues.delete(call.id);
      return;
    }
    const entry = this.queues.get(call.id)?.[0];
    if (!entry) return;
    let failure: ResultInfo | undefined;
    let playMs = 0;
    for (const uri of entry.promptUris) {
      const duration = await this.promptDurationMs(uri);
      if (typeof duration === "string") {
        failure = { code: 400, subcode: 0, message: duration };
        break;
      }
      playMs += duration;
    }
    if (entry.done) return;
    if (!failure) {
      await this.wait(entry, playMs);
      if (entry.done) return;
      if (entry.record) {
        const record = entry.record;
        await new Promise<void>((resolve) => {
          entry.stopRecording = resolve;
          entry.timer = setTimeout(resolve, record.ms);
        });
        if (entry.timer) clearTimeout(entry.timer);
        if (entry.done) return;
      }
    }
    const queue = this.queues.get(call.id);
    queue?.shift();
    if (queue?.length === 0) this.queues.delete(call.id);
    if (failure) this.finish(entry, "Failed", failure);
    else this.finish(entry, "Completed", entry.record ? RECORDED : PLAYED);
    void this.run(call);
  }

  private wait(entry: MediaOperation, ms: number): Promise<void> {
    return new Promise((resolve) => {
      entry.timer = setTimeout(resolve, ms);
    });
  }

  /** Milliseconds of the mapped WAV, the default for an unmapped uri, or why it cannot play. */
  private async promptDurationMs(uri: string): Promise<number | string> {
    const file = this.promptFiles.get(uri);
    if (file === undefined) return this.defaultPromptMs();
    try {
      const pcm = await readPcm16kWav(file);
      return Math.round((pcm.length / (BYTES_PER_SAMPLE * SAMPLE_RATE_HZ)) * 1000);
    } catch (error) {
      this.logger.warn({ uri, err: (error as Error).message }, "prompt file cannot be played");
      return `The prompt ${uri} cannot be played.`;
    }
  }

  private finish(entry: MediaOperation, status: "Completed" | "Failed", resultInfo: ResultInfo): void {
    if (entry.done) return;
    entry.done = true;
    entry.operation.status = status;
    entry.operation.resultInfo = resultInfo;
    if (entry.call.state === "terminated") return;
    this.engine.announceOperation(entry.call, entry.operation);
  }
}
