import type { InvitationParticipantInfo } from "./types.js";

/** A Teams user by Entra ids, as the bot's code and its settings name one. */
export interface InvitedUser {
  userId: string;
  tenantId: string;
  displayName?: string;
}

/** A user as Graph's invitationParticipantInfo (redirect, transfer and invite targets). */
export function userInvitation(user: InvitedUser): InvitationParticipantInfo {
  return {
    "@odata.type": "#microsoft.graph.invitationParticipantInfo",
    identity: {
      user: {
        id: user.userId,
        tenantId: user.tenantId,
        ...(user.displayName === undefined ? {} : { displayName: user.displayName }),
      },
    },
  };
}
