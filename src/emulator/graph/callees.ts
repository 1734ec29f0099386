import { randomUUID } from "node:crypto";
import { isGuid } from "../../config/env-readers.js";
import type { ResultInfo } from "../../graph/types.js";
import type { Logger } from "../../log/logger.js";
import { type Body, stringField, timeoutField } from "../media/control-fields.js";
import type { CallEngine, OutgoingCallPlan } from "./call-engine.js";
import type { EmulatedCall } from "./emulated-call.js";
import { refuseUnknownFields } from "./meeting-spec.js";
import {
  type ParticipantAudio,
  parseParticipantAudio,
  type SpeakerSink,
  speakersOf,
} from "./participant-audio.js";
import { botEntry, personEntry, personIdentity, type SourceIds } from "./roster-entries.js";

/**
 * How peer-to-peer calls to a user end when the callee does not accept. 408/10057 is in
 * Microsoft's call end reason table; 603/0 (declined) and 486/0 (busy) are not: they are the
 * SIP codes for those outcomes, assumed by the emulator (see docs/meetings.md).
 */
export const CALLEE_RESULT = {
  declined: { code: 603, subcode: 0, message: "The callee declined the call." },
  busy: { code: 486, subcode: 0, message: "The callee is busy." },
  noAnswer: { code: 408, subcode: 10057, message: "No signaling from the callee endpoints." },
} as const satisfies Record<string, ResultInfo>;

/** Graph's ring timeout for a P2P call nobody answers (the emulator's default). */
export const DEFAULT_RING_TIMEOUT_MS = 45_000;

export type CalleeAnswer = "accept" | "decline" | "noAnswer" | "busy";
const ANSWERS: readonly CalleeAnswer[] = ["accept", "decline", "noAnswer", "busy"];

/** POST /emulator/users: how an emulated user answers a call from a bot. */
export interface CalleeSpec {
  userId: string;
  tenantId: string | undefined;
  displayName: string;
  answer: CalleeAnswer;
  afterMs: number;
  ringTimeoutMs: number;
  audio: ParticipantAudio | undefined;
}

export function parseCalleeSpec(value: unknown): CalleeSpec {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new Error("the body must be an object");
  const body = value as Body;
  refuseUnknownFields(
    body,
    ["userId", "tenantId", "displayName", "answer", "afterMs", "ringTimeoutMs", "audio"],
    "",
  );
  const userId = stringField(body, "userId");
  if (!isGuid(userId))
    throw new Error(`userId must be a GUID (an Entra user id), got ${JSON.stringify(userId)}`);
  const tenantId = body.tenantId === undefined ? undefined : stringField(body, "tenantId");
  if (tenantId !== undefined && !isGuid(tenantId))
    throw new Error(`tenantId must be a GUID, got ${JSON.stringify(tenantId)}`);
  const answer = stringField(body, "answer") as CalleeAnswer;
  if (!ANSWERS.includes(answer))
    throw new Error(`answer must be one of ${ANSWERS.join(", ")}, got ${JSON.stringify(body.answer)}`);
  return {
    userId,
    tenantId,
    displayName: stringField(body, "displayName", "Emulated User"),
    answer,
    afterMs: timeoutField(body, "afterMs", 0),
    ringTimeoutMs: timeoutField(body, "ringTimeoutMs", DEFAULT_RING_TIMEOUT_MS),
    audio: parseParticipantAudio(body.audio, "audio"),
  };
}

export interface CalleesOptions {
  engine: CallEngine;
  sourceIds: SourceIds;
  speakers: () => SpeakerSink | undefined;
  logger: Logger;
}

/** Emulated users a bot calls peer-to-peer, each answering as registered. */
export class Callees {
  private readonly users = new Map<string, CalleeSpec>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: CalleesOptions) {}

  register(spec: CalleeSpec): void {
    this.users.set(spec.userId.toLowerCase(), spec);
  }

  all(): CalleeSpec[] {
    return [...this.users.values()];
  }

  /** The registered user a createCall body targets (its first target's identity.user.id), if any. */
  calleeOf(body: Record<string, unknown>): CalleeSpec | undefined {
    if (body.meetingInfo || body.chatInfo) return undefined;
    const targets = body.targets as { identity?: { user?: { id?: unknown } } }[] | undefined;
    const id = targets?.[0]?.identity?.user?.id;
    return typeof id === "string" ? this.users.get(id.toLowerCase()) : undefined;
  }

  /** The plan of a call to `callee`: it rings, then the callee answers as registered. */
  callPlan(
    callee: CalleeSpec,
    app: { appId: string; displayName?: string },
  ): { plan: OutgoingCallPlan; attach: (call: EmulatedCall) => void } {
    const sourceId = this.options.sourceIds.take();
    const { engine } = this.options;
    let settle: ((answered: boolean) => void) | undefined;
    return {
      attach: (call) => {
        call.participants = [
          botEntry(call.myParticipantId, app, this.options.sourceIds.take(), false, false),
          personEntry(
            randomUUID(),
            personIdentity("user", callee.userId, callee.displayName, callee.tenantId ?? call.tenantId),
            sourceId,
            false,
          ),
        ];
      },
      plan: {
        admission: (call) =>
          new Promise<boolean>((resolve) => {
            settle = resolve;
            const ending = this.ending(callee);
            const delay = callee.answer === "noAnswer" ? callee.ringTimeoutMs : callee.afterMs;
            this.after(delay, () => {
              if (engine.isEnded(call) || call.state === "terminating") return;
              if (ending) {
                this.options.logger.info(
                  { callId: call.id, answer: callee.answer },
                  "emulated callee did not accept",
                );
                engine.endCall(call, ending);
              } else resolve(true);
            });
          }),
        onEstablished: (call) => {
          const sink = this.options.speakers();
          const mediaSessionId = call.mediaSession?.mpMediaSessionId;
          if (!sink || !mediaSessionId) return;
          const { speakers, dominant } = speakersOf([{ sourceId, audio: callee.audio, muted: false }]);
          sink.setSpeakers(mediaSessionId, speakers, dominant).catch((error: unknown) => {
            this.options.logger.warn(
              { callId: call.id, err: (error as Error).message },
              "could not set the callee's audio on the media emulator",
            );
          });
        },
        onEnded: () => settle?.(false),
      },
    };
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private ending(callee: CalleeSpec): ResultInfo | undefined {
    switch (callee.answer) {
      case "accept":
        return undefined;
      case "decline":
        return CALLEE_RESULT.declined;
      case "busy":
        return CALLEE_RESULT.busy;
      case "noAnswer":
        return CALLEE_RESULT.noAnswer;
    }
  }

  private after(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, ms);
    this.timers.add(timer);
  }
}
