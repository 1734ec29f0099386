/**
 * The Graph emulator takes the createCall bodies the bot builds to join a meeting or call a user
 * (src/graph/outgoing-call-requests.ts): 201 with the call establishing, then establishing ->
 * established notifications to the callback; and refuses bodies that do not name whom to reach,
 * with Graph's error shape and nothing created.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GraphEmulator } from "../../../src/emulator/graph/graph-emulator.js";
import {
  callUserRequest,
  joinMeetingByIdRequest,
  joinMeetingByUrlRequest,
  type OutgoingCallOptions,
} from "../../../src/graph/outgoing-call-requests.js";
import type { CreateCallRequest } from "../../../src/graph/types.js";
import type { BotReceiver } from "./bot-receiver.js";
import { acquireToken, control, graph, mediaBlob, startEmulatorWithBot, TENANT } from "./graph-test-kit.js";

const ORGANIZER = "550fae72-d251-43ec-868c-373732c2704f";
const THREAD = "19:meeting_NTg0NmQ3NTctZDVkZC00YzRhLThmNmEtOGQ3M2E0ODdmZDZk@thread.v2";
const JOIN_URL = `https://teams.microsoft.com/l/meetup-join/${encodeURIComponent(THREAD)}/0?context=${encodeURIComponent(`{"Tid":"${TENANT}","Oid":"${ORGANIZER}"}`)}`;

let emulator: GraphEmulator;
let bot: BotReceiver;
let token: string;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ emulator, bot, close } = await startEmulatorWithBot());
  token = await acquireToken(emulator);
});
afterAll(() => close());

/** The builders insist on https; the emulator also takes this test's loopback http receiver. */
function options(): OutgoingCallOptions {
  return { callbackUri: "https://bot.contoso.com/api/calls", mediaBlob: mediaBlob() };
}

function toTestBot(body: CreateCallRequest): CreateCallRequest {
  return { ...body, callbackUri: bot.url };
}

/** States of the call's "updated" notifications, in arrival order. */
function notifiedStates(callId: string): string[] {
  return bot
    .notificationsFor(callId)
    .map((n) =>
      n.changeType === "updated" ? (n.resourceData as { state?: string } | undefined)?.state : undefined,
    )
    .filter((state): state is string => state !== undefined);
}

async function createdThenEstablished(body: CreateCallRequest): Promise<Record<string, unknown>> {
  const created = await graph(emulator, "POST", "/communications/calls", token, toTestBot(body));
  expect(created.status).toBe(201);
  const call = created.json() as Record<string, unknown> & { id: string };
  expect(call).toMatchObject({
    "@odata.type": "#microsoft.graph.call",
    state: "establishing",
    direction: "outgoing",
  });
  await emulator.waitForCallState(call.id, "established");
  await bot.waitUntil(() => notifiedStates(call.id).includes("established"));
  expect(notifiedStates(call.id).slice(0, 2)).toEqual(["establishing", "established"]);
  return call;
}

describe("joining a meeting and calling a user on the Graph emulator", () => {
  it("joins by join link (chatInfo + organizerMeetingInfo): 201 establishing, then established", async () => {
    const body = joinMeetingByUrlRequest(JOIN_URL, options());
    const call = await createdThenEstablished(body);
    expect(call.chatInfo).toEqual({ threadId: THREAD, messageId: "0" });
    expect(call.meetingInfo).toEqual(body.meetingInfo);
    expect(call.tenantId).toBe(TENANT);
  });

  it("joins by meeting id and passcode (joinMeetingIdMeetingInfo, no chatInfo)", async () => {
    const meeting = await control(emulator, "POST", "/meetings", {
      joinMeetingId: "293654785123",
      passcode: "Xy7pQ2",
    });
    expect(meeting.status).toBe(201);
    const body = joinMeetingByIdRequest(
      { joinMeetingId: "293 654 785 123", passcode: "Xy7pQ2", tenantId: TENANT },
      options(),
    );
    const call = await createdThenEstablished(body);
    expect(call.meetingInfo).toEqual({
      "@odata.type": "#microsoft.graph.joinMeetingIdMeetingInfo",
      joinMeetingId: "293654785123",
      passcode: "Xy7pQ2",
    });
  });

  it("calls a user peer-to-peer", async () => {
    const user = "112f7296-5fa4-42ca-bae8-6a692b15d4b8";
    const call = await createdThenEstablished(callUserRequest({ userId: user, tenantId: TENANT }, options()));
    expect(call.targets).toMatchObject([{ identity: { user: { id: user } } }]);
  });

  it.each([
    [
      "no targets and no meetingInfo",
      (b: Record<string, unknown>) => ({ ...b, chatInfo: undefined, meetingInfo: undefined }),
      /targets or meetingInfo is required/,
    ],
    [
      "organizerMeetingInfo without chatInfo",
      (b: Record<string, unknown>) => ({ ...b, chatInfo: undefined }),
      /chatInfo is required with organizerMeetingInfo/,
    ],
    [
      "chatInfo without threadId",
      (b: Record<string, unknown>) => ({ ...b, chatInfo: { messageId: "0" } }),
      /chatInfo\.threadId is required/,
    ],
    [
      "joinMeetingIdMeetingInfo without joinMeetingId",
      (b: Record<string, unknown>) => ({
        ...b,
        chatInfo: undefined,
        meetingInfo: { "@odata.type": "#microsoft.graph.joinMeetingIdMeetingInfo", passcode: "1" },
      }),
      /joinMeetingId/,
    ],
    [
      "the abstract meetingInfo type",
      (b: Record<string, unknown>) => ({
        ...b,
        meetingInfo: { "@odata.type": "#microsoft.graph.meetingInfo" },
      }),
      /meetingInfo/,
    ],
    [
      "a chatInfo property Graph does not define",
      (b: Record<string, unknown>) => ({ ...b, chatInfo: { thread: THREAD } }),
      /chatInfo\.thread|thread/,
    ],
  ])(
    "refuses a join with %s: 400 in Graph's error shape naming the field, nothing created",
    async (_name, patch, message) => {
      const before = emulator.calls().length;
      const body = JSON.parse(
        JSON.stringify(patch({ ...toTestBot(joinMeetingByUrlRequest(JOIN_URL, options())) })),
      );
      const refused = await graph(emulator, "POST", "/communications/calls", token, body);
      expect(refused.status).toBe(400);
      const error = refused.json().error;
      expect(error.code).toBe("BadRequest");
      expect(error.message).toMatch(message);
      expect(error.innerError["request-id"]).toMatch(/^[0-9a-f-]{36}$/);
      expect(emulator.calls().length).toBe(before);
    },
  );
});
