/**
 * Mutated join and P2P createCall bodies (a node replaced, removed, retyped or recased) sent to
 * the Graph emulator: each is created (201, establishing) or refused with 400 in Graph's error
 * shape; never a 500, never a refused body that leaves a call behind.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GraphEmulator } from "../../src/emulator/graph/graph-emulator.js";
import {
  callUserRequest,
  joinMeetingByIdRequest,
  joinMeetingByUrlRequest,
} from "../../src/graph/outgoing-call-requests.js";
import type { BotReceiver } from "../emulator/graph/bot-receiver.js";
import {
  acquireToken,
  graph,
  mediaBlob,
  startEmulatorWithBot,
  TENANT,
} from "../emulator/graph/graph-test-kit.js";
import { fuzzAsync, timeoutFor } from "./fuzz-runner.js";
import { mutatedJson } from "./json-mutations.js";

const THREAD = "19:meeting_NTg0NmQ3NTct@thread.v2";
const JOIN_URL = `https://teams.microsoft.com/l/meetup-join/${encodeURIComponent(THREAD)}/0?context=${encodeURIComponent(`{"Tid":"${TENANT}","Oid":"550fae72-d251-43ec-868c-373732c2704f"}`)}`;

let emulator: GraphEmulator;
let bot: BotReceiver;
let token: string;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ emulator, bot, close } = await startEmulatorWithBot());
  token = await acquireToken(emulator);
  // The meeting the joinMeetingId body names (an unknown id is refused 404).
  emulator.createMeeting({ joinMeetingId: "293654785123", passcode: "Xy7pQ2" });
});

/** The emulator's refusals: a bad body; a wrong passcode; an unknown meeting id or ended meeting. */
const REFUSALS: Record<number, string> = { 400: "BadRequest", 403: "Forbidden", 404: "NotFound" };
afterAll(() => close());

const ciRuns = 150;

describe("POST /communications/calls on the Graph emulator (fuzz)", () => {
  it(
    "creates or refuses mutated join and P2P bodies with Graph's error shape, never a 500",
    async () => {
      const options = { callbackUri: "https://bot.contoso.com/api/calls", mediaBlob: mediaBlob() };
      const bases = [
        joinMeetingByUrlRequest(JOIN_URL, options),
        joinMeetingByIdRequest(
          { joinMeetingId: "293654785123", passcode: "Xy7pQ2", tenantId: TENANT },
          options,
        ),
        callUserRequest({ userId: "112f7296-5fa4-42ca-bae8-6a692b15d4b8", tenantId: TENANT }, options),
      ].map((body) => ({ ...body, callbackUri: bot.url }));
      await fuzzAsync("createCall join bodies", ciRuns, mutatedJson(bases), async (body) => {
        const before = emulator.calls().length;
        const reply = await graph(emulator, "POST", "/communications/calls", token, body);
        expect([201, 400, 403, 404]).toContain(reply.status);
        if (reply.status === 201) {
          expect(reply.json()).toMatchObject({ state: "establishing" });
          expect(emulator.calls().length).toBe(before + 1);
        } else {
          const error = reply.json().error;
          expect(error.code).toBe(REFUSALS[reply.status]);
          expect(typeof error.message).toBe("string");
          expect(emulator.calls().length).toBe(before);
        }
      });
    },
    timeoutFor(ciRuns, 30_000),
  );
});
