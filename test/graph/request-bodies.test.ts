import { describe, expect, it } from "vitest";
import {
  answerBody,
  callIdSegment,
  createCallBody,
  recordingStatusBody,
  redirectBody,
  rejectBody,
} from "../../src/graph/request-bodies.js";
import type {
  AnswerRequest,
  CreateCallRequest,
  RecordingStatus,
  RejectReason,
} from "../../src/graph/types.js";
import { refused } from "./helpers.js";

const MEDIA = { "@odata.type": "#microsoft.graph.appHostedMediaConfig", blob: '{"mpUri":"x"}' } as const;
const TARGET = { identity: { user: { id: "8e0f1d7b-0000-4000-8000-000000000001", displayName: "Ada" } } };

describe("answer body", () => {
  const valid: AnswerRequest = {
    callbackUri: "https://bot.contoso.com/api/calls",
    mediaConfig: MEDIA,
    acceptedModalities: ["audio"],
  };

  it("emits exactly the CSDL parameters", () => {
    expect(
      answerBody({
        ...valid,
        participantCapacity: 200,
        callOptions: { "@odata.type": "#microsoft.graph.incomingCallOptions", isDeltaRosterEnabled: true },
        extra: "dropped",
      } as AnswerRequest),
    ).toEqual({
      callbackUri: "https://bot.contoso.com/api/calls",
      mediaConfig: MEDIA,
      acceptedModalities: ["audio"],
      participantCapacity: 200,
      callOptions: { "@odata.type": "#microsoft.graph.incomingCallOptions", isDeltaRosterEnabled: true },
    });
  });

  it.each([
    [{ callbackUri: "http://bot.contoso.com/api/calls" }, "callbackUri must use https"],
    [{ callbackUri: "not a url" }, "callbackUri must be an https URL"],
    [{ mediaConfig: { blob: "x" } }, "mediaConfig must be"],
    [{ mediaConfig: { ...MEDIA, blob: "" } }, "mediaConfig.blob must be a non-empty string"],
    [{ acceptedModalities: [] }, "acceptedModalities must be a non-empty array"],
    [{ acceptedModalities: ["screenSharing"] }, 'acceptedModalities holds "screenSharing"'],
    [{ participantCapacity: 1.5 }, "participantCapacity must be an integer"],
    [{ callOptions: { "@odata.type": "#microsoft.graph.outgoingCallOptions" } }, "callOptions must have"],
    [
      { callOptions: { "@odata.type": "#microsoft.graph.incomingCallOptions", mute: true } },
      "callOptions.mute is not a callOptions property",
    ],
  ])("refuses %j", (patch, message) => {
    expect(refused(() => answerBody({ ...valid, ...patch } as AnswerRequest))).toContain(message);
  });
});

describe("reject, redirect, updateRecordingStatus bodies", () => {
  it("reject: reason and optional callbackUri", () => {
    expect(rejectBody("busy", undefined)).toEqual({ reason: "busy" });
    expect(rejectBody("none", "https://bot/api/calls")).toEqual({
      reason: "none",
      callbackUri: "https://bot/api/calls",
    });
    expect(refused(() => rejectBody("declined" as RejectReason, undefined))).toContain(
      "reason must be one of",
    );
  });

  it("redirect: targets 1..25, timeout 15..90", () => {
    expect(redirectBody([TARGET], 30, "https://bot/api/calls")).toEqual({
      targets: [TARGET],
      timeout: 30,
      callbackUri: "https://bot/api/calls",
    });
    expect(redirectBody([TARGET], undefined, undefined)).toEqual({ targets: [TARGET] });
    expect(refused(() => redirectBody([], 30, undefined))).toContain("targets must be an array of 1..25");
    expect(refused(() => redirectBody(Array(26).fill(TARGET), 30, undefined))).toContain("1..25");
    expect(refused(() => redirectBody([TARGET], 14, undefined))).toContain(
      "timeout must be an integer in 15..90",
    );
    expect(refused(() => redirectBody([TARGET], 91, undefined))).toContain("timeout");
    expect(refused(() => redirectBody([{ identity: {} }], 30, undefined))).toContain(
      "targets[0].identity must name at least one identity",
    );
  });

  it("updateRecordingStatus: status enum, clientContext at most 256 characters", () => {
    expect(recordingStatusBody("recording", "ctx")).toEqual({ status: "recording", clientContext: "ctx" });
    expect(recordingStatusBody("notRecording", undefined)).toEqual({ status: "notRecording" });
    expect(recordingStatusBody("failed", "x".repeat(256)).clientContext).toHaveLength(256);
    expect(refused(() => recordingStatusBody("failed", "x".repeat(257)))).toContain(
      "clientContext must be at most 256 characters, got 257",
    );
    expect(refused(() => recordingStatusBody("unknown" as RecordingStatus, undefined))).toContain("status");
  });
});

describe("createCall body", () => {
  const valid: CreateCallRequest = {
    "@odata.type": "#microsoft.graph.call",
    callbackUri: "https://bot.contoso.com/api/calls",
    requestedModalities: ["audio"],
    mediaConfig: MEDIA,
    targets: [TARGET],
    tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
  };

  it("keeps open-type extras and validates the known parts", () => {
    expect(createCallBody({ ...valid, subject: "hello" })).toEqual({ ...valid, subject: "hello" });
    const meeting = {
      ...valid,
      targets: undefined,
      chatInfo: { threadId: "19:meeting@thread.v2", messageId: "0" },
      meetingInfo: {
        "@odata.type": "#microsoft.graph.organizerMeetingInfo",
        organizer: { user: { id: "u" } },
      },
    };
    expect(createCallBody(meeting).meetingInfo).toEqual(meeting.meetingInfo);
    // Graph's examples annotate chatInfo with its @odata.type; that is not a property.
    const annotated = { ...meeting, chatInfo: { "@odata.type": "#microsoft.graph.chatInfo", threadId: "t" } };
    expect(createCallBody(annotated).chatInfo).toEqual(annotated.chatInfo);
  });

  it.each([
    [{ "@odata.type": "#microsoft.graph.participant" }, '@odata.type must be "#microsoft.graph.call"'],
    [{ targets: undefined }, "targets or meetingInfo is required"],
    [{ meetingInfo: { "@odata.type": "#microsoft.graph.meetingInfo" } }, "meetingInfo must have"],
    [{ chatInfo: { thread: "x" } }, "chatInfo.thread is not a chatInfo property"],
    [
      {
        targets: undefined,
        meetingInfo: { "@odata.type": "#microsoft.graph.organizerMeetingInfo", organizer: TARGET.identity },
      },
      "chatInfo is required with organizerMeetingInfo",
    ],
    [
      {
        meetingInfo: { "@odata.type": "#microsoft.graph.organizerMeetingInfo", organizer: TARGET.identity },
        chatInfo: { messageId: "0" },
      },
      "chatInfo.threadId is required with organizerMeetingInfo",
    ],
    [
      { meetingInfo: { "@odata.type": "#microsoft.graph.organizerMeetingInfo" }, chatInfo: {} },
      "meetingInfo.organizer must be an identitySet object",
    ],
    [
      { meetingInfo: { "@odata.type": "#microsoft.graph.joinMeetingIdMeetingInfo", passcode: "x" } },
      "meetingInfo.joinMeetingId must be a non-empty string",
    ],
    [
      { meetingInfo: { "@odata.type": "#microsoft.graph.tokenMeetingInfo", token: "" } },
      "meetingInfo.token must be a non-empty string",
    ],
    [{ requestedModalities: ["audio", "smell"] }, 'requestedModalities holds "smell"'],
    [
      { source: { identity: { application: "bot" } } },
      "source.identity.application must be an identity object",
    ],
  ])("refuses %j", (patch, message) => {
    expect(refused(() => createCallBody({ ...valid, ...patch } as CreateCallRequest))).toContain(message);
  });
});

describe("call id in the URL", () => {
  it("trims stray whitespace and escapes path characters", () => {
    expect(callIdSegment(" 491f0b00-ffff-4bc9-a43e-b226498ec22a\n")).toBe(
      "491f0b00-ffff-4bc9-a43e-b226498ec22a",
    );
    expect(callIdSegment("a/../b")).toBe("a%2F..%2Fb");
    expect(refused(() => callIdSegment("  "))).toContain("callId");
    expect(refused(() => callIdSegment("a\u0000b"))).toContain("callId");
    expect(refused(() => callIdSegment("x".repeat(257)))).toContain("callId");
  });
});
