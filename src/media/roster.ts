import type { Participant } from "../graph/types.js";
import type { RosterParticipant } from "./bot-api.js";

/**
 * Reduces Graph roster participants to what the media side needs: who owns which audio
 * source id. Done on the signaling thread so only small plain objects cross to the worker.
 * Source ids that are not unsigned 32-bit integers are ignored (Graph sends them as strings).
 */
export function toRosterParticipants(participants: readonly Participant[]): RosterParticipant[] {
  const result: RosterParticipant[] = [];
  for (const participant of participants) {
    if (participant === null || typeof participant !== "object" || typeof participant.id !== "string")
      continue;
    const identity = participant.info?.identity;
    const person = identity?.user ?? identity?.application ?? identity?.phone ?? identity?.device;
    const audioSourceIds: number[] = [];
    for (const stream of Array.isArray(participant.mediaStreams) ? participant.mediaStreams : []) {
      if (stream?.mediaType !== "audio" || typeof stream.sourceId !== "string") continue;
      if (!/^\d{1,10}$/.test(stream.sourceId)) continue;
      const id = Number(stream.sourceId);
      if (id <= 0xffffffff) audioSourceIds.push(id);
    }
    result.push({
      id: participant.id,
      displayName: typeof person?.displayName === "string" ? person.displayName : undefined,
      userId: typeof identity?.user?.id === "string" ? identity.user.id : undefined,
      audioSourceIds,
      isMuted: participant.isMuted === true,
      isInLobby: participant.isInLobby === true,
    });
  }
  return result;
}
