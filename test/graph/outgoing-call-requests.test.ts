import { describe, expect, it } from "vitest";
import { CsdlModel } from "../../src/emulator/graph/csdl/csdl-model.js";
import { CsdlValidator, formatViolations } from "../../src/emulator/graph/csdl/csdl-validator.js";
import { METADATA_PATH } from "../../src/emulator/graph/graph-emulator.js";
import { MeetingJoinUrlError } from "../../src/graph/meeting-join-url.js";
import {
  callUserRequest,
  joinMeetingByChatInfoRequest,
  joinMeetingByIdRequest,
  joinMeetingByUrlRequest,
  type OutgoingCallOptions,
} from "../../src/graph/outgoing-call-requests.js";
import { createCallBody, InvalidRequestError } from "../../src/graph/request-bodies.js";
import type { CreateCallRequest } from "../../src/graph/types.js";

/**
 * Microsoft's normative metadata: the repository's copy (test/emulator/graph/csdl-validator.test.ts
 * checks it equals shared/graph/calls-v1.0.csdl.xml wherever that is beside the clone).
 */
const validator = new CsdlValidator(CsdlModel.fromFile(METADATA_PATH));

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const ORGANIZER = "550fae72-d251-43ec-868c-373732c2704f";
const THREAD = "19:meeting_NTg0NmQ3NTctZDVkZC00YzRhLThmNmEtOGQ3M2E0ODdmZDZk@thread.v2";
const JOIN_URL = `https://teams.microsoft.com/l/meetup-join/${encodeURIComponent(THREAD)}/0?context=${encodeURIComponent(`{"Tid":"${TENANT}","Oid":"${ORGANIZER}"}`)}`;
const OPTIONS: OutgoingCallOptions = {
  callbackUri: "https://bot.contoso.com/api/calls",
  mediaBlob: '{"mpUri":"x"}',
};
const MEDIA = { "@odata.type": "#microsoft.graph.appHostedMediaConfig", blob: '{"mpUri":"x"}' };

/** The body is a graph.call by the v1.0 metadata and passes the client's own check unchanged. */
function expectValidCall(request: CreateCallRequest): void {
  expect(formatViolations(validator.validateEntity("microsoft.graph.call", request))).toBe("");
  expect(createCallBody(request)).toEqual(request);
}

function refusal(fn: () => unknown): InvalidRequestError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequestError);
    return error as InvalidRequestError;
  }
  throw new Error("not refused");
}

describe("outgoing call requests", () => {
  it("joins by join link: chatInfo + organizerMeetingInfo with the organizer's tenant", () => {
    const request = joinMeetingByUrlRequest(JOIN_URL, OPTIONS);
    expect(request).toEqual({
      "@odata.type": "#microsoft.graph.call",
      callbackUri: OPTIONS.callbackUri,
      requestedModalities: ["audio"],
      mediaConfig: MEDIA,
      chatInfo: { threadId: THREAD, messageId: "0" },
      meetingInfo: {
        "@odata.type": "#microsoft.graph.organizerMeetingInfo",
        organizer: {
          "@odata.type": "#microsoft.graph.identitySet",
          user: { "@odata.type": "#microsoft.graph.identity", id: ORGANIZER, tenantId: TENANT },
        },
      },
      tenantId: TENANT,
    });
    expectValidCall(request);
    expect(() => joinMeetingByUrlRequest("https://example.com/x", OPTIONS)).toThrow(MeetingJoinUrlError);
  });

  it("joins by chat and organizer, with a channel meeting's reply chain", () => {
    const request = joinMeetingByChatInfoRequest(
      {
        threadId: THREAD,
        messageId: "1605285830000",
        replyChainMessageId: "1605285829000",
        organizerId: ORGANIZER,
        tenantId: TENANT,
      },
      { ...OPTIONS, requestedModalities: ["audio", "video"] },
    );
    expect(request.chatInfo).toEqual({
      threadId: THREAD,
      messageId: "1605285830000",
      replyChainMessageId: "1605285829000",
    });
    expect(request.requestedModalities).toEqual(["audio", "video"]);
    expectValidCall(request);
    expect(
      refusal(() =>
        joinMeetingByChatInfoRequest(
          { threadId: " ", messageId: "0", organizerId: ORGANIZER, tenantId: TENANT },
          OPTIONS,
        ),
      ).field,
    ).toBe("chatInfo.threadId");
    expect(
      refusal(() =>
        joinMeetingByChatInfoRequest(
          { threadId: THREAD, messageId: "0", organizerId: "bob", tenantId: TENANT },
          OPTIONS,
        ),
      ).field,
    ).toBe("meetingInfo.organizer.user.id");
  });

  it("joins by meeting id and passcode: joinMeetingIdMeetingInfo without chatInfo", () => {
    const request = joinMeetingByIdRequest(
      { joinMeetingId: "293 654 785 123", passcode: "Xy7pQ2", tenantId: TENANT },
      OPTIONS,
    );
    expect(request.meetingInfo).toEqual({
      "@odata.type": "#microsoft.graph.joinMeetingIdMeetingInfo",
      joinMeetingId: "293654785123",
      passcode: "Xy7pQ2",
    });
    expect(request.chatInfo).toBeUndefined();
    expect(request.tenantId).toBe(TENANT);
    expectValidCall(request);
    expectValidCall(joinMeetingByIdRequest({ joinMeetingId: "1234567", tenantId: TENANT }, OPTIONS));
    expect(
      refusal(() => joinMeetingByIdRequest({ joinMeetingId: "12a4", tenantId: TENANT }, OPTIONS)).field,
    ).toBe("meetingInfo.joinMeetingId");
    expect(
      refusal(() =>
        joinMeetingByIdRequest({ joinMeetingId: "1234", passcode: "", tenantId: TENANT }, OPTIONS),
      ).field,
    ).toBe("meetingInfo.passcode");
    expect(
      refusal(() => joinMeetingByIdRequest({ joinMeetingId: "1234", tenantId: "contoso" }, OPTIONS)).field,
    ).toBe("tenantId");
  });

  it("calls a user peer-to-peer: one invitationParticipantInfo target with the user's id and tenant", () => {
    const user = "112f7296-5fa4-42ca-bae8-6a692b15d4b8";
    const request = callUserRequest({ userId: user, tenantId: TENANT, displayName: "Ada" }, OPTIONS);
    expect(request.targets).toEqual([
      {
        "@odata.type": "#microsoft.graph.invitationParticipantInfo",
        identity: {
          "@odata.type": "#microsoft.graph.identitySet",
          user: {
            "@odata.type": "#microsoft.graph.identity",
            id: user,
            tenantId: TENANT,
            displayName: "Ada",
          },
        },
      },
    ]);
    expect(request.tenantId).toBe(TENANT);
    expect(request.meetingInfo).toBeUndefined();
    expectValidCall(request);
    expect(
      refusal(() => callUserRequest({ userId: "ada@contoso.com", tenantId: TENANT }, OPTIONS)).field,
    ).toBe("targets[0].identity.user.id");
  });

  it("refuses what createCallBody refuses (callback not https, unknown modality)", () => {
    expect(
      refusal(() => joinMeetingByUrlRequest(JOIN_URL, { ...OPTIONS, callbackUri: "http://bot/api" })).field,
    ).toBe("callbackUri");
    expect(
      refusal(() =>
        callUserRequest(
          { userId: ORGANIZER, tenantId: TENANT },
          { ...OPTIONS, requestedModalities: ["smell" as "audio"] },
        ),
      ).field,
    ).toBe("requestedModalities");
  });
});
