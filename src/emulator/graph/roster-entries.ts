import type { IdentitySet, Participant } from "../../graph/types.js";
import type { ParticipantKind } from "./meeting-spec.js";

/**
 * Graph participant resources for emulated rosters: one audio stream whose sourceId (a uint32,
 * as a string) is the id the media platform uses for that participant's unmixed audio.
 */

/** Emulator-wide source ids: stable per participant, never reused, within uint32. */
export class SourceIds {
  private next = 1000;
  take(): number {
    const id = this.next;
    this.next = this.next >= 0xfffffffe ? 1000 : this.next + 1;
    return id;
  }
}

export function audioStream(sourceId: number) {
  return {
    mediaType: "audio",
    label: "main-audio",
    sourceId: String(sourceId),
    direction: "sendReceive",
    serverMuted: false,
  };
}

/** A person's identity set: user, guest (communicationsIdentitySet.guest) or phone. */
export function personIdentity(
  kind: ParticipantKind,
  id: string,
  displayName: string,
  tenantId: string,
): IdentitySet {
  if (kind === "user") return { user: { id, displayName, tenantId } };
  return {
    "@odata.type": "#microsoft.graph.communicationsIdentitySet",
    [kind]: kind === "guest" ? { id, displayName, tenantId } : { id, displayName },
  } as IdentitySet;
}

export function personEntry(
  participantId: string,
  identity: IdentitySet,
  sourceId: number,
  muted: boolean,
): Participant {
  return {
    id: participantId,
    info: { identity, endpointType: "default", languageId: "en-US" },
    mediaStreams: [audioStream(sourceId)],
    isMuted: muted,
    isInLobby: false,
  };
}

/** The bot's own participant: id == the call's myParticipantId, identity application {id: appId}. */
export function botEntry(
  myParticipantId: string,
  app: { appId: string; displayName?: string },
  sourceId: number,
  inLobby: boolean,
  muted: boolean,
): Participant {
  return {
    id: myParticipantId,
    info: {
      identity: {
        application: { id: app.appId, ...(app.displayName ? { displayName: app.displayName } : {}) },
      },
    },
    mediaStreams: [audioStream(sourceId)],
    isMuted: muted,
    isInLobby: inLobby,
  };
}
