import type { Participant } from "../graph/types.js";
import type { ParticipantKind, RosterParticipant } from "./bot-api.js";

/** What tells the bot's own participant and the meeting's organizer apart from the others. */
export interface RosterContext {
  /** The call's myParticipantId (Graph's id of the bot's own participant). */
  myParticipantId?: string;
  /** The bot's app id: a participant whose identity.application.id is this one is the bot. */
  appId?: string;
  /** AAD user id of the meeting's organizer. */
  organizerId?: string;
}

type Identity = { id?: unknown; displayName?: unknown };

/**
 * Reduces Graph roster participants to what the media side needs: who owns which audio
 * source id, who they are (kind, role) and their state. Done on the signaling thread so only
 * small plain objects cross to the worker. Source ids that are not unsigned 32-bit integers
 * are ignored (Graph sends them as strings).
 */
export function toRosterParticipants(
  participants: readonly Participant[],
  context: RosterContext = {},
): RosterParticipant[] {
  const result: RosterParticipant[] = [];
  for (const participant of participants) {
    if (participant === null || typeof participant !== "object" || typeof participant.id !== "string")
      continue;
    const identity = (participant.info?.identity ?? {}) as Record<string, Identity | undefined>;
    const kind = participantKind(identity);
    const person =
      kind === "unknown"
        ? undefined
        : (identity[IDENTITY_KEYS[kind][0] as string] ?? identity[IDENTITY_KEYS[kind][1] as string]);
    const audioSourceIds: number[] = [];
    for (const stream of Array.isArray(participant.mediaStreams) ? participant.mediaStreams : []) {
      if (stream?.mediaType !== "audio" || typeof stream.sourceId !== "string") continue;
      if (!/^\d{1,10}$/.test(stream.sourceId)) continue;
      const id = Number(stream.sourceId);
      if (id <= 0xffffffff) audioSourceIds.push(id);
    }
    const userId = typeof identity.user?.id === "string" ? identity.user.id : undefined;
    const appId = typeof identity.application?.id === "string" ? identity.application.id : undefined;
    const removed = participant.removedState as { reason?: unknown } | undefined;
    result.push({
      id: participant.id,
      displayName: typeof person?.displayName === "string" ? person.displayName : undefined,
      userId,
      kind,
      // The call's own participant id names the bot; the app id only when that is not known
      // (another instance of the same bot in the meeting is not this call's self).
      role: (
        context.myParticipantId !== undefined
          ? sameId(participant.id, context.myParticipantId)
          : sameId(appId, context.appId)
      )
        ? "self"
        : sameId(userId, context.organizerId)
          ? "organizer"
          : "attendee",
      audioSourceIds,
      isMuted: participant.isMuted === true,
      isInLobby: participant.isInLobby === true,
      ...(typeof removed?.reason === "string" ? { removedReason: removed.reason } : {}),
    });
  }
  return result;
}

/** identitySet members naming each kind, most specific first. */
const IDENTITY_KEYS: Record<Exclude<ParticipantKind, "unknown">, readonly string[]> = {
  guest: ["guest"],
  user: ["user"],
  application: ["application", "applicationInstance"],
  phone: ["phone"],
  device: ["device"],
};

function participantKind(identity: Record<string, Identity | undefined>): ParticipantKind {
  for (const [kind, keys] of Object.entries(IDENTITY_KEYS)) {
    if (keys.some((key) => identity[key] !== null && typeof identity[key] === "object"))
      return kind as ParticipantKind;
  }
  return "unknown";
}

/** GUIDs compare case-insensitively; an absent id matches nothing. */
function sameId(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();
}
