import { randomUUID } from "node:crypto";
import type { Participant, ResultInfo } from "../../graph/types.js";
import type { Logger } from "../../log/logger.js";
import type { CallEngine, OutgoingCallPlan } from "./call-engine.js";
import type { EmulatedCall } from "./emulated-call.js";
import { MAX_MEETING_PARTICIPANTS, type MeetingSpec, type ParticipantSpec } from "./meeting-spec.js";
import { type SpeakerSink, speakersOf } from "./participant-audio.js";
import { botEntry, personEntry, personIdentity, type SourceIds } from "./roster-entries.js";

/** Call-end codes of meeting events (Microsoft's call end reason table; 5001 for "end for all" is assumed). */
export const MEETING_RESULT = {
  lobbyTimeout: {
    code: 200,
    subcode: 5855,
    message: "The call was removed from the lobby after the lobby inactivity timeout.",
  },
  removed: { code: 200, subcode: 5300, message: "The call was removed by another participant." },
  meetingEnded: { code: 200, subcode: 5001, message: "The conversation has ended." },
} as const satisfies Record<string, ResultInfo>;

/** A person in an emulated meeting. */
export interface MeetingParticipant extends ParticipantSpec {
  /** Graph participant id. */
  id: string;
  /** mediaStreams[0].sourceId and the media emulator's unmixed speaker id. */
  sourceId: number;
  state: "waiting" | "present" | "left";
}

/** A bot call in the meeting. */
interface BotSeat {
  call: EmulatedCall;
  app: { appId: string; displayName?: string };
  sourceId: number;
  inLobby: boolean;
  /** Settles the call's admission (true: admitted, false: ended first). */
  settle?: (admitted: boolean) => void;
  /** The lobby inactivity timer while the seat waits: cleared once admitted or the call ends. */
  lobbyTimer?: NodeJS.Timeout;
}

export interface EmulatedMeeting {
  id: string;
  joinUrl: string;
  threadId: string;
  messageId: string;
  organizerId: string;
  organizerName: string;
  tenantId: string;
  joinMeetingId: string;
  passcode: string;
  lobby: MeetingSpec["lobby"];
  lobbyTimeoutMs: number;
  participants: MeetingParticipant[];
  seats: Map<string, BotSeat>;
  ended: boolean;
  timers: Set<NodeJS.Timeout>;
}

/** A meeting as GET /emulator/meetings/:id shows it. */
export function describeMeeting(meeting: EmulatedMeeting) {
  return {
    ...meetingAddress(meeting),
    organizer: { userId: meeting.organizerId, displayName: meeting.organizerName },
    lobby: meeting.lobby ?? null,
    lobbyTimeoutMs: meeting.lobbyTimeoutMs,
    ended: meeting.ended,
    participants: meeting.participants.map(({ id, displayName, userId, kind, sourceId, muted, state }) => ({
      id,
      displayName,
      userId,
      kind,
      sourceId: String(sourceId),
      muted,
      state,
    })),
    botCalls: [...meeting.seats.values()].map((seat) => ({
      callId: seat.call.id,
      participantId: seat.call.myParticipantId,
      state: seat.call.state,
      inLobby: seat.inLobby,
      sourceId: String(seat.sourceId),
    })),
  };
}

/** What POST /emulator/meetings answers. */
export function meetingAddress(meeting: EmulatedMeeting) {
  return {
    id: meeting.id,
    joinUrl: meeting.joinUrl,
    threadId: meeting.threadId,
    messageId: meeting.messageId,
    organizerId: meeting.organizerId,
    tenantId: meeting.tenantId,
    joinMeetingId: meeting.joinMeetingId,
    passcode: meeting.passcode,
  };
}

/** A Teams join link, as src/graph/meeting-join-url.ts parses it. */
function joinUrlOf(threadId: string, tenantId: string, organizerId: string): string {
  const context = encodeURIComponent(JSON.stringify({ Tid: tenantId, Oid: organizerId }));
  return `https://teams.microsoft.com/l/meetup-join/${encodeURIComponent(threadId)}/0?context=${context}`;
}

export interface MeetingsOptions {
  engine: CallEngine;
  sourceIds: SourceIds;
  speakers: () => SpeakerSink | undefined;
  changed: () => void;
  logger: Logger;
}

/**
 * Emulated Teams meetings: people who join, leave and mute on timers or by control request, a
 * lobby that holds joining bots, and the organizer ending the meeting. Every change posts the
 * full roster to each bot call in the meeting and sets the speakers of its media session.
 */
export class Meetings {
  private readonly meetings = new Map<string, EmulatedMeeting>();

  constructor(private readonly options: MeetingsOptions) {}

  create(spec: MeetingSpec): EmulatedMeeting {
    if (this.byJoinMeetingId(spec.joinMeetingId))
      throw new Error(`a meeting with joinMeetingId ${spec.joinMeetingId} exists already`);
    const threadId = `19:meeting_${randomUUID().replaceAll("-", "")}@thread.v2`;
    const meeting: EmulatedMeeting = {
      id: randomUUID(),
      joinUrl: joinUrlOf(threadId, spec.tenantId, spec.organizer.userId),
      threadId,
      messageId: "0",
      organizerId: spec.organizer.userId,
      organizerName: spec.organizer.displayName,
      tenantId: spec.tenantId,
      joinMeetingId: spec.joinMeetingId,
      passcode: spec.passcode,
      lobby: spec.lobby,
      lobbyTimeoutMs: spec.lobbyTimeoutMs,
      participants: [],
      seats: new Map(),
      ended: false,
      timers: new Set(),
    };
    this.meetings.set(meeting.id, meeting);
    for (const participant of spec.participants) this.addParticipant(meeting, participant);
    if (spec.endAfterMs !== undefined) this.after(meeting, spec.endAfterMs, () => this.end(meeting));
    this.options.changed();
    return meeting;
  }

  get(id: string): EmulatedMeeting | undefined {
    return this.meetings.get(id);
  }

  byThread(threadId: string): EmulatedMeeting | undefined {
    for (const meeting of this.meetings.values()) if (meeting.threadId === threadId) return meeting;
    return undefined;
  }

  byJoinMeetingId(joinMeetingId: string): EmulatedMeeting | undefined {
    for (const meeting of this.meetings.values()) if (meeting.joinMeetingId === joinMeetingId) return meeting;
    return undefined;
  }

  /**
   * The plan of a bot call joining the meeting: through the lobby if it has one. `attach` must
   * be called with the created call before the engine asks for admission (it is, synchronously).
   */
  joinPlan(
    meeting: EmulatedMeeting,
    app: { appId: string; displayName?: string },
  ): { plan: OutgoingCallPlan; attach: (call: EmulatedCall) => void } {
    return {
      attach: (call) => {
        call.chatInfo ??= { threadId: meeting.threadId, messageId: meeting.messageId };
        // In the lobby from the start, so an admit that comes before the lobby roster counts.
        const inLobby = meeting.lobby !== undefined;
        meeting.seats.set(call.id, { call, app, sourceId: this.options.sourceIds.take(), inLobby });
        call.participants = this.rosterOf(meeting);
        this.options.changed();
      },
      plan: {
        admission: (call) => this.admission(meeting, call),
        onEstablished: (call) => this.setSpeakers(meeting, call),
        onEnded: (call) => {
          const seat = meeting.seats.get(call.id);
          if (!seat) return;
          seat.settle?.(false);
          meeting.seats.delete(call.id);
          clearLobbyTimer(meeting, seat);
          if (!meeting.ended) this.rosterChanged(meeting);
        },
      },
    };
  }

  /** Admits every bot waiting in the lobby; returns how many. */
  admit(meeting: EmulatedMeeting): number {
    this.requireOpen(meeting);
    let admitted = 0;
    for (const seat of meeting.seats.values()) {
      if (seat.inLobby) {
        this.admitSeat(meeting, seat);
        admitted++;
      }
    }
    return admitted;
  }

  /** A participant joins now, or after spec.joinAfterMs. */
  addParticipant(meeting: EmulatedMeeting, spec: ParticipantSpec): MeetingParticipant {
    this.requireOpen(meeting);
    if (meeting.participants.length >= MAX_MEETING_PARTICIPANTS)
      throw new Error(`a meeting holds at most ${MAX_MEETING_PARTICIPANTS} participants`);
    const participant: MeetingParticipant = {
      ...spec,
      id: randomUUID(),
      sourceId: this.options.sourceIds.take(),
      state: "waiting",
    };
    meeting.participants.push(participant);
    const join = () => {
      if (meeting.ended || participant.state !== "waiting") return;
      participant.state = "present";
      this.rosterChanged(meeting);
      if (spec.leaveAfterMs !== undefined)
        this.after(meeting, spec.leaveAfterMs, () => {
          if (participant.state === "present") this.leave(meeting, participant.id);
        });
    };
    if (spec.joinAfterMs === undefined || spec.joinAfterMs === 0) join();
    else this.after(meeting, spec.joinAfterMs, join);
    return participant;
  }

  leave(meeting: EmulatedMeeting, participantId: string): void {
    const participant = this.participant(meeting, participantId);
    participant.state = "left";
    this.rosterChanged(meeting);
  }

  setMuted(meeting: EmulatedMeeting, participantId: string, muted: boolean): void {
    const participant = this.participant(meeting, participantId);
    participant.muted = muted;
    this.rosterChanged(meeting);
  }

  /** Someone removes the bot: each of its calls in the meeting ends 200/5300. */
  removeBots(meeting: EmulatedMeeting): number {
    this.requireOpen(meeting);
    const calls = [...meeting.seats.values()].map((seat) => seat.call);
    for (const call of calls) this.options.engine.endCall(call, MEETING_RESULT.removed);
    return calls.length;
  }

  /** The organizer ends the meeting for everyone: bot calls end 200/5001 (assumed, see docs). */
  end(meeting: EmulatedMeeting): void {
    if (meeting.ended) return;
    meeting.ended = true;
    for (const timer of meeting.timers) clearTimeout(timer);
    meeting.timers.clear();
    for (const participant of meeting.participants)
      if (participant.state !== "left") participant.state = "left";
    for (const seat of [...meeting.seats.values()])
      this.options.engine.endCall(seat.call, MEETING_RESULT.meetingEnded);
    this.options.changed();
  }

  close(): void {
    for (const meeting of this.meetings.values()) {
      for (const timer of meeting.timers) clearTimeout(timer);
      meeting.timers.clear();
      for (const seat of meeting.seats.values()) seat.settle?.(false);
    }
  }

  private admission(meeting: EmulatedMeeting, call: EmulatedCall): Promise<boolean> {
    const seat = meeting.seats.get(call.id);
    if (!seat || meeting.ended) return Promise.resolve(false);
    const lobby = meeting.lobby;
    if (!lobby || !seat.inLobby) {
      // No lobby, or admitted already.
      this.rosterChanged(meeting);
      return Promise.resolve(true);
    }
    const admitted = new Promise<boolean>((resolve) => {
      seat.settle = (value) => {
        seat.settle = undefined;
        resolve(value);
      };
    });
    this.rosterChanged(meeting);
    seat.lobbyTimer = this.after(meeting, meeting.lobbyTimeoutMs, () => {
      if (seat.inLobby && meeting.seats.get(call.id) === seat) {
        this.options.logger.info({ callId: call.id, meetingId: meeting.id }, "lobby inactivity timeout");
        this.options.engine.endCall(call, MEETING_RESULT.lobbyTimeout);
      }
    });
    if ("admitAfterMs" in lobby)
      this.after(meeting, lobby.admitAfterMs, () => {
        if (seat.inLobby && meeting.seats.get(call.id) === seat) this.admitSeat(meeting, seat);
      });
    return admitted;
  }

  private admitSeat(meeting: EmulatedMeeting, seat: BotSeat): void {
    seat.inLobby = false;
    clearLobbyTimer(meeting, seat);
    this.rosterChanged(meeting);
    seat.settle?.(true);
  }

  /** The full roster, as every bot call in the meeting sees it. */
  private rosterOf(meeting: EmulatedMeeting): Participant[] {
    const people = meeting.participants
      .filter((p) => p.state === "present")
      .map((p) =>
        personEntry(
          p.id,
          personIdentity(p.kind, p.userId, p.displayName, meeting.tenantId),
          p.sourceId,
          p.muted,
        ),
      );
    const bots = [...meeting.seats.values()].map((seat) =>
      botEntry(seat.call.myParticipantId, seat.app, seat.sourceId, seat.inLobby, seat.call.isMuted),
    );
    return [...people, ...bots];
  }

  /** Posts the new roster to every live bot call and updates the speakers of established ones. */
  private rosterChanged(meeting: EmulatedMeeting): void {
    const roster = this.rosterOf(meeting);
    for (const seat of meeting.seats.values()) {
      if (this.options.engine.isEnded(seat.call) || seat.call.state === "terminating") continue;
      this.options.engine.updateRoster(
        seat.call,
        roster.map((entry) => structuredClone(entry)),
      );
      if (seat.call.state === "established") this.setSpeakers(meeting, seat.call);
    }
    this.options.changed();
  }

  private setSpeakers(meeting: EmulatedMeeting, call: EmulatedCall): void {
    const sink = this.options.speakers();
    const mediaSessionId = call.mediaSession?.mpMediaSessionId;
    if (!sink || !mediaSessionId) return;
    const { speakers, dominant } = speakersOf(meeting.participants.filter((p) => p.state === "present"));
    sink.setSpeakers(mediaSessionId, speakers, dominant).catch((error: unknown) => {
      this.options.logger.warn(
        { callId: call.id, meetingId: meeting.id, err: (error as Error).message },
        "could not set the meeting's speakers on the media emulator",
      );
    });
  }

  private participant(meeting: EmulatedMeeting, participantId: string): MeetingParticipant {
    this.requireOpen(meeting);
    const participant = meeting.participants.find((p) => p.id === participantId);
    if (!participant)
      throw new MeetingNotFoundError(`meeting ${meeting.id} has no participant ${participantId}`);
    if (participant.state !== "present")
      throw new Error(`participant ${participantId} is not in the meeting (${participant.state})`);
    return participant;
  }

  private requireOpen(meeting: EmulatedMeeting): void {
    if (meeting.ended) throw new Error(`meeting ${meeting.id} has ended`);
  }

  private after(meeting: EmulatedMeeting, ms: number, action: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      meeting.timers.delete(timer);
      action();
    }, ms);
    meeting.timers.add(timer);
    return timer;
  }
}

/** A seat left the lobby (admitted, or its call ended): its inactivity timer must not outlive it. */
function clearLobbyTimer(meeting: EmulatedMeeting, seat: BotSeat): void {
  if (seat.lobbyTimer === undefined) return;
  clearTimeout(seat.lobbyTimer);
  meeting.timers.delete(seat.lobbyTimer);
  seat.lobbyTimer = undefined;
}

/** A control request names a meeting or participant that does not exist (answered 404). */
export class MeetingNotFoundError extends Error {}
