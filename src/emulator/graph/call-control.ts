/**
 * The emulator's side of two call-control actions, transfer and invite, on top of the call
 * engine's public operations (state notifications, roster, operations).
 */
import { randomUUID } from "node:crypto";
import type { CommsOperation, InvitationParticipantInfo, Participant } from "../../graph/types.js";
import { type CallEngine, resourceUrl } from "./call-engine.js";
import type { EmulatedCall } from "./emulated-call.js";
import { personEntry } from "./roster-entries.js";

/** Graph's end code of a transferred call (call-end reason table). */
export const TRANSFER_COMPLETED = { code: 200, subcode: 7015, message: "The call was transferred." } as const;

/**
 * transfer: the call goes `transferring` (notified), then, the target having taken it, ends
 * with 200/7015 after the engine's terminating delay.
 */
export function transferCall(engine: CallEngine, call: EmulatedCall): void {
  call.state = "transferring";
  call.stateHistory.push({ state: "transferring", at: Date.now() });
  void engine.notify(call, [
    {
      changeType: "updated",
      resourceUrl: resourceUrl(call),
      resourceData: {
        "@odata.type": "#microsoft.graph.call",
        "@odata.id": resourceUrl(call),
        state: "transferring",
      },
    },
  ]);
  const timer = setTimeout(() => {
    if (call.state === "transferring") engine.endCall(call, TRANSFER_COMPLETED);
  }, engine.timings.terminatingDelayMs);
  timer.unref();
}

/**
 * invite: each invited identity joins the call's roster at once with a new audio source id
 * (one above the highest in use), the roster is notified, then the completed
 * inviteParticipantsOperation (also returned to the caller).
 */
export function inviteParticipants(
  engine: CallEngine,
  call: EmulatedCall,
  invited: InvitationParticipantInfo[],
  clientContext: string | undefined,
): CommsOperation {
  let sourceId = Math.max(
    0,
    ...call.participants.flatMap((p) => (p.mediaStreams ?? []).map((s) => Number(s.sourceId) || 0)),
  );
  const joined: Participant[] = invited.map((info) =>
    personEntry(randomUUID(), info.identity, ++sourceId, false),
  );
  engine.updateRoster(call, [...call.participants, ...joined]);
  const operation: CommsOperation = {
    "@odata.type": "#microsoft.graph.inviteParticipantsOperation",
    id: randomUUID(),
    status: "Completed",
    ...(clientContext === undefined ? {} : { clientContext }),
    resultInfo: { code: 200, subcode: 0, message: "Success" },
    participants: invited,
  };
  call.operations.push(operation);
  engine.announceOperation(call, operation);
  return operation;
}
