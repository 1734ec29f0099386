/**
 * Realistic Graph notification bodies (shapes from /work/shared/docs/graph-calling.md and the
 * signaling tests), for fuzzing the parser and the notification endpoint.
 */
export const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";

export function batch(...value: unknown[]): unknown {
  return { "@odata.type": "#microsoft.graph.commsNotifications", value };
}

export function incomingCall(callId: string): unknown {
  return {
    "@odata.type": "#microsoft.graph.commsNotification",
    changeType: "created",
    resourceUrl: `/communications/calls/${callId}`,
    resourceData: {
      "@odata.type": "#microsoft.graph.call",
      state: "incoming",
      direction: "incoming",
      callbackUri: "https://bot.example.com/api/calls",
      source: { identity: { user: { id: "u-1", displayName: "Caller", tenantId: TENANT } } },
      targets: [{ identity: { application: { id: "app" } } }],
      requestedModalities: ["audio"],
      tenantId: TENANT,
      myParticipantId: "p-bot",
      callChainId: "c0c1c2c3-0000-4000-8000-000000000001",
    },
  };
}

export function meetingInvite(callId: string): unknown {
  const base = incomingCall(callId) as { resourceData: Record<string, unknown> };
  return {
    ...base,
    resourceData: {
      ...base.resourceData,
      chatInfo: { threadId: "19:meeting_x@thread.v2", messageId: "0" },
      meetingInfo: { "@odata.type": "#microsoft.graph.organizerMeetingInfo" },
    },
  };
}

export function stateChange(callId: string, state: string): unknown {
  return { changeType: "updated", resourceUrl: `/communications/calls/${callId}`, resourceData: { state } };
}

export function tone(callId: string): unknown {
  return {
    changeType: "updated",
    resourceUrl: `/communications/calls/${callId}`,
    resourceData: { state: "established", toneInfo: { tone: "tone7", sequenceId: 3 } },
  };
}

export function ended(callId: string): unknown {
  return {
    changeType: "Deleted",
    resourceUrl: `/communications/calls/${callId}`,
    resourceData: {
      state: "Terminated",
      resultInfo: { code: "200", subCode: "5001", message: "ended by the other side" },
      terminationReason: "AppTerminated",
    },
  };
}

export function roster(callId: string): unknown {
  return {
    changeType: "updated",
    resourceUrl: `/communications/calls/${callId}/participants`,
    resourceData: [
      {
        "@odata.type": "#microsoft.graph.participant",
        id: " p-1 ",
        info: { identity: { user: { id: "u-1" } } },
        mediaStreams: [
          {
            mediaType: "Audio",
            label: "main-audio",
            sourceId: 7,
            direction: "sendReceive",
            serverMuted: false,
          },
        ],
        isMuted: false,
        isInLobby: false,
      },
    ],
  };
}

export function operation(callId: string): unknown {
  return {
    changeType: "deleted",
    resourceUrl: `/communications/calls/${callId}/operations/op-1`,
    resourceData: {
      "@odata.type": "#microsoft.graph.playPromptOperation",
      status: "Completed",
      clientContext: "ctx",
      resultInfo: { code: 200, subcode: 0 },
    },
  };
}

export function legacy(callId: string): unknown {
  return { changeType: "updated", resource: `/app/calls/${callId}`, resourceData: { state: "Established" } };
}

/** One realistic body of each kind for `callId`. */
export function realisticBodies(callId: string): unknown[] {
  return [
    batch(incomingCall(callId)),
    batch(meetingInvite(callId)),
    batch(stateChange(callId, "establishing"), stateChange(callId, "established")),
    batch(tone(callId)),
    batch(ended(callId)),
    batch(roster(callId)),
    batch(operation(callId)),
    batch(legacy(callId)),
    incomingCall(callId),
    batch(incomingCall(callId), stateChange(callId, "Established"), roster(callId), ended(callId)),
  ];
}
